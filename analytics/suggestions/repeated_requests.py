"""Rule 1, cache repeated requests: the same request sent again while its answer was still fresh.

A call is a *repeat* when a successful call of the same service with the same
``request_hash`` (the whole request: model, messages, parameters) started at most
``repeat_window_hours`` before it. A response cache kept for that long, refreshed on each
hit, would have answered every repeat: the saving is the repeats' cost and latency.
"""

from __future__ import annotations

from collections.abc import Iterable

from callscope.analytics.suggestions import _common as c
from callscope.analytics.suggestions.context import RuleContext
from callscope.analytics.suggestions.findings import Finding

RULE = "cache-repeated-requests"


def rule(ctx: RuleContext) -> Iterable[Finding]:
    rows = c.rule_rows(ctx, __name__, {"window_s": ctx.thresholds.repeat_window_hours * 3600})
    groups = c.group_rows(rows, "service_name").items()
    return c.finish(ctx, [_finding(ctx, service, group) for (service,), group in groups])


def _finding(ctx: RuleContext, service: str | None, group: list[c.Row]) -> c.Candidate | None:
    limits = ctx.thresholds
    repeats = int(c.total(group, "repeats"))
    if repeats < limits.repeat_min_calls:
        return None
    pricer = c.Pricer(ctx)
    saving = pricer.total(group, c.TOKENS)
    saving_ms = c.total(group, "duration_ms")
    distinct_requests = int(c.total(group, "distinct_requests"))
    # The most repeated request; of tied ones, the one repeated first (a stable choice).
    top = min(
        group,
        key=lambda row: (-row["top_repeats"], row["top_call"]["start_time"], row["top_call"]["span_key"]),
    )
    sampled = int(c.total(group, "sampled_repeats"))
    caveat = (
        f" {sampled} of the repeats asked for temperature > 0, so their answers may be meant to differ."
        if sampled
        else ""
    )
    return c.finding(
        ctx,
        pricer,
        rule=RULE,
        title=f"Cache repeated requests in {service or 'an unnamed service'}",
        summary=(
            f"{repeats} calls repeated an identical request (same model, messages and parameters) "
            f"sent less than {limits.repeat_window_hours:g} h before; "
            + c.plural(distinct_requests, "distinct request was", "distinct requests were")
            + " repeated. "
            "A response cache keyed on the request would have answered "
            f"them: {c.usd(saving)} and {c.duration(saving_ms)} of waiting in this window." + caveat
        ),
        saving_usd=saving,
        saving_ms=saving_ms,
        evidence=c.evidence(
            ctx,
            group,
            calls=repeats,
            models=c.canonical_models(pricer, (row["model"] for row in group)),
            details={
                "distinct_requests": distinct_requests,
                "window_hours": limits.repeat_window_hours,
                "repeats_with_temperature_above_0": sampled,
                "unpriced_models": sorted(pricer.unpriced),
            },
        ),
        formula=(
            "saving_usd = Σ over repeats of the call's cost at the book's prices "
            "((input − cached) × input + cached × cached_input + output × output) / 1M; "
            "saving_ms = Σ duration_ms of the repeats."
        ),
        inputs={
            "repeats": repeats,
            "input_tokens": int(c.total(group, "input_tokens")),
            "cached_input_tokens": int(c.total(group, "cached_input_tokens")),
            "output_tokens": int(c.total(group, "output_tokens")),
            "repeat_duration_ms": saving_ms,
        },
        request_call=(top["top_call"]["start_time"], int(top["top_call"]["span_key"])),
    )
