"""The rules of ``docs/suggestions.md``, applied to the workload's own records: the formulas and thresholds
as documented, computed in Python over what the app saw (never over callscope's call log)."""

from __future__ import annotations

import itertools
import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from callscope.analytics.prices import PriceBook
from callscope.analytics.suggestions import Thresholds
from callscope.demo.stats import RequestRecord
from callscope.demo.workload.expectation import BOUNDARY_S, DESCRIPTIONS, TIMING_TOLERANCE, Expectation
from callscope.demo.workload.recorder import CallRecord

__all__ = ["RuleFormulas"]


def _windows(records: Iterable[CallRecord], seconds: float) -> dict[int, list[CallRecord]]:
    out: dict[int, list[CallRecord]] = defaultdict(list)
    for record in sorted(records, key=lambda r: r.started_at):
        out[math.floor(record.started_at / seconds)].append(record)
    return out


def _near_boundary(records: Iterable[CallRecord], seconds: float) -> int:
    def distance(t: float) -> float:
        offset = t % seconds
        return min(offset, seconds - offset)

    return sum(1 for r in records if distance(r.started_at) < BOUNDARY_S)


def _one_feature(records: Sequence[CallRecord]) -> str:
    features = sorted({r.feature for r in records})
    return features[0] if len(features) == 1 else "+".join(features)


