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

from callscope.analytics.suggestions import _common as c
from callscope.analytics.suggestions.context import RuleContext
from callscope.analytics.suggestions.findings import Finding

RULE = "retry-pressure"


def rule(ctx: RuleContext) -> Iterable[Finding]:
    limits = ctx.thresholds
    rows = c.rule_rows(ctx, __name__)
    # A failed call names only the model asked for (gpt-4o), a successful one the snapshot that
    # answered (gpt-4o-2024-08-06): group them under the price book's name so they count together.
    names = c.Pricer(ctx)
    for row in rows:
        row["canonical"] = c.canonical_model(names, row["model"])
    groups = {
        key: group
        for key, group in c.group_rows(rows, "service_name", "canonical").items()
        if (calls := c.total(group, "calls")) >= limits.retry_min_calls
        and calls >= limits.retry_min_share * c.total(group, "all_calls")
    }
    if not groups:
        return []
    models = sorted({row["model"] for group in groups.values() for row in group}, key=str)
    storms = c.rule_rows(
        ctx,
        __name__,
        {
            "storm_s": limits.retry_storm_seconds,
            "models": models,
            "groups": [c.canonical_model(names, model) for model in models],
        },
        statement=1,
    )
    storm = {(row["service_name"], row["group_name"]): int(row["storm"]) for row in storms}
    return c.finish(
        ctx,
        [
            _finding(ctx, service, model, group, storm.get((service, model), 0))
            for (service, model), group in groups.items()
        ],
    )


def _finding(
    ctx: RuleContext, service: str | None, model: str, group: list[c.Row], storm: int
) -> c.Candidate:
    limits = ctx.thresholds
    calls, all_calls = int(c.total(group, "calls")), int(c.total(group, "all_calls"))
    pricer = c.Pricer(ctx)
    billed = pricer.total(
        group,
        lambda row: (
            row["failed_input_tokens"],
            row["failed_cached_input_tokens"],
            row["failed_output_tokens"],
        ),
    )
    retries_ms, failures_ms = c.total(group, "lost_in_retries_ms"), c.total(group, "lost_in_failures_ms")
    counts = {
        key: int(c.total(group, key))
        for key in ("retried", "extra_attempts", "rate_limited", "timed_out", "failed", "low_headroom")
    }
    billed_text = f", plus {c.usd(billed)} billed for failed calls" if billed else ""
    return c.finding(
        ctx,
        pricer,
        rule=RULE,
        title=f"Spread the load on {model} in {service or 'a service'}: rate limits and retries",
        summary=(
            f"{calls} of {all_calls} calls ran into trouble: {counts['rate_limited']} rate-limited "
            f"(429), {counts['timed_out']} timed out, {counts['retried']} retried "
            f"({counts['extra_attempts']} extra attempts, up to {c.plural(storm, 'retried call')} "
            f"within {limits.retry_storm_seconds:g} s), {counts['failed']} failed in the end. "
            f"That cost {c.duration(retries_ms)} in backoff and failed attempts and "
            f"{c.duration(failures_ms)} in calls that failed anyway{billed_text}. "
            "Throttle or queue requests to stay under the requests- and tokens-per-minute limits, "
            "retry with jittered exponential backoff that honours Retry-After, move bulk work to "
            "the Batch API, or ask for higher limits."
        ),
        saving_usd=billed,
        saving_ms=retries_ms + failures_ms,
        evidence=c.evidence(
            ctx,
            group,
            calls=calls,
            models=c.canonical_models(pricer, [model]),
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
