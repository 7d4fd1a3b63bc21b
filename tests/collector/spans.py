"""Span records for the collector tests: real peer spans from fixtures, and callscope-shaped ones."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from callscope.collector.records import SpanEvent, SpanRecord
from callscope.instrumentation import attributes as A

FIXTURES = Path(__file__).parent / "fixtures"
PEERS = ("v2", "v2new", "openllmetry", "openllmetry-old", "openinference")

#: 2026-11-29T12:00:00Z in ns.
NOON_NS = 1_795_953_600 * 10**9


def peer_records(peer: str) -> dict[str, list[SpanRecord]]:
    """The spans a peer instrumentation really exported, by case (chat, chat_stream, ...)."""
    data = json.loads((FIXTURES / f"peer-{peer}.json").read_text())
    return {case: [record_from_json(span) for span in spans] for case, spans in data["cases"].items()}


def record_from_json(span: dict[str, Any]) -> SpanRecord:
    return SpanRecord(
        trace_id=span["trace_id"],
        span_id=span["span_id"],
        parent_span_id=span["parent_span_id"],
        name=span["name"],
        kind=span["kind"],
        start_time_ns=span["start_time_ns"],
        end_time_ns=span["end_time_ns"],
        attributes=span["attributes"],
        resource=span["resource"],
        status_code=span["status_code"],
        status_message=span["status_message"],
        scope_name=span["scope_name"],
        events=[SpanEvent(e["name"], e["time_ns"], e["attributes"]) for e in span["events"]],
    )


def callscope_attributes(i: int = 0) -> dict[str, Any]:
    """Every attribute callscope's instrumentation sets on a non-streamed chat call."""
    return {
        A.OPERATION: "chat",
        A.PROVIDER: "openai",
        A.API_TYPE: "chat_completions",
        A.REQUEST_MODEL: "gpt-4o-mini",
        A.RESPONSE_MODEL: "gpt-4o-mini-2024-07-18",
        A.RESPONSE_ID: f"chatcmpl-{i}",
        A.FINISH_REASONS: ("stop",),
        A.INPUT_TOKENS: 2000 + i,
        A.OUTPUT_TOKENS: 500,
        A.CACHED_INPUT_TOKENS: 1024,
        A.CACHE_WRITE_INPUT_TOKENS: 0,
        A.REASONING_TOKENS: 0,
        A.USAGE_SOURCE: "api",
        A.COST_USD: 0.0005232,
        A.STATUS: "ok",
        A.SERVER_ADDRESS: "api.openai.com",
        A.SERVER_PORT: 443,
        A.HTTP_STATUS: 200,
        A.ATTEMPTS: 2,
        A.ATTEMPT_STATUSES: ("429", "200"),
        A.ATTEMPT_DURATIONS_MS: (12.5, 310.0),
        A.RETRY_WAIT_MS: 480.0,
        A.RETRY_AFTER_MS: (500.0, 0.0),
        A.REQUEST_ID: f"req_{i:04d}",
        A.SERVER_PROCESSING_MS: 290.0,
        A.RATELIMIT_REMAINING_REQUESTS: 4999,
        A.RATELIMIT_REMAINING_TOKENS: 1_999_000,
        A.RATELIMIT_LIMIT_REQUESTS: 5000,
        A.RATELIMIT_LIMIT_TOKENS: 2_000_000,
        A.REQUEST_MAX_TOKENS: 256,
        A.REQUEST_TEMPERATURE: 0.2,
        A.REQUEST_CHOICE_COUNT: 2,
        A.REQUEST_TOOL_COUNT: 3,
        A.REQUEST_RESPONSE_FORMAT: "json_schema",
        A.REQUEST_SERVICE_TIER: "flex",
        A.RESPONSE_SERVICE_TIER: "default",
        A.REQUEST_MESSAGE_COUNT: 4,
        A.REQUEST_INPUT_CHARS: 9000,
        A.REQUEST_PREFIX_CHARS: 4100,
        A.REQUEST_HASH: "a" * 64,
        A.PREFIX_HASH: "b" * 64,
        A.SYSTEM_FINGERPRINT: "fp_1234",
        A.TAG_PREFIX + "feature": "summarize",
        A.TAG_PREFIX + "customer": "acme",
    }


def callscope_record(
    i: int = 0,
    *,
    start_ns: int = NOON_NS,
    duration_ns: int = 800_000_000,
    attributes: dict[str, Any] | None = None,
    **overrides: Any,
) -> SpanRecord:
    fields: dict[str, Any] = {
        "trace_id": f"{i + 1:032x}",
        "span_id": f"{i + 1:016x}",
        "parent_span_id": "00000000000000ff",
        "name": "chat gpt-4o-mini",
        "kind": "client",
        "start_time_ns": start_ns,
        "end_time_ns": start_ns + duration_ns,
        "attributes": callscope_attributes(i) if attributes is None else attributes,
        "resource": {
            "service.name": "api",
            "service.version": "2.1.0",
            "deployment.environment.name": "prod",
        },
        "status_code": "unset",
        "scope_name": "callscope.instrumentation",
    }
    fields.update(overrides)
    return SpanRecord(**fields)


def server_record(i: int = 0, *, start_ns: int = NOON_NS) -> SpanRecord:
    """The app's request handler span (a ``spans`` row)."""
    return SpanRecord(
        trace_id=f"{i + 1:032x}",
        span_id="00000000000000ff",
        parent_span_id=None,
        name="POST /summarize",
        kind="server",
        start_time_ns=start_ns - 10_000_000,
        end_time_ns=start_ns + 900_000_000,
        attributes={
            "http.route": "/summarize",
            "http.request.method": "POST",
            "http.response.status_code": 200,
        },
        resource={"service.name": "api"},
        status_code="unset",
        scope_name="opentelemetry.instrumentation.fastapi",
    )
