"""Rule 2, make prompts cache-friendly: a long shared prefix that the prompt cache did not serve.

OpenAI caches prompts of 1,024 tokens or more automatically, in steps of 128 tokens, when
a request starts with exactly the same tokens as a recent one (same model). Time is cut
into windows of ``cache_window_minutes`` (aligned to the clock); among the calls of one
service and model that share ``prefix_hash`` (instructions and tool definitions) of at
least 1,024 estimated tokens, the first of each window warms the cache and every later one
could have read the prefix from it. When those read less than ``cache_max_hit_ratio`` of
it, the prefix is probably not at the very start of the request or not byte-identical.
(Counting per window, rather than from each call's predecessor, is a little conservative
and needs no sort, which keeps the rule fast on millions of calls.)
"""

from __future__ import annotations

from collections.abc import Iterable

from callscope.analytics.suggestions import _common as c
from callscope.analytics.suggestions.context import RuleContext
from callscope.analytics.suggestions.findings import Finding

RULE = "prompt-caching"


def rule(ctx: RuleContext) -> Iterable[Finding]:
    limits = ctx.thresholds
    params = {
        "chars_per_token": limits.chars_per_token,
        "step": limits.cache_increment_tokens,
        "min_tokens": limits.cache_min_prefix_tokens,
        "window_s": limits.cache_window_minutes * 60,
    }
    groups = c.group_rows(c.rule_rows(ctx, __name__, params), "service_name", "prefix_hash").items()
    return c.finish(ctx, [_finding(ctx, service, prefix, group) for (service, prefix), group in groups])


def _finding(
    ctx: RuleContext, service: str | None, prefix_hash: str, group: list[c.Row]
) -> c.Candidate | None:
    limits = ctx.thresholds
    calls = int(c.total(group, "calls"))
    cacheable = c.total(group, "cacheable_tokens")
    cached = c.total(group, "cached_tokens")
    if calls < limits.cache_min_calls or cacheable <= 0 or cached / cacheable >= limits.cache_max_hit_ratio:
        return None
    pricer = c.Pricer(ctx)
    # The discount on the missed tokens: their price as input minus their price read from the cache.
    saving = pricer.total(group, lambda row: (row["missed_tokens"] or 0, 0, 0)) - pricer.total(
        group, lambda row: (row["missed_tokens"] or 0, row["missed_tokens"] or 0, 0)
    )
    missed_total = c.total(group, "missed_tokens")
    prefix_avg = c.total(group, "prefix_tokens") / calls
    return c.finding(
        ctx,
        pricer,
        rule=RULE,
        title=f"Make a {prefix_avg:,.0f}-token prompt prefix cache-friendly in {service or 'a service'}",
        summary=(
            f"{calls} calls began with the same instructions and tools (about {prefix_avg:,.0f} "
            f"tokens) as an earlier call in the same {limits.cache_window_minutes:g}-minute window, "
            "yet only "
            f"{cached / cacheable:.0%} of the cacheable part was read from OpenAI's prompt cache. "
            "Put this fixed part first and keep it byte-identical (no dates, ids or user data in it; "
            "tools in a fixed order), and send a `prompt_cache_key` for it. Cached input tokens "
            f"are billed at a discount: {c.usd(saving)} in this window."
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
                "prefix_tokens_estimated_avg": prefix_avg,
                "cacheable_tokens": int(cacheable),
                "cached_tokens": int(cached),
                "missed_tokens": int(missed_total),
                "hit_ratio": cached / cacheable,
                "unpriced_models": sorted(pricer.unpriced),
            },
        ),
        formula=(
            "prefix_tokens = min(prefix_chars / chars_per_token, input_tokens); for calls with "
            "prefix_tokens ≥ 1024 that follow an earlier call with this prefix and model in the same "
            "cache_window (windows aligned to the clock): cacheable = ⌊prefix_tokens / 128⌋ × 128, "
            "missed = max(cacheable − cached_input_tokens, 0); "
            "saving_usd = Σ missed × (input − cached_input) / 1M. "
            "Latency saving is not estimated (cache hits also shorten time to first token)."
        ),
        inputs={
            "calls": calls,
            "chars_per_token": limits.chars_per_token,
            "cache_window_minutes": limits.cache_window_minutes,
            "cacheable_tokens": int(cacheable),
            "cached_tokens": int(cached),
            "missed_tokens": int(missed_total),
        },
    )
