"""Voice Core: capture primitives for phone agents, served over gRPC.

The public surface is small; everything else lives in private modules or subpackages.
"""

from __future__ import annotations

from loguru import logger

from voicecore._version import __version__
from voicecore.config import Settings
from voicecore.errors import TransientPrimitiveError
from voicecore.primitive import (
    Primitive,
    PrimitiveContext,
    PrimitiveParams,
    PrimitiveResult,
)
from voicecore.registry import PrimitiveRegistry
from voicecore.service import VoiceCoreService

logger.disable("voicecore")

__all__ = [
    "Primitive",
    "PrimitiveContext",
    "PrimitiveParams",
    "PrimitiveRegistry",
    "PrimitiveResult",
    "Settings",
    "TransientPrimitiveError",
    "VoiceCoreService",
    "__version__",
]
