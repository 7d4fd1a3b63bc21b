"""The ground truth: what each suggestion rule should find in the demo's calls, and what it should save.

It is computed from the workload's own account of its calls (:class:`CallRecord`: its clock, the token
counts of the SDK's responses) and from the simulator's log of HTTP attempts, with the formulas and
thresholds of ``docs/suggestions.md`` — never from callscope's call log, which it is there to check.

Dollar savings are exact: the same tokens at the same price book's prices. Time savings come from
durations the app measured around each SDK call, which differ from callscope's by the instrumentation's
own overhead and by thread scheduling on a busy machine: they match within :data:`TIMING_TOLERANCE`.
Rules that cut time into clock-aligned windows would count a call that starts within a few milliseconds of
a window boundary on either side; such calls are counted in ``ambiguous_calls``.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from callscope.analytics.prices import PriceBook
from callscope.analytics.suggestions import Thresholds
from callscope.demo.stats import RequestRecord
from callscope.demo.workload.expectation import EXTRAPOLATION, PLANTED, TIMING_TOLERANCE, Expectation
from callscope.demo.workload.recorder import CallRecord
from callscope.demo.workload.rules import RuleFormulas

__all__ = ["EXTRAPOLATION", "PLANTED", "TIMING_TOLERANCE", "Expectation", "GroundTruth", "ground_truth"]


@dataclass(frozen=True)
class GroundTruth:
    """The demo's calls in numbers, and the findings the report must contain (and only those)."""

    plan: Mapping[str, Any]
    calls: int
    failed_calls: int
    calls_by_feature: Mapping[str, int]
    #: Token totals of the calls that succeeded.
    input_tokens: int
    cached_tokens: int
    output_tokens: int
    #: One per planted rule that should fire.
    expectations: tuple[Expectation, ...]
    #: Findings the arithmetic predicts outside the planted places (a workload bug if not empty).
    unplanned: tuple[Expectation, ...] = ()
    #: Planted rules the arithmetic predicts will not fire this time (a workload bug if not empty).
    missing: tuple[str, ...] = ()
    #: The calls as the app saw them.
    records: tuple[CallRecord, ...] = ()

    def expectation(self, rule: str) -> Expectation:
        return next(e for e in self.expectations if e.rule == rule)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["extrapolation"] = EXTRAPOLATION
        return data

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=1, sort_keys=True) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> GroundTruth:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        data.pop("extrapolation", None)
        data["expectations"] = tuple(Expectation(**e) for e in data["expectations"])
        data["unplanned"] = tuple(Expectation(**e) for e in data["unplanned"])
        data["missing"] = tuple(data["missing"])
        data["records"] = tuple(CallRecord(**r) for r in data["records"])
        return cls(**data)


def ground_truth(
    plan: Mapping[str, Any],
    records: Sequence[CallRecord],
    attempts: Sequence[RequestRecord],
    *,
    prices: PriceBook | None = None,
    thresholds: Thresholds | None = None,
) -> GroundTruth:
    """The truth for one run: ``records`` from the workload, ``attempts`` from the simulator."""
    rules = RuleFormulas(records, attempts, prices or PriceBook(), thresholds or Thresholds())
    found = [e for e in rules.all() if rules.worth_reporting(e)]
    expected = [e for e in found if PLANTED.get(e.rule) == e.feature]
    unplanned = [replace(e, description="") for e in found if PLANTED.get(e.rule) != e.feature]
    missing = sorted(set(PLANTED) - {e.rule for e in expected})
    by_feature: dict[str, int] = defaultdict(int)
    for record in records:
        by_feature[record.feature] += 1
    ok = [r for r in records if r.status == "ok"]
    return GroundTruth(
        plan=dict(plan),
        calls=len(records),
        failed_calls=len(records) - len(ok),
        calls_by_feature=dict(sorted(by_feature.items())),
        input_tokens=sum(r.input_tokens or 0 for r in ok),
        cached_tokens=sum(r.cached_tokens or 0 for r in ok),
        output_tokens=sum(r.output_tokens or 0 for r in ok),
        expectations=tuple(sorted(expected, key=lambda e: list(PLANTED).index(e.rule))),
        unplanned=tuple(unplanned),
        missing=tuple(missing),
        records=tuple(records),
    )
