"""A fast generator of realistic OpenAI calls in the real ``calls``/``spans`` schema.

Vectorised with numpy and pyarrow (about a million rows a second on two cores),
deterministic for a seed, and shaped like real traffic so that every report query
and suggestion rule has something to find:

- several services, each a mix of workloads (model, operation, streaming share, token
  distributions, shared prompt prefixes, feature tags, interactive or offline);
- diurnal and weekly load, traces of one to several calls under a request handler span;
- errors (429, timeouts, 500, 400) with the SDK's retries, backoff and per-attempt
  outcomes; rate-limit headers that run low before 429s;
- repeated identical requests, long shared prefixes with and without cache hits,
  truncated outputs, an unpriced fine-tuned model.

Used by ``benchmarks/analytics.py`` and the dashboard benchmark::

    from benchmarks.datagen import dataset_for
    root = dataset_for(1_000_000)          # cached under benchmarks/.data/

or ``python benchmarks/datagen.py 1000000 /tmp/calls-1m``.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent))

from callscope.collector.schema import SCHEMA_VERSION, arrow_schema  # noqa: E402

#: Bump when the generated data changes, so cached datasets are rebuilt.
GENERATOR_VERSION: Final = 1
CACHE: Final = ROOT / ".data"
#: The last day of generated data (fixed, so cached datasets stay valid).
DEFAULT_END: Final = datetime(2026, 11, 28, tzinfo=UTC)
#: Rows per file: the collector's writer rolls files at 50k rows.
ROWS_PER_FILE: Final = 50_000

# USD per 1M tokens (input, cached input, output): genai-prices' standard rates.
PRICES: Final[dict[str, tuple[float, float, float]]] = {
    "gpt-4o-mini": (0.15, 0.075, 0.60),
    "gpt-4o": (2.50, 1.25, 10.00),
    "gpt-4.1": (2.00, 0.50, 8.00),
    "gpt-4.1-mini": (0.40, 0.10, 1.60),
    "o4-mini": (1.10, 0.275, 4.40),
    "gpt-5-mini": (0.25, 0.025, 2.00),
    "text-embedding-3-small": (0.02, 0.02, 0.0),
}
SNAPSHOTS: Final[dict[str, str]] = {
    "gpt-4o-mini": "gpt-4o-mini-2024-07-18",
    "gpt-4o": "gpt-4o-2024-08-06",
    "gpt-4.1": "gpt-4.1-2025-04-14",
    "gpt-4.1-mini": "gpt-4.1-mini-2025-04-14",
    "o4-mini": "o4-mini-2025-04-16",
    "gpt-5-mini": "gpt-5-mini-2025-08-07",
}
UNPRICED_MODEL: Final = "ft:gpt-4o-mini-2024-07-18:acme:support:9xK2"


@dataclass(frozen=True)
class Workload:
    service: str
    route: str | None  # request handler; None for offline jobs
    operation: str
    api: str
    model: str
    weight: float
    stream_share: float
    input_median: float  # tokens
    output_median: float
    prefix_tokens: int  # shared stable prefix (instructions + tools)
    cache_hit_share: float  # of calls with a long enough prefix
    features: tuple[str, ...]
    ms_per_token: float
    base_ms: float
    repeat_share: float = 0.05  # identical requests again
    max_tokens_share: float = 0.4
    reasoning_share: float = 0.0


WORKLOADS: Final[tuple[Workload, ...]] = (
    Workload(
        "api",
        "POST /v1/search",
        "chat",
        "chat_completions",
        "gpt-4o-mini",
        0.26,
        0.6,
        900,
        180,
        1400,
        0.7,
        ("search", "summarize"),
        7.0,
        250,
        repeat_share=0.12,
    ),
    Workload(
        "api",
        "POST /v1/answer",
        "chat",
        "chat_completions",
        "gpt-4o",
        0.10,
        0.75,
        2500,
        350,
        1800,
        0.2,
        ("answer",),
        14.0,
        400,
    ),
    Workload(
        "api",
        "POST /v1/answer",
        "chat",
        "chat_completions",
        "gpt-5-mini",
        0.04,
        0.5,
        1500,
        500,
        1100,
        0.5,
        ("answer",),
        9.0,
        450,
        reasoning_share=0.4,
    ),
    Workload(
        "support-bot",
        "POST /chat",
        "chat",
        "responses",
        "gpt-4.1-mini",
        0.14,
        0.85,
        3200,
        260,
        2600,
        0.15,
        ("support",),
        8.0,
        300,
    ),
    Workload(
        "support-bot",
        "POST /triage",
        "chat",
        "responses",
        "gpt-4.1",
        0.05,
        0.0,
        350,
        4,
        300,
        0.0,
        ("triage",),
        12.0,
        350,
        max_tokens_share=0.0,
    ),
    Workload(
        "batch-summarizer",
        None,
        "chat",
        "chat_completions",
        "gpt-4o-mini",
        0.15,
        0.0,
        4000,
        420,
        900,
        0.4,
        ("nightly-digest",),
        7.0,
        300,
        repeat_share=0.08,
    ),
    Workload(
        "search",
        "GET /search",
        "embeddings",
        "embeddings",
        "text-embedding-3-small",
        0.17,
        0.0,
        300,
        0,
        0,
        0.0,
        ("index", "query"),
        0.0,
        120,
        repeat_share=0.2,
        max_tokens_share=0.0,
    ),
    Workload(
        "evals",
        None,
        "chat",
        "chat_completions",
        "o4-mini",
        0.05,
        0.0,
        1200,
        900,
        500,
        0.3,
        ("eval-run",),
        18.0,
        600,
        reasoning_share=0.7,
    ),
    Workload(
        "support-bot",
        "POST /chat",
        "chat",
        "chat_completions",
        UNPRICED_MODEL,
        0.04,
        0.6,
        1800,
        200,
        1500,
        0.3,
        ("support",),
        8.0,
        300,
    ),
)
CUSTOMERS: Final = tuple(f"customer-{i:02d}" for i in range(40))
ERRORS: Final = (  # (error_type, error_code, http_status, share of errors, attempts, attempt status)
    ("RateLimitError", "rate_limit_exceeded", 429, 0.55, 3, "429"),
    ("APITimeoutError", None, None, 0.20, 3, "timeout"),
    ("InternalServerError", "server_error", 500, 0.15, 3, "500"),
    ("BadRequestError", "context_length_exceeded", 400, 0.10, 1, "400"),
)
ATTEMPT_STATUSES: Final = ["200", "429", "500", "timeout", "400"]
ERROR_RATE: Final = 0.03
INCOMPLETE_RATE: Final = 0.01  # of streams
_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


def hex_strings(rng: np.random.Generator, n: int, nbytes: int, prefix: bytes = b"") -> pa.StringArray:
    """``n`` random lowercase hex strings of ``nbytes`` bytes after ``prefix``, without Python loops."""
    raw = rng.integers(0, 256, size=(n, nbytes), dtype=np.uint8)
    width = len(prefix) + 2 * nbytes
    chars = np.empty((n, width), dtype=np.uint8)
    if prefix:
        chars[:, : len(prefix)] = np.frombuffer(prefix, dtype=np.uint8)
    chars[:, len(prefix) :: 2] = _HEX[raw >> 4]
    chars[:, len(prefix) + 1 :: 2] = _HEX[raw & 15]
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(chars.tobytes()))


def _strings(values: list[Any], index: np.ndarray) -> pa.Array:
    """``values[index]`` as an Arrow string array (None stays null)."""
    return pa.array(values, type=pa.string()).take(pa.array(index))


def _floats(values: np.ndarray) -> pa.Array:
    """Doubles with NaN as null."""
    values = np.asarray(values, dtype=np.float64)
    return pa.array(values, mask=np.isnan(values))


def _null_where(values: pa.Array, mask: np.ndarray) -> pa.Array:
    return pc.if_else(pa.array(mask), pa.nulls(len(values), values.type), values)


def _lists(offsets: np.ndarray, values: pa.Array, valid: np.ndarray | None = None) -> pa.ListArray:
    mask = None if valid is None else pa.array(~valid)
    return pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), values, mask=mask)


def _day_counts(n: int, days: int, rng: np.random.Generator, end: datetime) -> np.ndarray:
    """Calls per day, weekdays busier than weekends, summing to ``n``."""
    weekday = np.array([(end - timedelta(days=days - 1 - d)).weekday() for d in range(days)])
    weights = np.where(weekday >= 5, 0.55, 1.0) * rng.uniform(0.9, 1.1, size=days)
    counts = np.floor(weights / weights.sum() * n).astype(np.int64)
    counts[-1] += n - counts.sum()
    return np.asarray(counts)


def _seconds_of_day(rng: np.random.Generator, n: int) -> np.ndarray:
    """Diurnal load: busiest in the (UTC) afternoon."""
    hours = np.arange(24)
    weights = 0.25 + np.exp(-((hours - 14.5) ** 2) / 18.0)
    hour = rng.choice(24, size=n, p=weights / weights.sum())
    return np.sort(hour * 3600 + rng.uniform(0, 3600, size=n))


def generate_day(n: int, day: datetime, rng: np.random.Generator) -> tuple[pa.Table, pa.Table]:
    """``n`` calls starting on ``day`` (UTC) and their request handler spans."""
    w_index = rng.choice(len(WORKLOADS), size=n, p=_normalized([w.weight for w in WORKLOADS]))

    def per(attribute: str) -> np.ndarray:
        return np.array([getattr(w, attribute) for w in WORKLOADS])[w_index]

    model_names = [w.model for w in WORKLOADS]
    start_us = int(day.timestamp() * 1e6) + (_seconds_of_day(rng, n) * 1e6).astype(np.int64)

    # Tokens.
    is_embedding = per("operation") == "embeddings"
    input_tokens = np.maximum(8, rng.lognormal(np.log(per("input_median")), 0.55)).astype(np.int64)
    prefix_tokens = per("prefix_tokens").astype(np.int64)
    input_tokens = np.maximum(input_tokens, prefix_tokens + 20)
    output_tokens = np.where(
        is_embedding, 0, np.maximum(1, rng.lognormal(np.log(np.maximum(per("output_median"), 1)), 0.7))
    )
    has_cap = rng.random(n) < per("max_tokens_share")
    cap = rng.choice([256, 512, 1024], size=n)
    hit_cap = has_cap & (output_tokens >= cap)
    output_tokens = np.where(hit_cap, cap, output_tokens).astype(np.int64)
    cacheable = prefix_tokens >= 1024
    cache_hit = cacheable & (rng.random(n) < per("cache_hit_share"))
    cached_tokens = np.where(cache_hit, (prefix_tokens // 128) * 128, 0).astype(np.int64)
    reasoning_tokens = (output_tokens * per("reasoning_share")).astype(np.int64)

    # Outcome: ok, error (with the SDK's retries) or an abandoned stream.
    stream = (rng.random(n) < per("stream_share")) & ~is_embedding
    roll = rng.random(n)
    failed = roll < ERROR_RATE
    incomplete = ~failed & stream & (roll < ERROR_RATE + INCOMPLETE_RATE)
    error_kind = rng.choice(len(ERRORS), size=n, p=_normalized([e[3] for e in ERRORS]))
    retried_ok = ~failed & (rng.random(n) < 0.06)
    attempts = np.where(failed, np.array([e[4] for e in ERRORS])[error_kind], np.where(retried_ok, 2, 1))
    attempts = np.where(retried_ok & (rng.random(n) < 0.15), 3, attempts).astype(np.int32)
    status = np.where(failed, 1, np.where(incomplete, 2, 0))

    # Latency.
    ms_per_token = per("ms_per_token")
    server_ms = per("base_ms") * rng.lognormal(0, 0.35, size=n) + output_tokens * ms_per_token
    network_ms = rng.lognormal(np.log(45), 0.5, size=n)
    final_attempt_ms = np.where(failed & (error_kind == 1), 600_000 / 10, server_ms + network_ms)
    failed_attempt_ms = np.where(attempts > 1, rng.uniform(50, 400, size=n) * (attempts - 1), 0)
    retry_wait = np.where(attempts > 1, rng.uniform(400, 1800, size=n) * (attempts - 1), np.nan)
    duration = final_attempt_ms + failed_attempt_ms + np.nan_to_num(retry_wait)
    ttft = np.where(stream, per("base_ms") * rng.lognormal(0, 0.3, size=n) + network_ms, np.nan)
    output_tokens = np.where(failed, 0, output_tokens)
    cost = _costs(w_index, input_tokens, cached_tokens, output_tokens)
    cost = np.where(failed, np.nan, cost)

    # Attempt lists: failed attempts first, then the final one (statuses as codes into ATTEMPT_STATUSES).
    attempt_offsets = np.concatenate([[0], np.cumsum(attempts)]).astype(np.int32)
    last = attempt_offsets[1:] - 1
    error_status = np.array([ATTEMPT_STATUSES.index(e[5]) for e in ERRORS])[error_kind]
    retry_status = np.where(rng.random(n) < 0.8, ATTEMPT_STATUSES.index("429"), ATTEMPT_STATUSES.index("500"))
    flat_status = np.repeat(np.where(failed, error_status, retry_status), attempts)
    flat_status[last] = np.where(failed, error_status, ATTEMPT_STATUSES.index("200"))
    per_failed = np.where(attempts > 1, failed_attempt_ms / np.maximum(attempts - 1, 1), 0)
    flat_duration = np.repeat(per_failed, attempts)
    flat_duration[last] = final_attempt_ms

    # Traces: consecutive calls of a workload share a trace under one handler span.
    new_trace = np.ones(n, dtype=bool)
    new_trace[1:] = (rng.random(n - 1) < 0.6) | (w_index[1:] != w_index[:-1])
    trace_number = pa.array(np.cumsum(new_trace) - 1)
    traces = int(np.count_nonzero(new_trace))
    trace_ids = hex_strings(rng, traces, 16).take(trace_number)
    handler_ids = hex_strings(rng, traces, 8).take(trace_number)
    has_route = np.array([w.route is not None for w in WORKLOADS])[w_index]

    # Hashes: request hashes repeat for a share of calls; prefixes come from a small pool per workload.
    repeat = rng.random(n) < per("repeat_share")
    request_hash = pc.if_else(
        pa.array(repeat),
        hex_strings(rng, 2000, 32).take(pa.array(rng.integers(0, 2000, size=n))),
        hex_strings(rng, n, 32),
    )
    prefix_slot = np.minimum(rng.zipf(1.6, size=n) - 1, 11) + 12 * w_index
    prefix_pool = hex_strings(np.random.default_rng(99), 12 * len(WORKLOADS), 32)
    prefix_hash = _null_where(prefix_pool.take(pa.array(prefix_slot)), prefix_tokens == 0)

    # Rate-limit headers: headroom shrinks in the busy hours and before 429s.
    limit_requests = np.where(np.isin(w_index, [1, 4]), 5_000, 30_000).astype(np.int64)
    limit_tokens = limit_requests * 200
    headroom = np.clip(rng.beta(5, 2, size=n) - np.where(failed & (error_kind == 0), 0.6, 0), 0.0, 1.0)
    remaining_requests = (limit_requests * headroom).astype(np.int64)
    remaining_tokens = (limit_tokens * np.clip(headroom * rng.uniform(0.8, 1.1, size=n), 0, 1)).astype(
        np.int64
    )
    has_headers = ~(failed & (error_kind == 1))

    finish = np.where(hit_cap, 1, np.where(rng.random(n) < 0.1, 2, 0))
    finish = np.where(is_embedding | failed, -1, finish)
    finish_values = pa.array([["stop"], ["length"], ["tool_calls"], None], type=pa.list_(pa.string()))
    finish_reasons = finish_values.take(pa.array(np.where(finish < 0, 3, finish)))

    features = [f for w in WORKLOADS for f in w.features]
    feature_start = np.cumsum([0] + [len(w.features) for w in WORKLOADS])[:-1]
    feature_count = np.array([len(w.features) for w in WORKLOADS])[w_index]
    feature = feature_start[w_index] + rng.integers(0, 1 << 30, size=n) % feature_count
    customer = len(features) + np.minimum(rng.zipf(1.3, size=n) - 1, len(CUSTOMERS) - 1)
    experiment = len(features) + len(CUSTOMERS) + (rng.random(n) < 0.5)
    vocabulary = pa.array([*features, *CUSTOMERS, "prompt-v1", "prompt-v2"], pa.string())
    entries = 2 + (rng.random(n) < 0.1).astype(np.int32)  # a tenth of the calls are in an experiment
    map_offsets = np.concatenate([[0], np.cumsum(entries)]).astype(np.int32)
    keep = np.arange(3)[None, :] < entries[:, None]
    key_codes = np.broadcast_to(np.arange(3), (n, 3))[keep]
    value_codes = np.stack([feature, customer, experiment], axis=1)[keep]
    tags = pa.MapArray.from_arrays(
        pa.array(map_offsets),
        pa.array(["feature", "customer", "experiment"], pa.string()).take(pa.array(key_codes)),
        vocabulary.take(pa.array(value_codes)),
    )

    end_us = start_us + (duration * 1000).astype(np.int64)
    services = [w.service for w in WORKLOADS]
    status_names = ["ok", "error", "incomplete"]
    errors_t = [e[0] for e in ERRORS]
    columns: dict[str, Any] = {
        "trace_id": trace_ids,
        "span_id": hex_strings(rng, n, 8),
        "parent_span_id": _null_where(handler_ids, ~has_route),
        "start_time": pa.array(start_us, pa.timestamp("us", tz="UTC")),
        "end_time": pa.array(end_us, pa.timestamp("us", tz="UTC")),
        "duration_ms": duration,
        "service_name": _strings(services, w_index),
        "service_version": _strings(["1.4.2", "1.5.0"], (rng.random(n) < 0.3).astype(np.int64)),
        "deployment_environment": _strings(
            ["production", "staging"], (rng.random(n) < 0.08).astype(np.int64)
        ),
        "provider": pa.repeat(pa.scalar("openai", pa.string()), n),
        "server_address": pa.repeat(pa.scalar("api.openai.com", pa.string()), n),
        "server_port": pa.array(np.full(n, 443, dtype=np.int32)),
        "operation": _strings([w.operation for w in WORKLOADS], w_index),
        "api": _strings([w.api for w in WORKLOADS], w_index),
        "request_model": _strings(model_names, w_index),
        "response_model": _strings(
            [SNAPSHOTS.get(m, m) for m in model_names] + [None], np.where(failed, len(model_names), w_index)
        ),
        "response_id": _null_where(hex_strings(rng, n, 12, b"chatcmpl-"), failed),
        "stream": pa.array(stream),
        "ttft_ms": _floats(ttft),
        "time_per_chunk_ms": _floats(np.where(stream, ms_per_token, np.nan)),
        "stream_chunks": pa.array(np.where(stream, output_tokens, 0), mask=~stream),
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "cached_input_tokens": cached_tokens,
        "cache_write_tokens": pa.nulls(n, pa.int64()),
        "reasoning_tokens": reasoning_tokens,
        "usage_source": _null_where(pa.repeat(pa.scalar("api", pa.string()), n), failed),
        "cost_usd": _floats(cost),
        "status": _strings(status_names, status),
        "error_type": _strings([*errors_t, None], np.where(failed, error_kind, len(errors_t))),
        "error_code": _strings([*(e[1] for e in ERRORS), None], np.where(failed, error_kind, len(ERRORS))),
        "http_status": pa.array(
            np.where(failed, np.nan_to_num(np.array([e[2] or 0 for e in ERRORS])[error_kind]), 200).astype(
                np.int32
            ),
            mask=failed & (error_kind == 1),
        ),
        "attempts": attempts,
        "retry_wait_ms": _floats(retry_wait),
        "attempt_statuses": _lists(
            attempt_offsets, pa.array(ATTEMPT_STATUSES, pa.string()).take(pa.array(flat_status))
        ),
        "attempt_durations_ms": _lists(attempt_offsets, pa.array(flat_duration)),
        "server_processing_ms": _floats(np.where(failed, np.nan, server_ms)),
        "request_id": hex_strings(rng, n, 12, b"req_"),
        "ratelimit_remaining_requests": pa.array(remaining_requests, mask=~has_headers),
        "ratelimit_remaining_tokens": pa.array(remaining_tokens, mask=~has_headers),
        "ratelimit_limit_requests": pa.array(limit_requests, mask=~has_headers),
        "ratelimit_limit_tokens": pa.array(limit_tokens, mask=~has_headers),
        "max_output_tokens": pa.array(cap.astype(np.int64), mask=~has_cap),
        "temperature": _floats(rng.choice([0.0, 0.2, 0.7, 1.0, np.nan], size=n)),
        "choice_count": pa.nulls(n, pa.int32()),
        "tool_count": pa.array(rng.choice([0, 0, 0, 1, 3], size=n).astype(np.int32)),
        "response_format": _strings(["text", "json_schema"], (rng.random(n) < 0.2).astype(np.int64)),
        "service_tier": pa.nulls(n, pa.string()),
        "response_service_tier": _null_where(pa.repeat(pa.scalar("default", pa.string()), n), failed),
        "finish_reasons": finish_reasons,
        "request_hash": request_hash,
        "prefix_hash": prefix_hash,
        "prefix_chars": pa.array(prefix_tokens * 4, mask=prefix_tokens == 0),
        "input_chars": input_tokens * 4,
        "input_messages": pa.array(rng.integers(1, 12, size=n).astype(np.int32)),
        "tags": tags,
        "instrumentation": pa.repeat(pa.scalar("callscope", pa.string()), n),
        "attributes": _strings(
            ['{"openai.response.system_fingerprint":"fp_' + f"{i:08x}" + '"}' for i in range(8)],
            rng.integers(0, 8, size=n),
        ),
        "schema_version": pa.array(np.full(n, SCHEMA_VERSION, dtype=np.int32)),
    }
    calls = _to_table("calls", columns)
    spans = _handler_spans(rng, calls, new_trace & has_route, handler_ids, w_index)
    return calls, spans


def _normalized(weights: list[float]) -> np.ndarray:
    array = np.array(weights, dtype=float)
    return np.asarray(array / array.sum())


def _costs(
    w_index: np.ndarray, input_tokens: np.ndarray, cached: np.ndarray, output: np.ndarray
) -> np.ndarray:
    rates = np.array([PRICES.get(w.model, (np.nan, np.nan, np.nan)) for w in WORKLOADS])[w_index]
    return (
        np.asarray((input_tokens - cached) * rates[:, 0] + cached * rates[:, 1] + output * rates[:, 2]) / 1e6
    )


def _to_table(table: str, columns: dict[str, Any]) -> pa.Table:
    schema = arrow_schema(table)
    arrays = []
    for field in schema:
        value = columns[field.name]
        array = value if isinstance(value, pa.Array | pa.ChunkedArray) else pa.array(value)
        if field.type == pa.json_(pa.string()):
            array = pa.ExtensionArray.from_storage(field.type, array.cast(pa.string()))
        arrays.append(array.cast(field.type) if array.type != field.type else array)
    return pa.Table.from_arrays(arrays, schema=schema)


def _handler_spans(
    rng: np.random.Generator,
    calls: pa.Table,
    first_of_trace: np.ndarray,
    handler_ids: pa.Array,
    w_index: np.ndarray,
) -> pa.Table:
    """One server span per interactive trace: the request handler that made the calls."""
    rows = np.flatnonzero(first_of_trace)
    m = len(rows)
    starts = calls.column("start_time").take(pa.array(rows)).cast(pa.int64()).to_numpy() - rng.integers(
        1_000, 20_000, size=m
    )
    durations = (
        calls.column("duration_ms").take(pa.array(rows)).to_numpy() * rng.uniform(1.05, 1.6, size=m) + 5
    )
    routes = [w.route or " " for w in WORKLOADS]
    route = _strings(routes, w_index[rows])
    method = _strings([r.split(" ", 1)[0] for r in routes], w_index[rows])
    path = _strings([r.split(" ", 1)[1] for r in routes], w_index[rows])
    columns: dict[str, Any] = {
        "trace_id": calls.column("trace_id").take(pa.array(rows)).combine_chunks(),
        "span_id": handler_ids.take(pa.array(rows)),
        "parent_span_id": pa.nulls(m, pa.string()),
        "name": route,
        "kind": pa.repeat(pa.scalar("server", pa.string()), m),
        "start_time": pa.array(starts, pa.timestamp("us", tz="UTC")),
        "end_time": pa.array(starts + (durations * 1000).astype(np.int64), pa.timestamp("us", tz="UTC")),
        "duration_ms": durations,
        "service_name": calls.column("service_name").take(pa.array(rows)).combine_chunks(),
        "service_version": pa.repeat(pa.scalar("1.4.2", pa.string()), m),
        "deployment_environment": pa.repeat(pa.scalar("production", pa.string()), m),
        "status_code": pa.repeat(pa.scalar("unset", pa.string()), m),
        "status_message": pa.nulls(m, pa.string()),
        "http_route": path,
        "http_method": method,
        "http_status": pa.array(np.full(m, 200, dtype=np.int32)),
        "attributes": pa.repeat(pa.scalar("{}", pa.string()), m),
        "schema_version": pa.array(np.full(m, SCHEMA_VERSION, dtype=np.int32)),
    }
    return _to_table("spans", columns)


def generate(
    n: int, *, seed: int = 7, days: int = 14, end: datetime = DEFAULT_END
) -> Iterator[tuple[datetime, pa.Table, pa.Table]]:
    """``(day, calls, spans)`` for each day of ``days`` ending on ``end``: ``n`` calls in all."""
    rng = np.random.default_rng(seed)
    counts = _day_counts(n, days, rng, end)
    for offset, count in enumerate(counts):
        day = (end - timedelta(days=days - 1 - offset)).replace(hour=0, minute=0, second=0, microsecond=0)
        calls, spans = generate_day(int(count), day, np.random.default_rng([seed, offset]))
        yield day, calls, spans


def write_dataset(
    root: Path,
    n: int,
    *,
    seed: int = 7,
    days: int = 14,
    end: datetime = DEFAULT_END,
    rows_per_file: int = ROWS_PER_FILE,
) -> Path:
    """Write ``n`` calls (and their handler spans) as ``<root>/<table>/date=YYYY-MM-DD/*.parquet``."""
    for day, calls, spans in generate(n, seed=seed, days=days, end=end):
        for table, data in (("calls", calls), ("spans", spans)):
            folder = root / table / f"date={day:%Y-%m-%d}"
            folder.mkdir(parents=True, exist_ok=True)
            for part, start in enumerate(range(0, max(data.num_rows, 1), rows_per_file)):
                chunk = data.slice(start, rows_per_file)
                if chunk.num_rows:
                    pq.write_table(chunk, folder / f"bench-{part:05d}.parquet", compression="zstd")
    return root


def dataset_for(n: int, *, seed: int = 7, days: int = 14, rows_per_file: int = ROWS_PER_FILE) -> Path:
    """A cached dataset of ``n`` calls under ``benchmarks/.data/`` (generated on first use).

    Safe to call from several processes at once: one generates (into a temporary folder,
    renamed into place when complete) while the others wait for it.
    """
    import fcntl

    root = CACHE / f"calls-{n}-seed{seed}-days{days}-rpf{rows_per_file}-v{GENERATOR_VERSION}"
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / f"{root.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (root / ".complete").exists():
            shutil.rmtree(root, ignore_errors=True)
            temp = CACHE / f".{root.name}.partial"
            shutil.rmtree(temp, ignore_errors=True)
            started = time.perf_counter()
            write_dataset(temp, n, seed=seed, days=days, rows_per_file=rows_per_file)
            (temp / ".complete").write_text(f"generated in {time.perf_counter() - started:.1f} s\n")
            temp.rename(root)
    return root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rows", type=int)
    parser.add_argument("out", type=Path)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--rows-per-file", type=int, default=ROWS_PER_FILE)
    args = parser.parse_args()
    started = time.perf_counter()
    write_dataset(args.out, args.rows, seed=args.seed, days=args.days, rows_per_file=args.rows_per_file)
    print(f"{args.rows} calls in {args.out} ({time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    main()
