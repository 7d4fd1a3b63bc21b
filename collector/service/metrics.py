"""What ``/metrics`` exposes: the calls themselves and the receiver's own health.

Call metrics are computed from the converted ``calls`` rows (the same numbers
the Parquet files hold), so a Prometheus alert on cost or latency agrees with
``callscope report``. Label values are the service name and the requested
model (the response model carries a date suffix and would split series).
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Final, TypeGuard

from callscope.collector.schema import column_names
from callscope.collector.service.prometheus import Counter, Gauge, Histogram, Registry

#: Seconds; LLM calls span from tens of milliseconds (embeddings) to minutes (reasoning models).
DURATION_BUCKETS: Final = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0)
TTFT_BUCKETS: Final = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0)
DURATION_BOUNDS: Final = (*DURATION_BUCKETS, math.inf)
TTFT_BOUNDS: Final = (*TTFT_BUCKETS, math.inf)
FLUSH_BUCKETS: Final = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
#: token column -> ``type`` label
TOKEN_COLUMNS: Final = {
    "input_tokens": "input",
    "output_tokens": "output",
    "cached_input_tokens": "cached_input",
    "cache_write_tokens": "cache_write",
    "reasoning_tokens": "reasoning",
}
UNKNOWN: Final = "unknown"
CALL_COLUMNS: Final = tuple(column_names("calls"))

_COLUMN: Final = {name: index for index, name in enumerate(CALL_COLUMNS)}
_SERVICE, _REQUEST_MODEL, _RESPONSE_MODEL = (
    _COLUMN["service_name"],
    _COLUMN["request_model"],
    _COLUMN["response_model"],
)
_STATUS, _COST, _DURATION, _TTFT = (
    _COLUMN["status"],
    _COLUMN["cost_usd"],
    _COLUMN["duration_ms"],
    _COLUMN["ttft_ms"],
)
_TOKEN_INDEXES: Final = tuple((_COLUMN[column], kind) for column, kind in TOKEN_COLUMNS.items())


def _is_number(value: object) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


class CallStats:
    """Call metrics gathered from converted rows, to add to :class:`ServiceMetrics` once written.

    Plain dicts and lists, so a converter process can send it to the service
    process; histograms are kept as bucket counts, not samples.
    """

    def __init__(self) -> None:
        self.calls: dict[tuple[str, ...], int] = defaultdict(int)
        self.tokens: dict[tuple[str, ...], float] = defaultdict(float)
        self.costs: dict[tuple[str, ...], float] = defaultdict(float)
        #: labels -> (count per bucket of DURATION_BUCKETS + inf, sum of seconds)
        self.durations: dict[tuple[str, ...], tuple[list[int], float]] = {}
        self.ttfts: dict[tuple[str, ...], tuple[list[int], float]] = {}

    def __bool__(self) -> bool:
        return bool(self.calls)

    def add(self, rows: Iterable[tuple[str, Sequence[Any]]]) -> None:
        """Count the ``calls`` rows among ``(table, values in column order)`` pairs.

        Values are as :func:`~callscope.collector.normalize.span_values` left them: a
        client may have sent a wrong type, which the writer coerces later, so only
        numbers are added up here.
        """
        for table, values in rows:
            if table != "calls":
                continue
            service = values[_SERVICE]
            model = values[_REQUEST_MODEL] or values[_RESPONSE_MODEL]
            labels = (str(service) if service else UNKNOWN, str(model) if model else UNKNOWN)
            status = values[_STATUS]
            self.calls[(*labels, str(status) if status else UNKNOWN)] += 1
            for index, kind in _TOKEN_INDEXES:
                count = values[index]
                if _is_number(count) and count > 0:
                    self.tokens[(*labels, kind)] += count
            cost = values[_COST]
            if _is_number(cost) and cost >= 0:
                self.costs[labels] += cost
            duration = values[_DURATION]
            if _is_number(duration):
                _observe(self.durations, labels, DURATION_BOUNDS, duration / 1000)
            ttft = values[_TTFT]
            if _is_number(ttft):
                _observe(self.ttfts, labels, TTFT_BOUNDS, ttft / 1000)


def _observe(
    series: dict[tuple[str, ...], tuple[list[int], float]],
    labels: tuple[str, ...],
    bounds: Sequence[float],
    value: float,
) -> None:
    counts, total = series.get(labels) or ([0] * len(bounds), 0.0)
    counts[bisect_left(bounds, value)] += 1
    series[labels] = (counts, total + value)


class ServiceMetrics:
    """Every metric family of the receiver, in one registry."""

    def __init__(self) -> None:
        self.registry = registry = Registry()
        call_labels = ("service", "model")
        self.calls = registry.register(
            Counter("callscope_calls_total", "GenAI calls received, by outcome.", (*call_labels, "status"))
        )
        self.tokens = registry.register(
            Counter("callscope_tokens_total", "Tokens billed, by type.", (*call_labels, "type"))
        )
        self.cost = registry.register(
            Counter("callscope_cost_usd_total", "Cost in USD of calls with a known price.", call_labels)
        )
        self.duration = registry.register(
            Histogram(
                "callscope_call_duration_seconds",
                "Client-side duration of calls, retries included.",
                DURATION_BUCKETS,
                call_labels,
            )
        )
        self.ttft = registry.register(
            Histogram(
                "callscope_time_to_first_chunk_seconds",
                "Time to the first chunk of streamed calls.",
                TTFT_BUCKETS,
                call_labels,
            )
        )
        self.requests = registry.register(
            Counter(
                "callscope_collector_requests_total",
                "OTLP export requests, by transport and outcome.",
                ("transport", "outcome"),
            )
        )
        self.request_bytes = registry.register(
            Counter(
                "callscope_collector_request_bytes_total",
                "Bytes of OTLP request bodies after decompression.",
                ("transport",),
            )
        )
        self.spans_accepted = registry.register(
            Counter(
                "callscope_collector_spans_accepted_total",
                "Spans acknowledged (durable in the spool).",
                ("transport",),
            )
        )
        self.spans_rejected = registry.register(
            Counter(
                "callscope_collector_spans_rejected_total",
                "Spans not accepted, by reason: invalid ids, or overloaded/unavailable (retried).",
                ("transport", "reason"),
            )
        )
        self.rows_written = registry.register(
            Counter(
                "callscope_collector_rows_written_total", "Rows written to Parquet, by table.", ("table",)
            )
        )
        self.files_written = registry.register(
            Counter("callscope_collector_files_written_total", "Parquet files written.")
        )
        self.write_errors = registry.register(
            Counter("callscope_collector_write_errors_total", "Failed flushes to the dataset (retried).")
        )
        self.conversion_errors = registry.register(
            Counter(
                "callscope_collector_conversion_errors_total", "Spans that could not be converted to a row."
            )
        )
        self.replayed_requests = registry.register(
            Counter(
                "callscope_collector_replayed_requests_total",
                "Spooled requests replayed at start-up after a crash.",
            )
        )
        self.flush_duration = registry.register(
            Histogram("callscope_collector_flush_duration_seconds", "Time to write one flush.", FLUSH_BUCKETS)
        )

    def gauge(self, name: str, help_text: str, read: Callable[[], float]) -> Gauge:
        """Register a gauge whose value is read at scrape time (queue depth, spool size...)."""
        return self.registry.register(Gauge(name, help_text, read=read))

    def apply(self, stats: CallStats) -> None:
        """Add the call statistics of rows that were just written."""
        for labels, count in stats.calls.items():
            self.calls.inc(*labels, amount=count)
        for labels, amount in stats.tokens.items():
            self.tokens.inc(*labels, amount=amount)
        for labels, amount in stats.costs.items():
            self.cost.inc(*labels, amount=amount)
        for histogram, series in ((self.duration, stats.durations), (self.ttft, stats.ttfts)):
            for labels, (counts, total) in series.items():
                histogram.merge(counts, total, *labels)

    def render(self) -> str:
        return self.registry.render()
