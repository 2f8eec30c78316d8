"""Voice Core: capture primitives for phone agents, served over gRPC.

The public surface is small; everything else lives in private modules or subpackages. Its names
are loaded on first use (PEP 562), so ``import voicecore.client`` does not load the server.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from loguru import logger

from voicecore._version import __version__

if TYPE_CHECKING:
    from voicecore.config import Settings
    from voicecore.errors import TransientPrimitiveError
    from voicecore.primitive import (
        Primitive,
        PrimitiveContext,
        PrimitiveParams,
        PrimitiveResult,
    )
    from voicecore.registry import PrimitiveRegistry
    from voicecore.server import serve
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
    "serve",
]

# Each public name and the module that defines it, imported when the name is first read.
_HOMES = {
    "Primitive": "voicecore.primitive",
    "PrimitiveContext": "voicecore.primitive",
    "PrimitiveParams": "voicecore.primitive",
    "PrimitiveRegistry": "voicecore.registry",
    "PrimitiveResult": "voicecore.primitive",
    "Settings": "voicecore.config",
    "TransientPrimitiveError": "voicecore.errors",
    "VoiceCoreService": "voicecore.service",
    "serve": "voicecore.server",
}


def __getattr__(name: str) -> object:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'voicecore' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # later reads skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
