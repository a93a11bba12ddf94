"""OpenTelemetry spans for gettcommerce calls: one CLIENT span per HTTP attempt.

    pip install gettcommerce opentelemetry-sdk
    python examples/otel_tracing.py        # runs against an in-process sandbox, prints the spans

``gett.Client(on_attempt=...)`` calls the hook once per HTTP attempt (retries
included, single, batched and asyncio calls alike) after the call has
finished, with the attempt's start time and duration: the span is recorded
with those times.  The hook never sees the API key; ``attempt.path`` holds
ids but no query.  In production, swap the in-memory exporter for your OTLP
exporter.  (For an AsyncClient the hook runs in the event loop's callback,
so the spans are not children of the awaiting task's span.)
"""
from __future__ import annotations

from typing import Callable, List

from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer

import gettcommerce as gett


def span_per_attempt(tracer: Tracer) -> Callable[[gett.Attempt], None]:
    """An ``on_attempt`` hook recording each attempt as a span of ``tracer``."""

    def on_attempt(attempt: gett.Attempt) -> None:
        start = int(attempt.started_at * 1e9)
        span = tracer.start_span(
            f"gett {attempt.method}", kind=SpanKind.CLIENT, start_time=start,
            attributes={
                "http.request.method": attempt.method,
                "url.path": attempt.path,
                "http.response.status_code": attempt.status_code,
                "http.request.resend_count": attempt.attempt - 1,
                "gett.request_id": attempt.request_id or "",
            })
        if attempt.error is not None:
            span.set_attribute("error.type", type(attempt.error).__name__)
            span.set_status(Status(StatusCode.ERROR, str(attempt.error)))
        span.end(end_time=start + int(attempt.elapsed * 1e9))

    return on_attempt


def traced_calls(base_url: str, api_key: str, store_id: str) -> List[ReadableSpan]:
    """Make a few calls with a traced client; the spans they recorded."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("gettcommerce-example")
    with gett.Client(api_key=api_key, base_url=base_url, on_attempt=span_per_attempt(tracer)) as client:
        client.stores.get(store_id)
        client.stores.get_status(store_id)
        try:
            client.stores.get("no-such-store")
        except gett.NotFoundError:
            pass
    provider.shutdown()
    return list(exporter.get_finished_spans())


def main() -> None:
    from gettcommerce.sandbox import Sandbox
    with Sandbox(time_scale=0.001, rate_limits=False) as sandbox:
        store_id = sandbox.create_store(partner_store_id="p-1", name="Pizza")
        for span in traced_calls(sandbox.url, sandbox.api_key, store_id):
            attrs = span.attributes or {}
            took = ((span.end_time or 0) - (span.start_time or 0)) / 1e6
            print(f"{span.name} {attrs['url.path']} -> {attrs['http.response.status_code']} "
                  f"({took:.1f} ms, {span.status.status_code.name})")


if __name__ == "__main__":
    main()
