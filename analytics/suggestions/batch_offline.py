"""Rule 3, batch non-interactive traffic: bursts of calls nobody is waiting for, at full price.

A call counts as *nobody waiting* when it was not streamed and either its trace has no
request-handler (server) span, or it carries a tag named in ``offline_tags``
(``tags(job="nightly-digest")``, ``batch=...``). Such calls of one service with one prompt prefix, at least
``batch_min_burst_calls`` of them in the same ``batch_burst_minutes`` window, are a job
that the Batch API would run within 24 hours at its batch prices (half the standard ones).
"""

from __future__ import annotations

from collections.abc import Iterable

from callscope.analytics.suggestions import _common as c
from callscope.analytics.suggestions.context import RuleContext
from callscope.analytics.suggestions.findings import Finding

RULE = "batch-api"


def rule(ctx: RuleContext) -> Iterable[Finding]:
    limits = ctx.thresholds
    params = {
        "burst_s": limits.batch_burst_minutes * 60,
        "max_input": limits.batch_max_input_tokens,
        "min_calls": limits.batch_min_burst_calls,
    }
    groups = c.group_rows(c.rule_rows(ctx, __name__, params), "service_name", "prefix_hash").items()
    return c.finish(ctx, [_finding(ctx, service, prefix, group) for (service, prefix), group in groups])


def _finding(ctx: RuleContext, service: str | None, prefix_hash: str, group: list[c.Row]) -> c.Candidate:
    limits = ctx.thresholds
    pricer = c.Pricer(ctx)
    saving, priced_calls, no_batch_price = 0.0, 0, set()
    for row in group:
        now = pricer.cost(row["model"], *c.TOKENS(row), service_tier=row["tier"])
        batched = pricer.cost(row["model"], *c.TOKENS(row), batch=True)
        if now is None or batched is None:
            no_batch_price.add(str(row["model"]))
            continue
        saving += max(now - batched, 0.0)
        priced_calls += int(row["calls"])
    calls = int(c.total(group, "calls"))
    bursts = len({bucket for row in group for bucket in row["buckets"]})
    return c.finding(
        ctx,
        pricer,
        rule=RULE,
        title=f"Send {service or 'a service'}'s background calls through the Batch API",
        summary=(
            f"{calls} non-streaming calls with the same prompt prefix came in bursts of "
            f"{limits.batch_min_burst_calls}+ within {limits.batch_burst_minutes:g} minutes, and "
            "no user request was waiting on them (no request-handler span in their traces, or an "
            "offline tag). The Batch API runs such jobs within 24 hours at half price, with its own "
            f"rate limits: {c.usd(saving)} in this window. Worth it if the results can wait."
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
                "bursts": bursts,
                "priced_calls": priced_calls,
                "models_without_batch_price": sorted(no_batch_price),
            },
        ),
        formula=(
            "saving_usd = Σ over the burst calls (cost at the standard (or the call's tier) prices "
            "− cost at the book's batch prices); the batch price of cached input is the batch cached "
            "rate, or the standard cached rate where the Batch API publishes none. No latency saving "
            "(batch results take up to 24 h)."
        ),
        inputs={
            "calls": calls,
            "priced_calls": priced_calls,
            "input_tokens": int(c.total(group, "input_tokens")),
            "cached_input_tokens": int(c.total(group, "cached_input_tokens")),
            "output_tokens": int(c.total(group, "output_tokens")),
            "burst_minutes": limits.batch_burst_minutes,
            "min_burst_calls": limits.batch_min_burst_calls,
        },
    )
