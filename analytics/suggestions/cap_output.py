"""Rule 4, cap output length: uncapped calls with a long tail of output, or cut by the model's limit.

For the calls of one service and model that set no ``max_output_tokens``, the suggested
cap is the ``output_cap_quantile`` (p90) of their output tokens. The rule speaks when the
tail is long (``output_tail_min_calls`` calls above ``output_tail_factor`` × the cap) or
when calls ran into the model's own limit (``finish_reasons`` contains ``length``). The
saving is every output token above the cap, and the share of those calls' time spent
generating them. Reasoning models are left out: a cap there also cuts their thinking.
"""

from __future__ import annotations

from collections.abc import Iterable

from callscope.analytics.suggestions._common import (
    MODEL_SQL,
    TIER_SQL,
    Candidate,
    Pricer,
    Row,
    canonical_models,
    duration,
    evidence,
    examples_sql,
    finding,
    finish,
    group_rows,
    load_sql,
    query,
    usd,
)
from callscope.analytics.suggestions.context import RuleContext
from callscope.analytics.suggestions.findings import Finding

RULE = "cap-output"

SQL = load_sql(__name__)


def rule(ctx: RuleContext) -> Iterable[Finding]:
    limits = ctx.thresholds
    sql = SQL.format(model=MODEL_SQL, tier=TIER_SQL, examples=examples_sql(limits.example_count))
    params = {
        "quantile": limits.output_cap_quantile,
        "min_calls": limits.output_min_calls,
        "tail_factor": limits.output_tail_factor,
    }
    findings = []
    for (service, model), group in group_rows(query(ctx, sql, params), "service_name", "model").items():
        tail = sum(int(row["tail_calls"]) for row in group)
        cut = sum(int(row["truncated_calls"]) for row in group)
        if tail < limits.output_tail_min_calls and cut < limits.output_truncated_min_calls:
            continue
        findings.append(_finding(ctx, service, model, group, tail=tail, cut=cut))
    return finish(ctx, findings)


def _finding(
    ctx: RuleContext, service: str | None, model: str, group: list[Row], *, tail: int, cut: int
) -> Candidate:
    limits = ctx.thresholds
    pricer = Pricer(ctx)
    first = group[0]
    cap = int(first["cap"])
    excess = sum(float(row["excess_tokens"]) for row in group)
    excess_ms = sum(float(row["excess_ms"]) for row in group)
    saving = 0.0
    for row in group:
        cost = pricer.cost(model, 0, 0, row["excess_tokens"], service_tier=row["tier"])
        saving += cost or 0.0
    above = sum(int(row["calls_above_cap"]) for row in group)
    longest = max(int(row["max_output_tokens"]) for row in group)
    quantile = f"p{limits.output_cap_quantile * 100:g}"
    cut_text = f"; {cut} were cut off by the model's own limit (finish reason `length`)" if cut else ""
    return finding(
        ctx,
        pricer,
        rule=RULE,
        title=f"Cap the output of {model} in {service or 'a service'} at about {cap:,} tokens",
        summary=(
            f"{first['uncapped_calls']} calls set no max output tokens. {quantile} of their output is "
            f"{cap:,} tokens, but {above} went beyond it (up to {longest:,}){cut_text}. Setting "
            f"`max_tokens` / `max_output_tokens` to about {cap:,} (and asking for brevity in the prompt) "
            f"would have saved {excess:,.0f} output tokens ({usd(saving)}) and about "
            f"{duration(excess_ms)} of generation. Check that the long answers were not needed."
        ),
        saving_usd=saving,
        saving_ms=excess_ms,
        evidence=evidence(
            ctx,
            group,
            calls=above,
            models=canonical_models(pricer, [model]),
            details={
                "uncapped_calls": first["uncapped_calls"],
                "suggested_cap_tokens": cap,
                "calls_above_cap": above,
                "tail_calls": tail,
                "truncated_calls": cut,
                "longest_output_tokens": longest,
                "unpriced_models": sorted(pricer.unpriced),
            },
        ),
        formula=(
            f"cap = {quantile} of output_tokens of the uncapped calls; "
            "excess = Σ max(output_tokens − cap, 0); saving_usd = excess × output / 1M; "
            "saving_ms = Σ duration_ms × (output_tokens − cap) / output_tokens over the calls above the "
            "cap (generation time taken as proportional to tokens)."
        ),
        inputs={
            "uncapped_calls": int(first["uncapped_calls"]),
            "cap_tokens": cap,
            "calls_above_cap": above,
            "excess_output_tokens": excess,
            "excess_ms": excess_ms,
        },
    )
