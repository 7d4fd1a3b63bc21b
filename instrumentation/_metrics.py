"""The GenAI client metrics, plus callscope's cost counter.

Histograms carry the bucket boundaries the GenAI conventions advise (v1.41), so a
Prometheus or OTLP pipeline gets useful buckets without configuring views.

The cost counter (``callscope.client.cost``, USD, by model, operation and provider)
is an observable counter over running totals kept here: adding to a float in a
dict costs a fraction of a synchronous ``Counter.add``, which cleans and hashes
its attributes on every call. Readers see the same cumulative sums.

``gen_ai.client.operation.time_per_output_chunk`` is recorded once per stream, as
the mean gap between chunks after the first, rather than once per chunk: a
histogram record costs several microseconds, and a per-chunk record would more
than double callscope's cost on a long stream. The per-stream mean keeps the
distribution across calls; the span has the same value and the chunk count.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from callscope.instrumentation._finisher import FINISHER
from callscope.instrumentation.attributes import (
    ERROR_TYPE,
    OPERATION,
    PROVIDER,
    REQUEST_MODEL,
    RESPONSE_MODEL,
    RESPONSE_SERVICE_TIER,
    SERVER_ADDRESS,
    SERVER_PORT,
)
from opentelemetry.context import Context
from opentelemetry.metrics import CallbackOptions, Histogram, Meter, ObservableCounter, Observation
from opentelemetry.semconv._incubating.attributes.gen_ai_attributes import GEN_AI_TOKEN_TYPE
from opentelemetry.semconv._incubating.metrics import gen_ai_metrics as _m

__all__ = ["COST_METRIC", "DURATION_BUCKETS", "TOKEN_BUCKETS", "Instruments", "MetricKey"]

TOKEN_BUCKETS = (
    1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
)  # fmt: skip
DURATION_BUCKETS = (
    0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
)  # fmt: skip

COST_METRIC = "callscope.client.cost"
_INPUT = {GEN_AI_TOKEN_TYPE: "input"}
_OUTPUT = {GEN_AI_TOKEN_TYPE: "output"}


#: What the metric attributes of a call depend on: operation, provider, request model, response model,
#: server address, server port, response service tier.
MetricKey = tuple[str, str, str | None, str | None, str | None, int | None, str | None]
_KEY_FIELDS = (OPERATION, PROVIDER, REQUEST_MODEL, RESPONSE_MODEL, SERVER_ADDRESS, SERVER_PORT,
               RESPONSE_SERVICE_TIER)  # fmt: skip
_CACHE_LIMIT = 1024


class _KeyAttributes(NamedTuple):
    base: Mapping[str, Any]
    input: Mapping[str, Any]  # base + gen_ai.token.type=input
    output: Mapping[str, Any]
    cost_key: tuple[str, str, str]  # (model, operation, provider) of the cost counter


def _key_attributes(key: MetricKey) -> _KeyAttributes:
    base = {name: value for name, value in zip(_KEY_FIELDS, key, strict=True) if value is not None}
    model = key[3] or key[2] or ""
    return _KeyAttributes(base, {**base, **_INPUT}, {**base, **_OUTPUT}, (model, key[0], key[1]))


class CostTotals:
    """Running USD totals per (model, operation, provider), observed by the cost counter."""

    def __init__(self) -> None:
        self._totals: dict[tuple[str, str, str], float] = {}
        self._lock = threading.Lock()

    def add(self, key: tuple[str, str, str], usd: float) -> None:
        with self._lock:
            self._totals[key] = self._totals.get(key, 0.0) + usd

    def observe(self, options: CallbackOptions) -> Iterable[Observation]:
        # Every collection first waits for the calls that have ended to be finished, so a reader
        # (and the histograms collected after this callback) sees all of them.
        FINISHER.flush(min(options.timeout_millis, _COLLECT_WAIT_MS) / 1000.0)
        with self._lock:
            items = list(self._totals.items())
        for (model, operation, provider), usd in items:
            yield Observation(usd, {RESPONSE_MODEL: model, OPERATION: operation, PROVIDER: provider})


_COLLECT_WAIT_MS = 5_000.0


@dataclass(frozen=True, slots=True)
class Instruments:
    duration: Histogram
    tokens: Histogram
    ttfc: Histogram
    time_per_chunk: Histogram
    cost: ObservableCounter
    cost_totals: CostTotals = field(default_factory=CostTotals)
    #: Metric attributes per key, built once (the few models and endpoints an app uses).
    by_key: dict[MetricKey, _KeyAttributes] = field(default_factory=dict)

    @classmethod
    def create(cls, meter: Meter) -> Instruments:
        totals = CostTotals()
        return cls(
            duration=meter.create_histogram(
                _m.GEN_AI_CLIENT_OPERATION_DURATION,
                unit="s",
                description="GenAI operation duration",
                explicit_bucket_boundaries_advisory=list(DURATION_BUCKETS),
            ),
            tokens=meter.create_histogram(
                _m.GEN_AI_CLIENT_TOKEN_USAGE,
                unit="{token}",
                description="Number of input and output tokens used",
                explicit_bucket_boundaries_advisory=list(TOKEN_BUCKETS),
            ),
            ttfc=meter.create_histogram(
                _m.GEN_AI_CLIENT_OPERATION_TIME_TO_FIRST_CHUNK,
                unit="s",
                description="Time to receive the first chunk of a streamed response",
                explicit_bucket_boundaries_advisory=list(DURATION_BUCKETS),
            ),
            time_per_chunk=meter.create_histogram(
                _m.GEN_AI_CLIENT_OPERATION_TIME_PER_OUTPUT_CHUNK,
                unit="s",
                description="Mean time between output chunks after the first, per streamed response",
                explicit_bucket_boundaries_advisory=list(DURATION_BUCKETS),
            ),
            cost=meter.create_observable_counter(
                COST_METRIC,
                callbacks=[totals.observe],
                unit="USD",
                description="Cost of GenAI calls in US dollars, from genai-prices",
            ),
            cost_totals=totals,
        )

    def record(
        self,
        key: MetricKey,
        *,
        context: Context,
        duration_s: float,
        error_type: str | None,
        input_tokens: int | None,
        output_tokens: int | None,
        ttfc_s: float | None,
        time_per_chunk_s: float | None,
        cost_usd: float | None,
    ) -> None:
        """One call's measurements. ``context``: where the call was made (exemplars link to its span)."""
        attributes = self.by_key.get(key)
        if attributes is None:
            if len(self.by_key) >= _CACHE_LIMIT:
                self.by_key.clear()
            attributes = self.by_key[key] = _key_attributes(key)
        base = attributes.base
        self.duration.record(duration_s, {**base, ERROR_TYPE: error_type} if error_type else base, context)
        if input_tokens is not None:
            self.tokens.record(input_tokens, attributes.input, context)
        if output_tokens is not None:
            self.tokens.record(output_tokens, attributes.output, context)
        if ttfc_s is not None:
            self.ttfc.record(ttfc_s, base, context)
        if time_per_chunk_s is not None:
            self.time_per_chunk.record(time_per_chunk_s, base, context)
        if cost_usd is not None:
            self.cost_totals.add(attributes.cost_key, cost_usd)
