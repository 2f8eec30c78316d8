"""Trace ids: what a valid one is, and a new one. A leaf, so the client shares it with the server.

The trace id is echoed as a response header, so it must be a valid header value: visible ASCII
only. HPACK-encoding a long header costs time quadratic in its length in the Python h2 stack,
which is why its bound is the tightest of a request's strings (``voicecore._limits``).
"""

from __future__ import annotations

import re
import secrets
from typing import Final

__all__ = ["MAX_TRACE_ID", "TRACE_ID_RULE", "is_valid_trace_id", "new_trace_id"]

MAX_TRACE_ID: Final = 128
TRACE_ID_RULE: Final = f"1 to {MAX_TRACE_ID} visible ASCII characters (no spaces)"
_TRACE_ID = re.compile(rf"[\x21-\x7e]{{1,{MAX_TRACE_ID}}}")


def is_valid_trace_id(value: str) -> bool:
    """True if ``value`` can be a trace id: 1 to 128 visible ASCII characters."""
    return _TRACE_ID.fullmatch(value) is not None


def new_trace_id() -> str:
    """A fresh W3C-compatible trace id: 32 lowercase hex digits."""
    return secrets.token_hex(16)
