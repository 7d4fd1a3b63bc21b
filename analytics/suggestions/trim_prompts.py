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

from callscope.analytics.suggestions import _common as c
from callscope.analytics.suggestions.context import RuleContext
from callscope.analytics.suggestions.findings import Finding

RULE = "trim-prompts"


def rule(ctx: RuleContext) -> Iterable[Finding]:
    rows = c.rule_rows(ctx, __name__, {"chars_per_token": ctx.thresholds.chars_per_token})
    groups = c.group_rows(rows, "service_name", "prefix_hash").items()
    return c.finish(ctx, [_finding(ctx, service, prefix, group) for (service, prefix), group in groups])


def _finding(
    ctx: RuleContext, service: str | None, prefix_hash: str, group: list[c.Row]
) -> c.Candidate | None:
    limits = ctx.thresholds
    reduction = limits.trim_assumed_reduction
    calls = int(c.total(group, "calls"))
    prefix, inputs = c.total(group, "prefix_tokens"), c.total(group, "input_tokens")
    share = prefix / inputs
    if calls < limits.trim_min_calls or prefix / calls < limits.trim_min_prefix_tokens:
        return None
    if share < limits.trim_min_prefix_share:
        return None
    pricer = c.Pricer(ctx)
    saving = pricer.total(
        group, lambda row: (reduction * row["prefix_tokens"], reduction * row["cached_prefix_tokens"], 0)
    )
    return c.finding(
        ctx,
        pricer,
        rule=RULE,
        title=f"Trim a {prefix / calls:,.0f}-token system prompt in {service or 'a service'}",
        summary=(
            f"The fixed instructions and tool definitions of this prompt are about "
            f"{prefix / calls:,.0f} tokens, {share:.0%} of the input of its {calls} calls. Removing "
            "repetition, unused tools and examples usually shortens such prompts a lot; if a quarter "
            f"of it went, that would save {reduction * prefix:,.0f} input tokens ({c.usd(saving)}) in "
            "this window. The quarter is an assumption: we never see the prompt's text."
        ),
        saving_usd=saving,
        saving_ms=0.0,
        evidence=c.evidence(
            ctx,
            group,
            calls=calls,
            models=c.canonical_models(pricer, (row["model"] for row in group)),
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
            "cached_prefix_tokens": round(c.total(group, "cached_prefix_tokens")),
            "assumed_reduction": reduction,
            "chars_per_token": limits.chars_per_token,
        },
    )
