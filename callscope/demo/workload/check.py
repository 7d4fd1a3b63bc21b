"""Hold a ``callscope report`` (its JSON form) against the ground truth: was each planted pattern found,
with the saving the truth predicts, and was nothing else found?"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from callscope.demo.workload.truth import Expectation, GroundTruth

__all__ = ["USD_TOLERANCE", "RuleCheck", "check_report"]

#: Dollar savings are exact arithmetic on the same tokens and prices; this only absorbs float rounding.
USD_TOLERANCE: Final = 1e-6


@dataclass(frozen=True)
class RuleCheck:
    """One finding: what the truth expects and what the report says (``None`` for either side missing)."""

    rule: str
    #: The part of the app the finding is about ("" when the truth did not expect it).
    feature: str
    expected: Expectation | None
    finding: Mapping[str, Any] | None
    #: Expected because the workload planted it there (not merely predicted by the arithmetic).
    planted: bool = True

    @property
    def found(self) -> bool:
        return self.finding is not None

    def problems(self) -> list[str]:
        """What does not match (empty when the finding is exactly as expected)."""
        e, f = self.expected, self.finding
        if e is None:
            return [f"{self.rule}: found, but nothing was planted for it"]
        if not self.planted:
            return [f"{self.rule}: the calls of {e.feature} qualify, but no pattern was planted there"]
        if f is None:
            return [f"{self.rule}: planted in {e.feature} but not found"]
        out = []
        evidence = f["evidence"]
        slack = e.ambiguous_calls
        if abs(evidence["calls"] - e.calls) > slack:
            out.append(f"{self.rule}: {evidence['calls']} calls in the evidence, expected {e.calls}")
        tolerance = USD_TOLERANCE if not slack else 0.2
        if not math.isclose(f["saving_usd_30d"], e.saving_usd_30d, rel_tol=tolerance, abs_tol=1e-9):
            out.append(
                f"{self.rule}: saves ${f['saving_usd_30d']:.6f}/30 d, expected ${e.saving_usd_30d:.6f}"
            )
        ms_tolerance = max(e.ms_tolerance, 0.2 if slack else 0.0)
        if not math.isclose(f["saving_ms_30d"], e.saving_ms_30d, rel_tol=ms_tolerance, abs_tol=1e-6):
            out.append(f"{self.rule}: saves {f['saving_ms_30d']:.0f} ms/30 d, expected {e.saving_ms_30d:.0f}")
        if not slack:
            for key, value in e.details.items():
                if evidence["details"].get(key) != value:
                    out.append(
                        f"{self.rule}: details.{key} = {evidence['details'].get(key)!r}, expected {value!r}"
                    )
        return out


def check_report(truth: GroundTruth, report: Mapping[str, Any]) -> list[RuleCheck]:
    """A :class:`RuleCheck` per planted rule, per finding the truth predicts elsewhere, and per finding
    the truth did not expect at all."""
    findings: dict[str, list[Mapping[str, Any]]] = {}
    for finding in report.get("suggestions") or ():
        findings.setdefault(finding["rule"], []).append(finding)
    checks = []
    expected = [(e, True) for e in truth.expectations] + [(e, False) for e in truth.unplanned]
    for expectation, planted in expected:
        candidates = findings.get(expectation.rule, [])
        closest = _closest(candidates, expectation)
        if closest is not None:
            candidates.remove(closest)
        checks.append(RuleCheck(expectation.rule, expectation.feature, expectation, closest, planted))
    for rule, extra in findings.items():
        checks += [RuleCheck(rule, "", None, finding, planted=False) for finding in extra]
    return checks


def _closest(candidates: Sequence[Mapping[str, Any]], expected: Expectation) -> Mapping[str, Any] | None:
    """The finding that is about the expected calls (a rule may report several groups)."""
    if not candidates:
        return None
    return min(candidates, key=lambda f: abs(f["evidence"]["calls"] - expected.calls))
