"""Rule 6, stream interactive calls: a user waits for the whole answer when the first words could show.

A call is *interactive* when its trace has a request-handler (server) span, or it carries
an interactive tag. Long (``stream_min_duration_ms``), non-streamed chat calls with real
answers (``stream_min_output_tokens``) made that way would show their first tokens after
the time to first token instead of the full duration. That time is the median time to
first chunk of the same model's streamed calls in the window (with at least
``stream_min_ttft_samples`` of them), else ``stream_default_ttft_ms``.
"""

from __future__ import annotations

from collections.abc import Iterable

from callscope.analytics.suggestions import _common as c
from callscope.analytics.suggestions.context import RuleContext
from callscope.analytics.suggestions.findings import Finding

RULE = "stream-interactive"


def rule(ctx: RuleContext) -> Iterable[Finding]:
    limits = ctx.thresholds
    params = {
        "min_samples": limits.stream_min_ttft_samples,
        "default_ttft": limits.stream_default_ttft_ms,
        "min_duration": limits.stream_min_duration_ms,
        "min_output": limits.stream_min_output_tokens,
    }
    groups = c.group_rows(c.rule_rows(ctx, __name__, params), "service_name", "route").items()
    return c.finish(ctx, [_finding(ctx, service, route, group) for (service, route), group in groups])


def _finding(
    ctx: RuleContext, service: str | None, route: str | None, group: list[c.Row]
) -> c.Candidate | None:
    limits = ctx.thresholds
    calls = int(c.total(group, "calls"))
    if calls < limits.stream_min_calls:
        return None
    pricer = c.Pricer(ctx)
    waited, saving_ms = c.total(group, "duration_ms"), c.total(group, "saving_ms")
    where = f"the {route} handler of {service or 'a service'}" if route else f"{service or 'a service'}"
    return c.finding(
        ctx,
        pricer,
        rule=RULE,
        title=f"Stream the answers of {where}",
        summary=(
            f"{calls} chat calls made while a user request was open took "
            f"{c.duration(waited / calls)} on average and were not streamed, so the user saw nothing "
            "until the whole answer was ready. With `stream=True` the first words would show after "
            f"the time to first token: {c.duration(saving_ms)} less waiting in this window. "
            "Same cost; the app must pass the stream through to the user."
        ),
        saving_usd=0.0,
        saving_ms=saving_ms,
        evidence=c.evidence(
            ctx,
            group,
            calls=calls,
            models=c.canonical_models(pricer, (row["model"] for row in group)),
            details={
                "route": route,
                "ttft_estimate_ms": {str(row["model"]): row["ttft_estimate_ms"] for row in group},
                "average_duration_ms": waited / calls,
            },
        ),
        formula=(
            "saving_ms = Σ max(duration_ms − ttft_estimate, 0), where ttft_estimate is the median "
            "time to first chunk of the model's streamed calls in the window (if there are at least "
            "stream_min_ttft_samples), else stream_default_ttft_ms. No dollar saving."
        ),
        inputs={
            "calls": calls,
            "total_duration_ms": waited,
            "min_ttft_samples": limits.stream_min_ttft_samples,
            "default_ttft_ms": limits.stream_default_ttft_ms,
        },
    )
