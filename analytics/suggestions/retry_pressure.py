"""Rule 7, back off and spread load: rate limits, retry storms and timeouts cost waiting and failures.

A *troubled* call was retried (``attempts`` > 1), rate-limited (HTTP 429 on any attempt)
or timed out. When at least ``retry_min_calls`` troubled calls make up at least
``retry_min_share`` of one service's calls to one model, the time lost is reported: for
calls that finally succeeded, the backoff waited plus the failed attempts' durations; for
calls that finally failed, their whole duration. Failed calls that were billed (tokens
recorded) add their cost.
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

RULE = "retry-pressure"

SQL = load_sql(__name__)


def rule(ctx: RuleContext) -> Iterable[Finding]:
    limits = ctx.thresholds
    sql = SQL.format(model=MODEL_SQL, tier=TIER_SQL, examples=examples_sql(limits.example_count))
    params = {"low": limits.ratelimit_low_headroom, "storm_s": limits.retry_storm_seconds}
    rows = query(ctx, sql, params)
    # A failed call names only the model asked for (gpt-4o), a successful one the snapshot that
    # answered (gpt-4o-2024-08-06): group them under the price book's name so they count together.
    for row in rows:
        row["canonical"] = canonical_models(Pricer(ctx), [row["model"]])[0]
    findings = []
    for (service, model), group in group_rows(rows, "service_name", "canonical").items():
        calls, all_calls = int(total(group, "calls")), int(total(group, "all_calls"))
        if calls < limits.retry_min_calls or calls < limits.retry_min_share * all_calls:
            continue
        pricer = Pricer(ctx)
        billed = 0.0
        for row in group:
            cost = pricer.cost(
                row["model"],
                row["failed_input_tokens"],
                row["failed_cached_input_tokens"],
                row["failed_output_tokens"],
                service_tier=row["tier"],
            )
            billed += cost or 0.0
        retries_ms, failures_ms = total(group, "lost_in_retries_ms"), total(group, "lost_in_failures_ms")
        counts = {
            key: int(total(group, key))
            for key in ("retried", "extra_attempts", "rate_limited", "timed_out", "failed", "low_headroom")
        }
        buckets: dict[float, int] = {}
        for row in group:
            for bucket in row["retry_buckets"] or ():
                buckets[bucket] = buckets.get(bucket, 0) + 1
        storm = max(buckets.values(), default=0)
        billed_text = f", plus {usd(billed)} billed for failed calls" if billed else ""
        findings.append(
            finding(
                ctx,
                pricer,
                rule=RULE,
                title=f"Spread the load on {model} in {service or 'a service'}: rate limits and retries",
                summary=(
                    f"{calls} of {all_calls} calls ran into trouble: {counts['rate_limited']} rate-limited "
                    f"(429), {counts['timed_out']} timed out, {counts['retried']} retried "
                    f"({counts['extra_attempts']} extra attempts, up to {plural(storm, 'retried call')} "
                    f"within {limits.retry_storm_seconds:g} s), {counts['failed']} failed in the end. "
                    f"That cost {duration(retries_ms)} in backoff and failed attempts and "
                    f"{duration(failures_ms)} in calls that failed anyway{billed_text}. "
                    "Throttle or queue requests to stay under the requests- and tokens-per-minute limits, "
                    "retry with jittered exponential backoff that honours Retry-After, move bulk work to "
                    "the Batch API, or ask for higher limits."
                ),
                saving_usd=billed,
                saving_ms=retries_ms + failures_ms,
                evidence=evidence(
                    ctx,
                    group,
                    calls=calls,
                    models=canonical_models(pricer, [model]),
                    details={**counts, "all_calls": all_calls, "max_retried_calls_per_storm_window": storm},
                ),
                formula=(
                    "saving_ms = Σ (retry_wait_ms + durations of the failed attempts) over troubled calls "
                    "that succeeded + Σ duration_ms of troubled calls that failed; saving_usd = cost of the "
                    "failed calls' recorded tokens (usually 0: rejected calls are not billed)."
                ),
                inputs={
                    "troubled_calls": calls,
                    "all_calls": all_calls,
                    "lost_in_retries_ms": retries_ms,
                    "lost_in_failures_ms": failures_ms,
                    "billed_failed_usd": billed,
                },
            )
        )
    return finish(ctx, findings)
