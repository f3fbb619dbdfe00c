"""Tracing (OpenTelemetry) and logging (JSON lines carrying trace and request ids).

W3C ``traceparent`` travels over HTTP (FastAPI and httpx instrumentation) and inside events: the outbox
stores the trace context of the transaction that wrote the event, and the relay publishes it as Kafka
headers, so a trace that starts at an HTTP call continues into every consumer of its events.
"""

from __future__ import annotations

import logging
import random
import re
import sys
from collections.abc import Iterable, Mapping
from contextvars import ContextVar

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, DEFAULT_ON, ParentBased
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags
from pythonjsonlogger.json import JsonFormatter

from onesource.kit.settings import TelemetrySettings

request_id_var: ContextVar[str | None] = ContextVar("onesource_request_id", default=None)

_configured = False


def setup_telemetry(service_name: str, settings: TelemetrySettings) -> None:
    """Install the process-wide tracer provider and log format (once per process)."""
    global _configured
    if _configured:
        return
    _configured = True
    exporter = _exporter(settings)
    # With nowhere to send spans, recording them is pure cost: they are then created unrecorded (trace and span ids
    # only, still propagated and still in the logs) unless the caller's `traceparent` asks for sampling.
    sampler = DEFAULT_ON if exporter is not None else ParentBased(ALWAYS_OFF)
    provider = TracerProvider(resource=Resource.create({"service.name": f"onesource-{service_name}"}), sampler=sampler)
    if exporter is not None:
        provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    _setup_logging(service_name, settings)
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    HTTPXClientInstrumentor().instrument()


def _exporter(settings: TelemetrySettings) -> SpanExporter | None:
    if settings.exporter == "console":
        return ConsoleSpanExporter()
    if settings.exporter == "otlp":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        endpoint = (settings.otlp_endpoint or "http://localhost:4318").rstrip("/") + "/v1/traces"
        return OTLPSpanExporter(endpoint=endpoint)
    return None


class _ContextFilter(logging.Filter):
    def __init__(self, service_name: str) -> None:
        super().__init__()
        self.service_name = service_name

    def filter(self, record: logging.LogRecord) -> bool:
        span_context = trace.get_current_span().get_span_context()
        record.service = self.service_name
        record.trace_id = format(span_context.trace_id, "032x") if span_context.is_valid else None
        record.span_id = format(span_context.span_id, "016x") if span_context.is_valid else None
        record.request_id = request_id_var.get()
        return True


def _setup_logging(service_name: str, settings: TelemetrySettings) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_ContextFilter(service_name))
    if settings.log_json:
        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s %(service)s %(trace_id)s %(span_id)s %(request_id)s",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            )
        )
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(settings.log_level.upper())
    # httpx logs every request at INFO with its whole URL: a line per forwarded call, naming the record (an ID
    # number) in the application log, where the audit log is the place for who read what.
    for noisy in ("aiokafka", "kafka", "httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def current_trace_context() -> dict[str, str]:
    """The current trace context as W3C headers (``traceparent``, ``tracestate``)."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier


def context_from_headers(
    headers: Mapping[str, str] | Iterable[tuple[str, bytes]] | None,
) -> otel_context.Context:
    """Rebuild a trace context from stored W3C headers or Kafka message headers."""
    if headers is None:
        return otel_context.Context()
    if isinstance(headers, Mapping):
        carrier = dict(headers)
    else:
        carrier = {key: value.decode("latin-1") for key, value in headers}
    return propagate.extract(carrier)


def tracer(name: str) -> trace.Tracer:
    """The tracer for a kit or service module."""
    return trace.get_tracer(name)


_TRACEPARENT = re.compile(rb"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")


def sampled_by_caller(headers: Iterable[tuple[bytes, bytes]]) -> bool:
    """Whether the request's W3C ``traceparent`` asks for the trace to be recorded (its sampled flag)."""
    for name, value in headers:
        if name == b"traceparent":
            match = _TRACEPARENT.match(value.strip())
            return match is not None and int(match.group(3), 16) & 0x01 == 1
    return False


def unrecorded_context(headers: Iterable[tuple[bytes, bytes]]) -> otel_context.Context:
    """A trace context for a request whose trace nobody records: the caller's trace id, or a new one, and a new span id.

    What a server span made by the SDK under ``ParentBased(ALWAYS_OFF)`` would give — ids for the logs and for
    propagation to the calls and events it makes — without building the span and its attributes, which nobody
    reads, on every request.
    """
    trace_id = 0
    for name, value in headers:
        if name == b"traceparent":
            match = _TRACEPARENT.match(value.strip())
            if match is not None:
                trace_id = int(match.group(1), 16)
            break
    span = NonRecordingSpan(
        SpanContext(
            trace_id=trace_id or random.getrandbits(128) or 1,
            span_id=random.getrandbits(64) or 1,
            is_remote=False,
            trace_flags=TraceFlags(TraceFlags.DEFAULT),
        )
    )
    return trace.set_span_in_context(span)
