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

from callscope.analytics.suggestions import _common as c
from callscope.analytics.suggestions.context import RuleContext
from callscope.analytics.suggestions.findings import Finding

RULE = "cap-output"


def rule(ctx: RuleContext) -> Iterable[Finding]:
    limits = ctx.thresholds
    params = {
        "quantile": limits.output_cap_quantile,
        "min_calls": limits.output_min_calls,
        "tail_factor": limits.output_tail_factor,
    }
    groups = c.group_rows(c.rule_rows(ctx, __name__, params), "service_name", "model").items()
    return c.finish(ctx, [_finding(ctx, service, model, group) for (service, model), group in groups])


def _finding(ctx: RuleContext, service: str | None, model: str, group: list[c.Row]) -> c.Candidate | None:
    limits = ctx.thresholds
    tail = int(c.total(group, "tail_calls"))
    cut = int(c.total(group, "truncated_calls"))
    if tail < limits.output_tail_min_calls and cut < limits.output_truncated_min_calls:
        return None
    pricer = c.Pricer(ctx)
    first = group[0]
    cap = int(first["cap"])
    excess = c.total(group, "excess_tokens")
    excess_ms = c.total(group, "excess_ms")
    saving = pricer.total(group, lambda row: (0, 0, row["excess_tokens"]))
    above = int(c.total(group, "calls_above_cap"))
    longest = max(int(row["max_output_tokens"]) for row in group)
    quantile = f"p{limits.output_cap_quantile * 100:g}"
    cut_text = f"; {cut} were cut off by the model's own limit (finish reason `length`)" if cut else ""
    return c.finding(
        ctx,
        pricer,
        rule=RULE,
        title=f"Cap the output of {model} in {service or 'a service'} at about {cap:,} tokens",
        summary=(
            f"{first['uncapped_calls']} calls set no max output tokens. {quantile} of their output is "
            f"{cap:,} tokens, but {above} went beyond it (up to {longest:,}){cut_text}. Setting "
            f"`max_tokens` / `max_output_tokens` to about {cap:,} (and asking for brevity in the prompt) "
            f"would have saved {excess:,.0f} output tokens ({c.usd(saving)}) and about "
            f"{c.duration(excess_ms)} of generation. Check that the long answers were not needed."
        ),
        saving_usd=saving,
        saving_ms=excess_ms,
        evidence=c.evidence(
            ctx,
            group,
            calls=above,
            models=c.canonical_models(pricer, [model]),
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
