"""The OpenTelemetry SDK installed for one test, with every finished span kept in memory.

OpenTelemetry's global tracer provider can be set once per process; these helpers reset it
around a test (as OpenTelemetry's own test utilities do), so other tests run with tracing off.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.util._once import Once

__all__ = ["installed", "recorded_spans", "reset_global_provider", "span_named", "texts_of"]


def reset_global_provider() -> None:
    """No tracer provider installed: tracing is off, and the next one may be set."""
    trace._TRACER_PROVIDER_SET_ONCE = Once()
    trace._TRACER_PROVIDER = None


@contextmanager
def installed(provider: trace.TracerProvider) -> Iterator[None]:
    """``provider`` as the global tracer provider until the block ends (then tracing is off)."""
    reset_global_provider()
    trace.set_tracer_provider(provider)
    try:
        yield
    finally:
        reset_global_provider()


@contextmanager
def recorded_spans() -> Iterator[InMemorySpanExporter]:
    """The SDK installed, exporting each span as it ends to the in-memory exporter yielded."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    with installed(provider):
        yield exporter
    provider.shutdown()


def span_named(spans: Sequence[ReadableSpan], name: str) -> ReadableSpan:
    """The one span called ``name``."""
    found = [span for span in spans if span.name == name]
    assert len(found) == 1, f"{len(found)} spans named {name!r} in {[s.name for s in spans]}"
    return found[0]


def texts_of(spans: Sequence[ReadableSpan]) -> str:
    """Every attribute and event of ``spans``, names and values, as one string to search."""
    parts: list[str] = []
    for span in spans:
        parts.append(span.name)
        parts.extend(f"{key}={value!r}" for key, value in (span.attributes or {}).items())
        for event in span.events:
            parts.append(event.name)
            parts.extend(f"{key}={value!r}" for key, value in (event.attributes or {}).items())
    return "\n".join(parts)
