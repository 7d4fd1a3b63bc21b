"""Rule 1, cache repeated requests: the same request sent again while its answer was still fresh.

A call is a *repeat* when a successful call of the same service with the same
``request_hash`` (the whole request: model, messages, parameters) started at most
``repeat_window_hours`` before it. A response cache kept for that long, refreshed on each
hit, would have answered every repeat: the saving is the repeats' cost and latency.
"""

from __future__ import annotations

from collections.abc import Iterable

from callscope.analytics.suggestions._common import (
    MODEL_SQL,
    TIER_SQL,
    Pricer,
    canonical_models,
    duration,
    evidence,
    examples_sql,
    finding,
    finish,
    group_rows,
    load_sql,
    plural,
    query,
    total,
    usd,
)
from callscope.analytics.suggestions.context import RuleContext
from callscope.analytics.suggestions.findings import Finding

RULE = "cache-repeated-requests"

SQL = load_sql(__name__)


def rule(ctx: RuleContext) -> Iterable[Finding]:
    limits = ctx.thresholds
    sql = SQL.format(model=MODEL_SQL, tier=TIER_SQL, examples=examples_sql(limits.example_count))
    rows = query(ctx, sql, {"window_s": limits.repeat_window_hours * 3600})
    findings = []
    for (service,), group in group_rows(rows, "service_name").items():
        repeats = int(total(group, "repeats"))
        if repeats < limits.repeat_min_calls:
            continue
        pricer = Pricer(ctx)
        saving = 0.0
        for row in group:
            cost = pricer.cost(
                row["model"],
                row["input_tokens"],
                row["cached_input_tokens"],
                row["output_tokens"],
                service_tier=row["tier"],
            )
            saving += cost or 0.0
        saving_ms = total(group, "duration_ms")
        distinct_requests = int(total(group, "distinct_requests"))
        top = max(group, key=lambda row: row["repeats"])
        sampled = int(total(group, "sampled_repeats"))
        caveat = (
            f" {sampled} of the repeats asked for temperature > 0, so their answers may be meant to differ."
            if sampled
            else ""
        )
        findings.append(
            finding(
                ctx,
                pricer,
                rule=RULE,
                title=f"Cache repeated requests in {service or 'an unnamed service'}",
                summary=(
                    f"{repeats} calls repeated an identical request (same model, messages and parameters) "
                    f"sent less than {limits.repeat_window_hours:g} h before; "
                    + plural(distinct_requests, "distinct request was", "distinct requests were")
                    + " repeated. "
                    "A response cache keyed on the request would have answered "
                    f"them: {usd(saving)} and {duration(saving_ms)} of waiting in this window." + caveat
                ),
                saving_usd=saving,
                saving_ms=saving_ms,
                evidence=evidence(
                    ctx,
                    group,
                    calls=repeats,
                    models=canonical_models(pricer, (row["model"] for row in group)),
                    request_hash=top["top_request_hash"],
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
                    "input_tokens": int(total(group, "input_tokens")),
                    "cached_input_tokens": int(total(group, "cached_input_tokens")),
                    "output_tokens": int(total(group, "output_tokens")),
                    "repeat_duration_ms": saving_ms,
                },
            )
        )
    return finish(ctx, findings)
