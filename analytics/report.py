"""``build_report``: the figures and ranked suggestions behind ``callscope report``.

The report is a plain JSON-ready dict (documented in ``docs/report.md``; its ``schema``
key versions it) rendered as text or Markdown by :mod:`callscope.analytics.render`.
Every figure comes from a named query, so the dashboard and the report agree.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from callscope.analytics.connection import NO_CALLS_MESSAGE, Analytics
from callscope.analytics.filters import Filters, ResolvedFilters
from callscope.analytics.result import jsonable

if TYPE_CHECKING:
    from callscope.analytics.suggestions import Finding, Rule, Thresholds

__all__ = ["REPORT_SCHEMA", "Report", "build_report", "find_suggestions", "observed_days"]

REPORT_SCHEMA: Final = "callscope.report/1"
#: Savings are extrapolated from the observed period; a shorter one would make them wild.
MIN_PERIOD: Final = timedelta(hours=1)
TOTAL_KEYS: Final = (
    "calls",
    "error_calls",
    "error_rate",
    "incomplete_calls",
    "retried_calls",
    "retry_rate",
    "rate_limited_calls",
    "streamed_calls",
    "attempts",
    "retry_wait_ms",
    "input_tokens",
    "output_tokens",
    "cached_input_tokens",
    "reasoning_tokens",
    "cost_usd",
    "mean_cost_usd",
    "unpriced_calls",
    "first_call",
    "last_call",
)
LATENCY_KEYS: Final = ("p50_ms", "p95_ms", "p99_ms", "mean_ms", "ttft_p50_ms", "ttft_p95_ms", "ttft_p99_ms")


@dataclass(frozen=True)
class Report:
    """A built report: ``data`` is the JSON-ready dict; ``timings_ms`` how long each part took."""

    data: dict[str, Any]
    timings_ms: dict[str, float] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return bool(self.data["empty"])

    def to_dict(self) -> dict[str, Any]:
        return self.data


def build_report(
    analytics: Analytics,
    filters: Filters | ResolvedFilters | None = None,
    *,
    rules: Sequence[Rule] | None = None,
    thresholds: Thresholds | None = None,
    top: int = 10,
    now: datetime | None = None,
) -> Report:
    """Totals (with the previous period), latency, cost drivers, errors and ranked suggestions."""
    resolved = filters if isinstance(filters, ResolvedFilters) else (filters or Filters()).resolve(now)
    timings: dict[str, float] = {}

    @contextmanager
    def timed(part: str) -> Iterator[None]:
        started = time.perf_counter()
        yield
        timings[part] = round((time.perf_counter() - started) * 1000, 1)

    data: dict[str, Any] = {
        "schema": REPORT_SCHEMA,
        "generated_at": resolved.now.isoformat(),
        "data": analytics.dataset.location,
        "filters": resolved.describe(),
        "window": _window(resolved, None),
        "empty": True,
        "message": None,
        "totals": None,
        "latency": None,
        "cost": None,
        "errors": [],
        "suggestions": [],
        "savings": {"usd_30d": 0.0, "ms_30d": 0.0},
        "prices": None,
        "notes": [],
    }
    if not analytics.has_calls:
        data["message"] = NO_CALLS_MESSAGE
        return Report(jsonable(data), timings)
    with timed("overview"):
        overview = analytics.run_query("overview", resolved).first() or {}
    if not overview.get("calls"):
        data["message"] = _no_calls_in_window(analytics, resolved)
        return Report(jsonable(data), timings)
    data["empty"] = False
    data["window"] = _window(resolved, overview)
    data["totals"] = _totals(overview)
    data["latency"] = {"overall": {key: overview[key] for key in LATENCY_KEYS}}
    with timed("cost_breakdown"):
        breakdown = analytics.run_query("cost_breakdown", resolved).rows()
    with timed("cost_drivers"):
        drivers = analytics.run_query("cost_drivers", resolved, limit=top).rows()
    grouped: dict[str, list[dict[str, Any]]] = {"model": [], "service": [], "operation": []}
    for row in breakdown:
        grouped[row.pop("dimension")].append(row)
    data["cost"] = {f"by_{dimension}": rows[:top] for dimension, rows in grouped.items()}
    data["cost"]["top_drivers"] = drivers
    with timed("latency_by_model"):
        data["latency"]["by_model"] = analytics.run_query(
            "latency_percentiles", resolved, by="model", limit=top
        ).rows()
    with timed("errors"):
        data["errors"] = analytics.run_query("errors_by_type", resolved, limit=top).rows()
    with timed("suggestions"):
        findings = find_suggestions(
            analytics,
            resolved,
            rules=rules,
            thresholds=thresholds,
            period_days=data["window"]["observed_days"],
        )
    data["suggestions"] = [finding.to_dict() for finding in findings]
    data["savings"] = {
        "usd_30d": sum(finding.saving_usd_30d for finding in findings),
        "ms_30d": sum(finding.saving_ms_30d for finding in findings),
    }
    data["prices"] = {"source": analytics.prices.source}
    data["notes"] = _notes(data["totals"])
    return Report(jsonable(data), timings)


def find_suggestions(
    analytics: Analytics,
    filters: Filters | ResolvedFilters | None = None,
    *,
    rules: Sequence[Rule] | None = None,
    thresholds: Thresholds | None = None,
    period_days: float | None = None,
    now: datetime | None = None,
) -> list[Finding]:
    """The suggestion rules' findings over the calls ``filters`` select, ranked by saving.

    Savings are extrapolated to 30 days from ``period_days``, by default the period the
    calls were observed over (see :func:`observed_days`); ``[]`` when no call matches.
    """
    from callscope.analytics.suggestions import DEFAULT_RULES, RuleContext, Thresholds, run_rules

    resolved = filters if isinstance(filters, ResolvedFilters) else (filters or Filters()).resolve(now)
    if period_days is None:
        extent = analytics.run_query("dataset_extent", resolved).one()
        if not extent["calls"]:
            return []
        period_days = observed_days(resolved, extent["first_call"], extent["last_call"])
    analytics.ensure_prices(repricing=False)  # the rules price with the book itself
    with analytics.scoped(resolved) as con:
        context = RuleContext(
            con=con, prices=analytics.prices, period_days=period_days, thresholds=thresholds or Thresholds()
        )
        return run_rules(context, DEFAULT_RULES if rules is None else rules)


def _window(resolved: ResolvedFilters, overview: Mapping[str, Any] | None) -> dict[str, Any]:
    """The asked-for window and the period the calls were observed over (savings are per 30 days of it)."""
    window: dict[str, Any] = {
        "since": resolved.since,
        "until": resolved.until,
        "end": resolved.end,
        "days": None if resolved.period is None else resolved.period / timedelta(days=1),
        "previous": None,
        "observed_days": None,
    }
    previous = resolved.previous()
    if previous is not None:
        window["previous"] = {"since": previous.since, "until": previous.until}
    if overview and overview.get("first_call"):
        window["observed_days"] = observed_days(resolved, overview["first_call"], overview["last_call"])
    return window


def observed_days(resolved: ResolvedFilters, first_call: datetime, last_call: datetime) -> float:
    """Days the calls were observed over: from the later of ``since`` and the first call to the
    end of the window (at least :data:`MIN_PERIOD`). Savings per 30 days scale from it."""
    start = max(resolved.since, first_call) if resolved.since else first_call
    end = resolved.until or max(resolved.now, last_call)
    return max(end - start, MIN_PERIOD) / timedelta(days=1)


def _totals(overview: Mapping[str, Any]) -> dict[str, Any]:
    totals = {key: overview[key] for key in TOTAL_KEYS}
    if overview.get("prev_calls") is None:
        totals["previous"] = None
        totals["change"] = None
        return totals
    previous = {key: overview[f"prev_{key}"] for key in TOTAL_KEYS}
    previous.update({key: overview[f"prev_{key}"] for key in LATENCY_KEYS})
    totals["previous"] = previous
    current = {**totals, **{key: overview[key] for key in LATENCY_KEYS}}
    totals["change"] = {
        key: _relative_change(current[key], previous[key])
        for key in (*TOTAL_KEYS, *LATENCY_KEYS)
        if key not in ("first_call", "last_call")
    }
    return totals


def _relative_change(current: Any, previous: Any) -> float | None:
    """``(current - previous) / previous``; ``None`` when there is nothing to compare with."""
    if not isinstance(current, int | float) or not isinstance(previous, int | float) or previous == 0:
        return None
    return (current - previous) / previous


def _no_calls_in_window(analytics: Analytics, resolved: ResolvedFilters) -> str:
    extent = analytics.run_query("dataset_extent").first() or {}
    if not extent.get("calls"):
        return NO_CALLS_MESSAGE
    since = _short(resolved.since) if resolved.since else "the start"
    until = _short(resolved.until) if resolved.until else "now"
    return (
        f"no calls match between {since} and {until} with these filters; the dataset has "
        f"{extent['calls']:,} calls from {_short(extent['first_call'])} to {_short(extent['last_call'])} "
        "(try a longer --since, or fewer filters)"
    )


def _short(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _notes(totals: Mapping[str, Any]) -> list[str]:
    notes = []
    if totals["unpriced_calls"]:
        notes.append(
            f"{totals['unpriced_calls']:,} calls have no cost (a model genai-prices does not know, "
            "or a failed "
            "call): add their prices to a prices file (--prices) to include them"
        )
    return notes
