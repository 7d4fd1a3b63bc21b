"""Rule 10, batch embeddings: many one-input embedding requests where one request could carry many.

The embeddings endpoint takes a list of inputs. When one service sends at least
``embed_min_burst_calls`` single-input embedding calls of one model within
``embed_burst_seconds``, they could go as requests of ``embed_batch_size`` inputs. The
tokens, and so the cost, stay the same; the round trips go. Conservatively each batched
request is taken to last as long as the slowest single call of its burst.
"""

from __future__ import annotations

from collections.abc import Iterable

from callscope.analytics.suggestions import _common as c
from callscope.analytics.suggestions.context import RuleContext
from callscope.analytics.suggestions.findings import Finding

RULE = "batch-embeddings"


def rule(ctx: RuleContext) -> Iterable[Finding]:
    limits = ctx.thresholds
    params = {
        "burst_s": limits.embed_burst_seconds,
        "min_calls": limits.embed_min_burst_calls,
        "batch_size": limits.embed_batch_size,
    }
    groups = c.group_rows(c.rule_rows(ctx, __name__, params), "service_name", "model").items()
    return c.finish(ctx, [_finding(ctx, service, model, group) for (service, model), group in groups])


def _finding(ctx: RuleContext, service: str | None, model: str, group: list[c.Row]) -> c.Candidate:
    limits = ctx.thresholds
    pricer = c.Pricer(ctx)
    calls, saving_ms = int(c.total(group, "calls")), c.total(group, "saving_ms")
    requests = int(c.total(group, "batched_requests"))
    return c.finding(
        ctx,
        pricer,
        rule=RULE,
        title=f"Embed many inputs per request in {service or 'a service'}",
        summary=(
            f"{calls} embedding requests with a single input each came in bursts "
            f"({int(c.total(group, 'bursts'))} bursts of {limits.embed_min_burst_calls}+ within "
            f"{limits.embed_burst_seconds:g} s). Passing a list of up to {limits.embed_batch_size} "
            f"inputs per request would need {requests} requests instead: about "
            f"{c.duration(saving_ms)} less time waiting on round trips, at the same token cost."
        ),
        saving_usd=0.0,
        saving_ms=saving_ms,
        evidence=c.evidence(
            ctx,
            group,
            calls=calls,
            models=c.canonical_models(pricer, [model]),
            details={"bursts": int(c.total(group, "bursts")), "batched_requests": requests},
        ),
        formula=(
            "per burst: saving_ms = Σ duration_ms − ⌈n / embed_batch_size⌉ × the slowest call's "
            "duration_ms (never below 0); summed over bursts. Same tokens, so no dollar saving."
        ),
        inputs={
            "calls": calls,
            "total_duration_ms": c.total(group, "duration_ms"),
            "batched_requests": requests,
            "batch_size": limits.embed_batch_size,
        },
    )
