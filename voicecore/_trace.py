"""Trace ids (what a valid one is, and a new one) and the OpenTelemetry tracer, if any. A leaf,
so the client shares it with the server.

The trace id is echoed as a response header, so it must be a valid header value: visible ASCII
only. HPACK-encoding a long header costs time quadratic in its length in the Python h2 stack,
which is why its bound is the tightest of a request's strings (``voicecore._limits``).

``tracer`` is how the server's spans (``voicecore._tracing``) and the client's
(``voicecore.client._tracing``) learn whether tracing is on: only the OpenTelemetry API is
imported, and until a provider is installed it answers None.
"""

from __future__ import annotations

import functools
import os
import re
import secrets
from typing import Final

from opentelemetry import trace
from opentelemetry.environment_variables import OTEL_PYTHON_TRACER_PROVIDER
from opentelemetry.trace import NoOpTracerProvider, ProxyTracerProvider, Tracer, TracerProvider

from voicecore._version import __version__

__all__ = ["MAX_TRACE_ID", "TRACE_ID_RULE", "is_valid_trace_id", "new_trace_id", "tracer"]

MAX_TRACE_ID: Final = 128
TRACE_ID_RULE: Final = f"1 to {MAX_TRACE_ID} visible ASCII characters (no spaces)"
_TRACE_ID = re.compile(rf"[\x21-\x7e]{{1,{MAX_TRACE_ID}}}")


def is_valid_trace_id(value: str) -> bool:
    """True if ``value`` can be a trace id: 1 to 128 visible ASCII characters."""
    return _TRACE_ID.fullmatch(value) is not None


def new_trace_id() -> str:
    """A fresh W3C-compatible trace id: 32 lowercase hex digits."""
    return secrets.token_hex(16)


#: A provider named by OTEL_PYTHON_TRACER_PROVIDER, which the API installs on first use.
_PROVIDER_FROM_ENV: Final = OTEL_PYTHON_TRACER_PROVIDER in os.environ


def tracer(instrumentation: str) -> Tracer | None:
    """The installed provider's tracer for ``instrumentation`` (its scope name, with voicecore's
    version); None while tracing is off (no provider yet, or a no-op one).

    ``trace.get_tracer_provider()`` looks up an environment variable on every call (2 us,
    several times a call); the provider it returns once one is installed is read directly.
    """
    provider = trace._TRACER_PROVIDER
    if provider is None:
        if not _PROVIDER_FROM_ENV:
            return None
        provider = trace.get_tracer_provider()  # loads and installs the one the variable names
    if isinstance(provider, ProxyTracerProvider | NoOpTracerProvider):
        return None
    return _tracer_of(provider, instrumentation)


@functools.lru_cache(maxsize=8)
def _tracer_of(provider: TracerProvider, instrumentation: str) -> Tracer:
    return provider.get_tracer(instrumentation, __version__)