class RuleFormulas:
    """The rules of ``docs/suggestions.md`` over the workload's records (one service: the demo app)."""

    def __init__(
        self,
        records: Sequence[CallRecord],
        attempts: Sequence[RequestRecord],
        prices: PriceBook,
        limits: Thresholds,
    ) -> None:
        self.records = records
        self.ok = [r for r in records if r.status == "ok"]
        self.chat_ok = [r for r in self.ok if r.operation == "chat"]
        self.attempts = attempts
        self.prices = prices
        self.limits = limits

    def all(self) -> list[Expectation]:
        return [
            *self.repeated_requests(),
            *self.prompt_caching(),
            *self.batch_api(),
            *self.cap_output(),
            *self.right_size_model(),
            *self.stream_interactive(),
            *self.retry_pressure(),
            *self.trim_prompts(),
            *self.batch_embeddings(),
        ]

    def worth_reporting(self, e: Expectation) -> bool:
        return (
            e.saving_usd_30d >= self.limits.min_saving_usd_30d
            or e.saving_ms_30d >= self.limits.min_saving_ms_30d
        )

    # -- pricing -----------------------------------------------------------------------------------------

    def _price(self, model: str | None) -> Any:
        price = self.prices.lookup(model or "")
        if price is None:
            raise ValueError(f"the demo uses a model without a price: {model}")
        return price

    def cost(self, r: CallRecord, *, model: str | None = None, batch: bool = False) -> float:
        """What the call's tokens cost on ``model`` (default: the one that answered)."""
        price = self._price(model or r.response_model or r.model)
        value = price.cost(r.input_tokens or 0, r.cached_tokens or 0, r.output_tokens or 0, batch=batch)
        return float(value or 0.0)

    def _expect(self, rule: str, group: Sequence[CallRecord], **fields: Any) -> Expectation:
        return Expectation(rule=rule, feature=_one_feature(group), description=DESCRIPTIONS[rule], **fields)

    # -- 1. cache repeated requests ----------------------------------------------------------------------

    def repeated_requests(self) -> list[Expectation]:
        by_request: dict[str, list[CallRecord]] = defaultdict(list)
        for r in self.ok:
            by_request[r.request_key].append(r)
        window = self.limits.repeat_window_hours * 3600
        repeats = []
        for same in by_request.values():
            same.sort(key=lambda r: r.started_at)
            repeats += [b for a, b in itertools.pairwise(same) if b.started_at - a.started_at <= window]
        if len(repeats) < self.limits.repeat_min_calls:
            return []
        return [
            self._expect(
                "cache-repeated-requests",
                repeats,
                calls=len(repeats),
                saving_usd=sum(self.cost(r) for r in repeats),
                saving_ms=sum(r.duration_ms for r in repeats),
                ms_tolerance=TIMING_TOLERANCE,
                details={"distinct_requests": len({r.request_key for r in repeats})},
            )
        ]

    # -- 2. make prompts cache-friendly ------------------------------------------------------------------

    def _prefix_tokens(self, r: CallRecord) -> float:
        return min(r.prefix_chars / self.limits.chars_per_token, r.input_tokens or 0)

    def prompt_caching(self) -> list[Expectation]:
        limits = self.limits
        candidates = [
            r
            for r in self.chat_ok
            if r.prefix_chars >= limits.cache_min_prefix_tokens * limits.chars_per_token
            and (r.input_tokens or 0) >= limits.cache_min_prefix_tokens
        ]
        out = []
        for group in _group(candidates, lambda r: (r.feature, r.response_model)).values():
            window = limits.cache_window_minutes * 60
            later = [r for calls in _windows(group, window).values() for r in calls[1:]]
            step = limits.cache_increment_tokens
            cacheable = {id(r): math.floor(self._prefix_tokens(r) / step) * step for r in later}
            total, cached = sum(cacheable.values()), sum(r.cached_tokens or 0 for r in later)
            if (
                len(later) < limits.cache_min_calls
                or total <= 0
                or cached / total >= limits.cache_max_hit_ratio
            ):
                continue
            missed = sum(max(cacheable[id(r)] - (r.cached_tokens or 0), 0) for r in later)
            price = self._price(group[0].response_model)
            out.append(
                self._expect(
                    "prompt-caching",
                    group,
                    calls=len(later),
                    saving_usd=missed * (price.input_mtok - price.cached_input_mtok) / 1e6,
                    saving_ms=0.0,
                    ambiguous_calls=_near_boundary(group, window),
                    details={"missed_tokens": missed, "cacheable_tokens": total, "cached_tokens": cached},
                )
            )
        return out

    # -- 3. batch non-interactive traffic ----------------------------------------------------------------

    def batch_api(self) -> list[Expectation]:
        limits = self.limits
        offline = set(limits.offline_tags)
        candidates = [
            r
            for r in self.chat_ok
            if not r.stream
            and (r.prefix_chars > 0 or r.tools > 0)
            and (r.input_tokens or 0) <= limits.batch_max_input_tokens
            and (r.route is None or offline & set(r.tags))
        ]
        out = []
        window = limits.batch_burst_minutes * 60
        for group in _group(candidates, lambda r: r.feature).values():
            bursts = [
                calls
                for calls in _windows(group, window).values()
                if len(calls) >= limits.batch_min_burst_calls
            ]
            calls = [r for burst in bursts for r in burst]
            if not calls:
                continue
            out.append(
                self._expect(
                    "batch-api",
                    group,
                    calls=len(calls),
                    saving_usd=sum(self.cost(r) - self.cost(r, batch=True) for r in calls),
                    saving_ms=0.0,
                    ambiguous_calls=_near_boundary(group, window),
                    details={"bursts": len(bursts)},
                )
            )
        return out

    # -- 4. cap output length ----------------------------------------------------------------------------

    def cap_output(self) -> list[Expectation]:
        limits = self.limits
        uncapped = [r for r in self.chat_ok if r.max_tokens is None and not r.reasoning_tokens]
        out = []
        for group in _group(uncapped, lambda r: r.response_model).values():
            if len(group) < limits.output_min_calls:
                continue
            outputs = sorted(r.output_tokens or 0 for r in group)
            # DuckDB's quantile_disc: the smallest value at least that share of the calls stayed within.
            cap = outputs[math.ceil(limits.output_cap_quantile * len(outputs)) - 1]
            above = [r for r in group if (r.output_tokens or 0) > cap]
            tail = sum(1 for r in group if (r.output_tokens or 0) > limits.output_tail_factor * cap)
            cut = sum(1 for r in group if r.finish_reason == "length")
            if tail < limits.output_tail_min_calls and cut < limits.output_truncated_min_calls:
                continue
            excess = sum((r.output_tokens or 0) - cap for r in above)
            out.append(
                self._expect(
                    "cap-output",
                    group,
                    calls=len(above),
                    saving_usd=excess * self._price(group[0].response_model).output_mtok / 1e6,
                    saving_ms=sum(
                        r.duration_ms * ((r.output_tokens or 0) - cap) / (r.output_tokens or 1) for r in above
                    ),
                    ms_tolerance=TIMING_TOLERANCE,
                    details={
                        "uncapped_calls": len(group),
                        "suggested_cap_tokens": cap,
                        "tail_calls": tail,
                        "truncated_calls": cut,
                    },
                )
            )
        return out

    # -- 5. right-size the model -------------------------------------------------------------------------

    def right_size_model(self) -> list[Expectation]:
        limits = self.limits
        smaller = dict(limits.smaller_models)
        out = []
        for group in _group(self.chat_ok, lambda r: (r.feature, r.response_model)).values():
            large = self._price(group[0].response_model).model
            if large not in smaller:
                continue
            small = [
                r
                for r in group
                if (r.input_tokens or 0) <= limits.rightsize_max_input_tokens
                and (r.output_tokens or 0) - (r.reasoning_tokens or 0) <= limits.rightsize_max_output_tokens
                and r.tools == 0
            ]
            if len(small) < limits.rightsize_min_calls or len(small) < limits.rightsize_min_share * len(
                group
            ):
                continue
            out.append(
                self._expect(
                    "right-size-model",
                    group,
                    calls=len(small),
                    saving_usd=sum(self.cost(r) - self.cost(r, model=smaller[large]) for r in small),
                    saving_ms=0.0,
                    details={"all_calls_with_prompt": len(group), "smaller_model": smaller[large]},
                )
            )
        return out

    # -- 6. stream interactive calls ---------------------------------------------------------------------

    def stream_interactive(self) -> list[Expectation]:
        limits = self.limits
        interactive = set(limits.interactive_tags)
        candidates = [
            r
            for r in self.chat_ok
            if not r.stream
            and r.duration_ms >= limits.stream_min_duration_ms
            and (r.output_tokens or 0) >= limits.stream_min_output_tokens
            and (r.route is not None or interactive & set(r.tags))
        ]
        ttft: dict[str | None, list[float]] = defaultdict(list)
        for r in self.chat_ok:
            if r.stream and r.ttft_ms is not None:
                ttft[r.response_model].append(r.ttft_ms)
        out = []
        for group in _group(candidates, lambda r: r.route).values():
            if len(group) < limits.stream_min_calls:
                continue
            samples = ttft[group[0].response_model]
            estimate = (
                statistics.median(samples)
                if len(samples) >= limits.stream_min_ttft_samples
                else limits.stream_default_ttft_ms
            )
            out.append(
                self._expect(
                    "stream-interactive",
                    group,
                    calls=len(group),
                    saving_usd=0.0,
                    saving_ms=sum(max(r.duration_ms - estimate, 0.0) for r in group),
                    ms_tolerance=TIMING_TOLERANCE,
                    details={"route": group[0].route},
                )
            )
        return out

    # -- 7. back off and spread load ---------------------------------------------------------------------

    def retry_pressure(self) -> list[Expectation]:
        """From the simulator's log: each logical call's first attempt carries retry count 0."""
        limits = self.limits
        by_id = {a.request_id: a for a in self.attempts}
        out = []
        for model, group in _group(self.records, lambda r: r.model).items():
            tried = [a for a in self.attempts if a.model == model]
            first = [a for a in tried if a.attempt == 0]
            troubled = sum(1 for a in first if a.status != 200)
            if troubled < limits.retry_min_calls or troubled < limits.retry_min_share * len(group):
                continue
            failed = [r for r in group if r.status != "ok"]
            # A troubled call that succeeded lost everything before its last attempt; the last attempt took
            # about what the simulator planned for it. A call that failed lost all of its time.
            lost = 0.0
            for r in group:
                final = by_id.get(r.request_id or "")
                if r.status == "ok" and final is not None and final.attempt > 0:
                    lost += max(r.duration_ms - final.planned_ms, 0.0)
            lost += sum(r.duration_ms for r in failed)
            out.append(
                self._expect(
                    "retry-pressure",
                    group,
                    calls=troubled,
                    saving_usd=0.0,
                    saving_ms=lost,
                    ms_tolerance=TIMING_TOLERANCE,
                    details={
                        "retried": troubled,
                        "extra_attempts": sum(1 for a in tried if a.attempt > 0),
                        "rate_limited": troubled,
                        "timed_out": 0,
                        "failed": len(failed),
                        "all_calls": len(group),
                    },
                )
            )
        return out

    # -- 8. trim prompts ---------------------------------------------------------------------------------

    def trim_prompts(self) -> list[Expectation]:
        limits = self.limits
        reduction = limits.trim_assumed_reduction
        with_prefix = [r for r in self.chat_ok if r.prefix_chars > 0 and (r.input_tokens or 0) > 0]
        out = []
        for group in _group(with_prefix, lambda r: r.feature).values():
            prefix = sum(self._prefix_tokens(r) for r in group)
            inputs = sum(r.input_tokens or 0 for r in group)
            if len(group) < limits.trim_min_calls or prefix / len(group) < limits.trim_min_prefix_tokens:
                continue
            if prefix / inputs < limits.trim_min_prefix_share:
                continue
            saving = 0.0
            for r in group:
                price = self._price(r.response_model)
                removed = reduction * self._prefix_tokens(r)
                removed_cached = reduction * min(r.cached_tokens or 0, self._prefix_tokens(r))
                saving += (
                    (removed - removed_cached) * price.input_mtok + removed_cached * price.cached_input_mtok
                ) / 1e6
            out.append(
                self._expect(
                    "trim-prompts",
                    group,
                    calls=len(group),
                    saving_usd=saving,
                    saving_ms=0.0,
                    details={"assumed_reduction": reduction},
                )
            )
        return out

    # -- 10. batch embeddings ----------------------------------------------------------------------------

    def batch_embeddings(self) -> list[Expectation]:
        limits = self.limits
        single = [r for r in self.ok if r.operation == "embeddings" and r.inputs == 1]
        out = []
        window = limits.embed_burst_seconds
        for group in _group(single, lambda r: r.response_model).values():
            bursts = [
                calls
                for calls in _windows(group, window).values()
                if len(calls) >= limits.embed_min_burst_calls
            ]
            if not bursts:
                continue
            saving = sum(
                max(
                    sum(r.duration_ms for r in burst)
                    - math.ceil(len(burst) / limits.embed_batch_size) * max(r.duration_ms for r in burst),
                    0.0,
                )
                for burst in bursts
            )
            out.append(
                self._expect(
                    "batch-embeddings",
                    group,
                    calls=sum(len(b) for b in bursts),
                    saving_usd=0.0,
                    saving_ms=saving,
                    ms_tolerance=TIMING_TOLERANCE,
                    ambiguous_calls=_near_boundary(group, window),
                    details={
                        "bursts": len(bursts),
                        "batched_requests": sum(math.ceil(len(b) / limits.embed_batch_size) for b in bursts),
                    },
                )
            )
        return out


def _group(records: Iterable[CallRecord], key: Any) -> dict[Any, list[CallRecord]]:
    out: dict[Any, list[CallRecord]] = defaultdict(list)
    for record in records:
        out[key(record)].append(record)
    return dict(out)
