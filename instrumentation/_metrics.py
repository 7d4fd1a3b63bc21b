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
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from callscope.instrumentation.attributes import (
    ERROR_TYPE,
    OPERATION,
    PROVIDER,
    REQUEST_MODEL,
    RESPONSE_MODEL,
)
from opentelemetry.metrics import CallbackOptions, Histogram, Meter, ObservableCounter, Observation
from opentelemetry.semconv._incubating.attributes.gen_ai_attributes import GEN_AI_TOKEN_TYPE
from opentelemetry.semconv._incubating.metrics import gen_ai_metrics as _m

__all__ = ["COST_METRIC", "DURATION_BUCKETS", "TOKEN_BUCKETS", "Instruments"]

TOKEN_BUCKETS = (
    1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
)  # fmt: skip
DURATION_BUCKETS = (
    0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
)  # fmt: skip

COST_METRIC = "callscope.client.cost"
_INPUT = {GEN_AI_TOKEN_TYPE: "input"}
_OUTPUT = {GEN_AI_TOKEN_TYPE: "output"}


class CostTotals:
    """Running USD totals per (model, operation, provider), observed by the cost counter."""

    def __init__(self) -> None:
        self._totals: dict[tuple[str, str, str], float] = {}
        self._lock = threading.Lock()

    def add(self, key: tuple[str, str, str], usd: float) -> None:
        with self._lock:
            self._totals[key] = self._totals.get(key, 0.0) + usd

    def observe(self, options: CallbackOptions) -> Iterable[Observation]:
        with self._lock:
            items = list(self._totals.items())
        for (model, operation, provider), usd in items:
            yield Observation(usd, {RESPONSE_MODEL: model, OPERATION: operation, PROVIDER: provider})


@dataclass(frozen=True, slots=True)
class Instruments:
    duration: Histogram
    tokens: Histogram
    ttfc: Histogram
    time_per_chunk: Histogram
    cost: ObservableCounter
    cost_totals: CostTotals = field(default_factory=CostTotals)

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
        attributes: dict[str, Any],
        *,
        duration_s: float,
        error_type: str | None,
        input_tokens: int | None,
        output_tokens: int | None,
        ttfc_s: float | None,
        time_per_chunk_s: float | None,
        cost_usd: float | None,
    ) -> None:
        self.duration.record(duration_s, {**attributes, ERROR_TYPE: error_type} if error_type else attributes)
        if input_tokens is not None:
            self.tokens.record(input_tokens, {**attributes, **_INPUT})
        if output_tokens is not None:
            self.tokens.record(output_tokens, {**attributes, **_OUTPUT})
        if ttfc_s is not None:
            self.ttfc.record(ttfc_s, attributes)
        if time_per_chunk_s is not None:
            self.time_per_chunk.record(time_per_chunk_s, attributes)
        if cost_usd is not None:
            model = attributes.get(RESPONSE_MODEL) or attributes.get(REQUEST_MODEL) or ""
            self.cost_totals.add((model, attributes[OPERATION], attributes[PROVIDER]), cost_usd)
