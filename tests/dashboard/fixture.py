"""A small, fully known call log for the dashboard tests: real Parquet files in the real schema.

Times are relative to ``anchor`` (the test run's hour), so the default "Last 7 days" view
holds the current window and the week before holds a smaller previous one. Planted on
purpose: failures (429 with retries, timeouts, 500s), retried-then-fine calls, streams,
tags, an unpriced model, identical repeated requests, classification-like calls on a
large model and long uncapped outputs, so that the suggestion rules have findings.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from callscope.collector.schema import arrow_schema

#: USD per 1M tokens (input, cached input, output), genai-prices' standard rates.
PRICES = {
    "gpt-4o-mini": (0.15, 0.075, 0.60),
    "gpt-4o": (2.50, 1.25, 10.00),
    "text-embedding-3-small": (0.02, 0.02, 0.0),
}
UNPRICED = "ft:gpt-4o-mini-2024-07-18:acme:support:x1"


def anchor_now() -> datetime:
    """The top of the current hour (UTC): every row is placed before it."""
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0)


def price(model: str, input_tokens: int, cached: int, output: int) -> float | None:
    if model not in PRICES:
        return None
    rate_in, rate_cached, rate_out = PRICES[model]
    return ((input_tokens - cached) * rate_in + cached * rate_cached + output * rate_out) / 1e6


@dataclass
class CallLog:
    anchor: datetime
    calls: list[dict[str, Any]] = field(default_factory=list)
    spans: list[dict[str, Any]] = field(default_factory=list)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def call(self, hours_ago: float, **columns: Any) -> dict[str, Any]:
        n = next(self._ids)
        start = self.anchor - timedelta(hours=hours_ago)
        model = columns.get("request_model", "gpt-4o-mini")
        row: dict[str, Any] = {
            "trace_id": f"{n:032x}",
            "span_id": f"{n:016x}",
            "start_time": start,
            "duration_ms": 800.0,
            "service_name": "web",
            "deployment_environment": "prod",
            "provider": "openai",
            "server_address": "api.openai.com",
            "operation": "chat",
            "api": "chat_completions",
            "request_model": model,
            "response_model": model,
            "stream": False,
            "input_tokens": 400,
            "output_tokens": 120,
            "cached_input_tokens": 0,
            "reasoning_tokens": 0,
            "usage_source": "api",
            "status": "ok",
            "http_status": 200,
            "attempts": 1,
            "retry_wait_ms": 0.0,
            "attempt_statuses": ["200"],
            "attempt_durations_ms": None,
            "server_processing_ms": 600.0,
            "ratelimit_remaining_requests": 4000,
            "ratelimit_remaining_tokens": 3_000_000,
            "ratelimit_limit_requests": 5000,
            "ratelimit_limit_tokens": 4_000_000,
            "finish_reasons": ["stop"],
            "request_hash": f"req-{n}",
            "prefix_hash": "prefix-chat",
            "prefix_chars": 1200,
            "input_chars": 1600,
            "input_messages": 2,
            "tags": {"feature": "chat", "customer": "acme"},
            "instrumentation": "callscope",
            "schema_version": 1,
        }
        row.update(columns)
        if row["attempt_durations_ms"] is None:
            row["attempt_durations_ms"] = [row["duration_ms"]]
        if "cost_usd" not in columns:
            cost = price(
                row["request_model"],
                row["input_tokens"] or 0,
                row["cached_input_tokens"] or 0,
                row["output_tokens"] or 0,
            )
            row["cost_usd"] = cost if row["status"] == "ok" else None
        row["end_time"] = start + timedelta(milliseconds=row["duration_ms"])
        self.calls.append(row)
        return row

    def handler(self, trace_id: str, hours_ago: float, route: str) -> None:
        n = next(self._ids)
        start = self.anchor - timedelta(hours=hours_ago)
        self.spans.append(
            {
                "trace_id": trace_id,
                "span_id": f"{n:016x}",
                "parent_span_id": None,
                "name": f"POST {route}",
                "kind": "server",
                "start_time": start,
                "end_time": start + timedelta(seconds=3),
                "duration_ms": 3000.0,
                "service_name": "web",
                "http_route": route,
                "http_method": "POST",
                "http_status": 200,
                "schema_version": 1,
            }
        )

    def write(self, root: Path, name: str = "test-0") -> Path:
        """Write one Parquet file per table and UTC day under ``root`` (the collector's layout)."""
        for table, rows in (("calls", self.calls), ("spans", self.spans)):
            days: dict[str, list[dict[str, Any]]] = {}
            for row in rows:
                days.setdefault(row["start_time"].strftime("%Y-%m-%d"), []).append(row)
            for day, day_rows in days.items():
                folder = root / table / f"date={day}"
                folder.mkdir(parents=True, exist_ok=True)
                pq.write_table(
                    pa.Table.from_pylist(day_rows, schema=arrow_schema(table)), folder / f"{name}.parquet"
                )
        return root


def build(anchor: datetime) -> CallLog:
    """The planted call log (about 230 calls over the last 3 days, 40 more in the week before)."""
    log = CallLog(anchor)
    # Interactive chat, streamed, across two customers and two features.
    for i in range(60):
        row = log.call(
            1 + i * 1.1,
            stream=True,
            ttft_ms=300.0 + 5 * i,
            duration_ms=1500.0 + 40 * i,
            server_processing_ms=None,
            output_tokens=100 + 10 * i,
            cached_input_tokens=0 if i % 3 else 1024,
            input_tokens=1500,
            tags={"feature": "chat" if i % 2 else "search", "customer": "acme" if i % 4 else "globex"},
        )
        if i % 10 == 0:
            log.handler(row["trace_id"], 1 + i * 1.1, "/chat")
    # Classification on a large model: short inputs, 2-token answers, one prompt (right-size the model).
    for i in range(40):
        log.call(
            2 + i * 1.5,
            request_model="gpt-4o",
            response_model="gpt-4o-2024-08-06",
            input_tokens=300,
            output_tokens=2,
            prefix_hash="prefix-triage",
            duration_ms=450.0,
            tags={"feature": "triage", "customer": "acme"},
        )
    # The same request sent again and again within minutes (cache repeated requests).
    for i in range(8):
        log.call(
            5 + i * 0.05,
            request_model="gpt-4o",
            response_model="gpt-4o-2024-08-06",
            request_hash="req-faq",
            input_tokens=2000,
            output_tokens=300,
            duration_ms=3500.0,
            tags={"feature": "faq", "customer": "globex"},
        )
    # A nightly job with long, uncapped answers, some cut by the model's limit (cap output length).
    for i in range(30):
        long_tail = i % 10 == 0
        log.call(
            20 + i * 0.02,
            service_name="batch-jobs",
            output_tokens=6000 if long_tail else 400 + 3 * i,
            finish_reasons=["length"] if long_tail else ["stop"],
            duration_ms=45_000.0 if long_tail else 4000.0,
            server_processing_ms=3700.0,
            prefix_hash="prefix-digest",
            tags={"feature": "digest"},
        )
    # Embeddings.
    for i in range(30):
        log.call(
            3 + i,
            service_name="search",
            operation="embeddings",
            api="embeddings",
            request_model="text-embedding-3-small",
            response_model="text-embedding-3-small",
            input_tokens=200,
            output_tokens=0,
            duration_ms=120.0,
            server_processing_ms=60.0,
            finish_reasons=None,
            prefix_hash=None,
            tags={"feature": "index"},
        )
    # A fine-tuned model genai-prices does not know: no cost.
    for i in range(5):
        log.call(6 + i, request_model=UNPRICED, response_model=UNPRICED, tags={"feature": "support"})
    # Rate limited: retried then fine, and given up after three attempts.
    for i in range(10):
        log.call(
            30 + i * 0.01,
            attempts=2,
            retry_wait_ms=1000.0,
            attempt_statuses=["429", "200"],
            attempt_durations_ms=[150.0, 800.0],
            duration_ms=1950.0,
            ratelimit_remaining_requests=10,
            ratelimit_remaining_tokens=20_000,
        )
    for i in range(6):
        log.call(
            30.5 + i * 0.01,
            status="error",
            error_type="RateLimitError",
            error_code="rate_limit_exceeded",
            http_status=429,
            attempts=3,
            retry_wait_ms=3000.0,
            attempt_statuses=["429", "429", "429"],
            attempt_durations_ms=[150.0, 150.0, 150.0],
            duration_ms=3450.0,
            input_tokens=None,
            output_tokens=None,
            cached_input_tokens=None,
            server_processing_ms=None,
            ratelimit_remaining_requests=0,
            ratelimit_remaining_tokens=0,
            finish_reasons=None,
        )
    for i in range(3):
        log.call(
            40 + i,
            status="error",
            error_type="APITimeoutError",
            http_status=None,
            attempts=3,
            retry_wait_ms=2500.0,
            attempt_statuses=["timeout", "timeout", "timeout"],
            attempt_durations_ms=[10_000.0, 10_000.0, 10_000.0],
            duration_ms=32_500.0,
            input_tokens=None,
            output_tokens=None,
            cached_input_tokens=None,
            server_processing_ms=None,
            finish_reasons=None,
        )
    for i in range(2):
        log.call(
            50 + i,
            status="error",
            error_type="InternalServerError",
            error_code="server_error",
            http_status=500,
            attempts=3,
            retry_wait_ms=1500.0,
            attempt_statuses=["500", "500", "500"],
            attempt_durations_ms=[300.0, 300.0, 300.0],
            duration_ms=2400.0,
            input_tokens=None,
            output_tokens=None,
            cached_input_tokens=None,
            server_processing_ms=None,
            finish_reasons=None,
        )
    # The week before: less traffic, for the changes against the previous period.
    for i in range(40):
        log.call(24 * 7 + 5 + i * 2, duration_ms=900.0, tags={"feature": "chat", "customer": "acme"})
    return log
