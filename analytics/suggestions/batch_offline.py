"""Rule 3, batch non-interactive traffic: bursts of calls nobody is waiting for, at full price.

A call counts as *nobody waiting* when it was not streamed and either its trace has no
request-handler (server) span, or it carries a tag named in ``offline_tags``
(``tags(job="nightly-digest")``, ``batch=...``). Such calls of one service with one prompt prefix, at least
``batch_min_burst_calls`` of them in the same ``batch_burst_minutes`` window, are a job
that the Batch API would run within 24 hours at its batch prices (half the standard ones).
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
    handled_sql,
    load_sql,
    query,
    tag_key_sql,
    total,
    usd,
)
from callscope.analytics.suggestions.context import RuleContext
from callscope.analytics.suggestions.findings import Finding

RULE = "batch-api"

SQL = load_sql(__name__)
#: The candidates: successful, small, non-streamed chat calls with a prompt prefix.
WHERE = (
    "status = 'ok' AND stream = false AND prefix_hash IS NOT NULL "
    "AND operation IN ('chat', 'text_completion') AND input_tokens <= $max_input"
)


def rule(ctx: RuleContext) -> Iterable[Finding]:
    limits = ctx.thresholds
    sql = SQL.format(
        model=MODEL_SQL,
        tier=TIER_SQL,
        where=WHERE,
        handled=handled_sql(ctx, WHERE),
        offline=tag_key_sql(limits.offline_tags),
        examples=examples_sql(limits.example_count),
    )
    params = {
        "burst_s": limits.batch_burst_minutes * 60,
        "max_input": limits.batch_max_input_tokens,
        "min_calls": limits.batch_min_burst_calls,
    }
    findings = []
    for (service, prefix_hash), group in group_rows(
        query(ctx, sql, params), "service_name", "prefix_hash"
    ).items():
        pricer = Pricer(ctx)
        saving, priced_calls, no_batch_price = 0.0, 0, set()
        for row in group:
            tokens = (row["input_tokens"], row["cached_input_tokens"], row["output_tokens"])
            now = pricer.cost(row["model"], *tokens, service_tier=row["tier"])
            batched = pricer.cost(row["model"], *tokens, batch=True)
            if now is None or batched is None:
                no_batch_price.add(str(row["model"]))
                continue
            saving += max(now - batched, 0.0)
            priced_calls += int(row["calls"])
        calls = int(total(group, "calls"))
        bursts = len({bucket for row in group for bucket in row["buckets"]})
        findings.append(
            finding(
                ctx,
                pricer,
                rule=RULE,
                title=f"Send {service or 'a service'}'s background calls through the Batch API",
                summary=(
                    f"{calls} non-streaming calls with the same prompt prefix came in bursts of "
                    f"{limits.batch_min_burst_calls}+ within {limits.batch_burst_minutes:g} minutes, and "
                    "no user request was waiting on them (no request-handler span in their traces, or an "
                    "offline tag). The Batch API runs such jobs within 24 hours at half price, with its own "
                    f"rate limits: {usd(saving)} in this window. Worth it if the results can wait."
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
                    "input_tokens": int(total(group, "input_tokens")),
                    "cached_input_tokens": int(total(group, "cached_input_tokens")),
                    "output_tokens": int(total(group, "output_tokens")),
                    "burst_minutes": limits.batch_burst_minutes,
                    "min_burst_calls": limits.batch_min_burst_calls,
                },
            )
        )
    return finish(ctx, findings)
