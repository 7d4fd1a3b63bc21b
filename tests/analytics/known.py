"""A small call log whose every figure is known: the dataset most query tests read.

Window under test: ``WINDOW`` (12 h either side of T0); two more calls a day earlier
fall in the previous window of equal length.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from callscope.analytics import Filters

from tests.analytics.builders import at, call, span

WINDOW = Filters(since=at(-12), until=at(12))

HANDLER = span(
    trace_id="a" * 32,
    span_id="h" * 16,
    name="POST /v1/search",
    kind="server",
    http_route="/v1/search",
    start_time=at(-0.01),
    end_time=at(0.3),
    service_name="api",
)


def _mini(
    hours: float, duration: float, cost: float, cached: int, feature: str, **extra: Any
) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "start_time": at(hours),
        "service_name": "api",
        "deployment_environment": "production",
        "provider": "openai",
        "server_address": "api.openai.com",
        "operation": "chat",
        "api": "chat_completions",
        "request_model": "gpt-4o-mini",
        "response_model": "gpt-4o-mini-2024-07-18",
        "duration_ms": duration,
        "server_processing_ms": duration - 30,
        "cost_usd": cost,
        "input_tokens": 1000,
        "output_tokens": 100,
        "cached_input_tokens": cached,
        "reasoning_tokens": 0,
        "stream": False,
        "http_status": 200,
        "attempts": 1,
        "attempt_statuses": ["200"],
        "attempt_durations_ms": [duration],
        "finish_reasons": ["stop"],
        "prefix_hash": "p" * 64,
        "prefix_chars": 600,
        "input_chars": 4000,
        "ratelimit_remaining_requests": 900,
        "ratelimit_limit_requests": 1000,
        "ratelimit_remaining_tokens": 90_000,
        "ratelimit_limit_tokens": 100_000,
        "tags": {"feature": feature, "customer": "acme"},
    }
    fields.update(extra)
    return call(**fields)


def _big(hours: float, duration: float, cost: float, ttft: float, **extra: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "start_time": at(hours),
        "service_name": "api",
        "deployment_environment": "production",
        "provider": "openai",
        "server_address": "api.openai.com",
        "operation": "chat",
        "api": "chat_completions",
        "request_model": "gpt-4o",
        "response_model": "gpt-4o-2024-08-06",
        "duration_ms": duration,
        "ttft_ms": ttft,
        "server_processing_ms": ttft - 20,
        "cost_usd": cost,
        "input_tokens": 2000,
        "output_tokens": 500,
        "cached_input_tokens": 0,
        "stream": True,
        "http_status": 200,
        "attempts": 1,
        "attempt_statuses": ["200"],
        "attempt_durations_ms": [duration],
        "finish_reasons": ["length"],
        "ratelimit_remaining_requests": 100,
        "ratelimit_limit_requests": 500,
        "ratelimit_remaining_tokens": 5_000,
        "ratelimit_limit_tokens": 50_000,
        "tags": {"feature": "answer"},
    }
    fields.update(extra)
    return call(**fields)


MINI = [
    _mini(0.0, 100, 0.01, 0, "search", trace_id="a" * 32, parent_span_id="h" * 16),
    _mini(0.25, 200, 0.02, 512, "search", trace_id="a" * 32, parent_span_id="h" * 16),
    _mini(0.5, 300, 0.03, 512, "search"),
    _mini(1.0, 400, 0.04, 0, "summarize"),
    # Retried once after a 429: 100 ms failed attempt, 500 ms backoff, 400 ms final attempt.
    _mini(
        1.5,
        1000,
        0.05,
        0,
        "summarize",
        attempts=2,
        attempt_statuses=["429", "200"],
        attempt_durations_ms=[100.0, 400.0],
        retry_wait_ms=500.0,
        server_processing_ms=350.0,
    ),
]
BIG = [
    _big(2.0, 500, 0.25, 50),
    _big(2.1, 700, 0.5, 70),
    _big(2.2, 1500, 1.0, 90),
]
EMBEDDINGS = [
    call(
        start_time=at(3.0),
        service_name="worker",
        operation="embeddings",
        api="embeddings",
        request_model="text-embedding-3-small",
        response_model="text-embedding-3-small",
        duration_ms=20.0,
        cost_usd=0.0001,
        input_tokens=500,
        output_tokens=0,
        attempts=1,
        attempt_statuses=["200"],
        attempt_durations_ms=[20.0],
        http_status=200,
        deployment_environment="staging",
    ),
    call(
        start_time=at(3.5),
        service_name="worker",
        operation="embeddings",
        api="embeddings",
        request_model="text-embedding-3-small",
        response_model="text-embedding-3-small",
        duration_ms=40.0,
        cost_usd=0.0002,
        input_tokens=1000,
        output_tokens=0,
        attempts=1,
        attempt_statuses=["200"],
        attempt_durations_ms=[40.0],
        http_status=200,
        deployment_environment="staging",
    ),
]
ERRORS = [
    call(
        start_time=at(4.0),
        service_name="api",
        operation="chat",
        api="chat_completions",
        request_model="gpt-4o",
        status="error",
        error_type="RateLimitError",
        error_code="rate_limit_exceeded",
        http_status=429,
        duration_ms=3500.0,
        attempts=3,
        attempt_statuses=["429", "429", "429"],
        attempt_durations_ms=[100.0, 100.0, 100.0],
        retry_wait_ms=3200.0,
        stream=False,
        tags={"feature": "answer"},
        ratelimit_remaining_requests=0,
        ratelimit_limit_requests=500,
        ratelimit_remaining_tokens=0,
        ratelimit_limit_tokens=50_000,
    ),
    call(
        start_time=at(4.5),
        service_name="api",
        operation="chat",
        api="chat_completions",
        request_model="gpt-4o",
        status="error",
        error_type="APITimeoutError",
        duration_ms=60000.0,
        attempts=3,
        attempt_statuses=["timeout", "timeout", "timeout"],
        attempt_durations_ms=[19000.0, 19000.0, 19000.0],
        retry_wait_ms=3000.0,
        stream=False,
        tags={"feature": "answer"},
    ),
]
UNPRICED = [
    call(
        start_time=at(5.0),
        service_name="api",
        operation="chat",
        api="chat_completions",
        request_model="acme-ft",
        response_model="acme-ft",
        duration_ms=250.0,
        input_tokens=300,
        output_tokens=30,
        stream=False,
        attempts=1,
        attempt_statuses=["200"],
        attempt_durations_ms=[250.0],
        http_status=200,
    ),
]
PREVIOUS = [
    _mini(-24.0, 150, 0.1, 0, "search"),
    _mini(-23.0, 250, 0.1, 0, "search"),
]
CURRENT = [*MINI, *BIG, *EMBEDDINGS, *ERRORS, *UNPRICED]
ALL = [*CURRENT, *PREVIOUS]
SPANS = [HANDLER]


def quantile(values: Iterable[float | None], p: float) -> float | None:
    """``quantile_cont`` written out: linear interpolation between the closest ranks."""
    xs = sorted(v for v in values if v is not None)
    if not xs:
        return None
    h = (len(xs) - 1) * p
    low, high = math.floor(h), math.ceil(h)
    return xs[low] + (h - low) * (xs[high] - xs[low])


def column(rows: Iterable[dict[str, Any]], name: str) -> list[Any]:
    return [row.get(name) for row in rows]
