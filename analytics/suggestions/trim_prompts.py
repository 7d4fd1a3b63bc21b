"""Rule 8, trim prompts: fixed instructions and tool definitions make up most of what is paid for.

For one prompt (service and ``prefix_hash``) with at least ``trim_min_calls`` calls,
whose prefix (estimated from ``prefix_chars`` at ``chars_per_token``) averages at least
``trim_min_prefix_tokens`` tokens and is at least ``trim_min_prefix_share`` of the input
tokens, the rule assumes a careful edit removes ``trim_assumed_reduction`` (25 %) of it:
an assumption, stated in every finding, since we never see the prompt's text. Removed
tokens that were read from the prompt cache are priced at the cached rate.
"""

from __future__ import annotations

from collections.abc import Iterable

from callscope.analytics.suggestions._common import (
    MODEL_SQL,
    TIER_SQL,
    Pricer,
    canonical_models,
    evidence,
    examples_sql,
    finding,
    finish,
    group_rows,
    load_sql,
    query,
    total,
    usd,
)
from callscope.analytics.suggestions.context import RuleContext
from callscope.analytics.suggestions.findings import Finding

RULE = "trim-prompts"

SQL = load_sql(__name__)


def rule(ctx: RuleContext) -> Iterable[Finding]:
    limits = ctx.thresholds
    sql = SQL.format(model=MODEL_SQL, tier=TIER_SQL, examples=examples_sql(limits.example_count))
    rows = query(ctx, sql, {"chars_per_token": limits.chars_per_token})
    reduction = limits.trim_assumed_reduction
    findings = []
    for (service, prefix_hash), group in group_rows(rows, "service_name", "prefix_hash").items():
        calls = int(total(group, "calls"))
        prefix, inputs = total(group, "prefix_tokens"), total(group, "input_tokens")
        share = prefix / inputs
        if calls < limits.trim_min_calls or prefix / calls < limits.trim_min_prefix_tokens:
            continue
        if share < limits.trim_min_prefix_share:
            continue
        pricer = Pricer(ctx)
        saving = 0.0
        for row in group:
            removed = reduction * row["prefix_tokens"]
            removed_cached = reduction * row["cached_prefix_tokens"]
            cost = pricer.cost(row["model"], removed, removed_cached, 0, service_tier=row["tier"])
            saving += cost or 0.0
        findings.append(
            finding(
                ctx,
                pricer,
                rule=RULE,
                title=f"Trim a {prefix / calls:,.0f}-token system prompt in {service or 'a service'}",
                summary=(
                    f"The fixed instructions and tool definitions of this prompt are about "
                    f"{prefix / calls:,.0f} tokens, {share:.0%} of the input of its {calls} calls. Removing "
                    "repetition, unused tools and examples usually shortens such prompts a lot; if a quarter "
                    f"of it went, that would save {reduction * prefix:,.0f} input tokens ({usd(saving)}) in "
                    "this window. The quarter is an assumption: we never see the prompt's text."
                ),
                saving_usd=saving,
                saving_ms=0.0,
                evidence=evidence(
                    ctx,
                    group,
                    calls=calls,
                    models=canonical_models(pricer, (row["model"] for row in group)),
                    prefix_hash=prefix_hash,
                    details={
                        "prefix_tokens_estimated_avg": prefix / calls,
                        "prefix_share_of_input": share,
                        "assumed_reduction": reduction,
                        "unpriced_models": sorted(pricer.unpriced),
                    },
                ),
                formula=(
                    "prefix_tokens = min(prefix_chars / chars_per_token, input_tokens); removed = "
                    "assumed_reduction × Σ prefix_tokens, of which the cached part (assumed_reduction × Σ "
                    "min(cached_input_tokens, prefix_tokens)) is priced at cached_input and the rest at "
                    "input; saving_usd = that cost / 1M. Latency saving not estimated."
                ),
                inputs={
                    "calls": calls,
                    "prefix_tokens": round(prefix),
                    "input_tokens": int(inputs),
                    "cached_prefix_tokens": round(total(group, "cached_prefix_tokens")),
                    "assumed_reduction": reduction,
                    "chars_per_token": limits.chars_per_token,
                },
            )
        )
    return finish(ctx, findings)
