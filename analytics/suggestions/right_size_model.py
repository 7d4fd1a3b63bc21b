"""Rule 5, right-size the model: a large model answering classification-like questions.

A call is *classification-like* when its input is short (``rightsize_max_input_tokens``),
its visible answer very short (``rightsize_max_output_tokens``, reasoning tokens not
counted) and it offered no tools. When most calls of one prompt (service and
``prefix_hash``) on a large model are like that, the smaller sibling of
``Thresholds.smaller_models`` can probably do the job: the saving is the price difference
on the same tokens. Quality has to be checked on a sample before switching.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from callscope.analytics.suggestions import _common as c
from callscope.analytics.suggestions.context import RuleContext
from callscope.analytics.suggestions.findings import Finding

RULE = "right-size-model"


def rule(ctx: RuleContext) -> Iterable[Finding]:
    limits = ctx.thresholds
    smaller = dict(limits.smaller_models)
    params = {
        "max_input": limits.rightsize_max_input_tokens,
        "max_output": limits.rightsize_max_output_tokens,
    }
    pricer = c.Pricer(ctx)
    groups: dict[tuple[str | None, str | None, str], list[c.Row]] = defaultdict(list)
    for row in c.rule_rows(ctx, __name__, params):
        price = pricer.lookup(row["model"])
        if price is not None and price.model in smaller:
            groups[(row["service_name"], row["prefix_hash"], price.model)].append(row)
    findings = []
    for (service, prefix_hash, large), group in groups.items():
        calls = sum(int(row["calls"]) for row in group)
        all_calls = sum(int(row["all_calls"]) for row in group)
        if calls < limits.rightsize_min_calls or calls < limits.rightsize_min_share * all_calls:
            continue
        finding_ = _finding(
            ctx,
            group,
            service=service,
            prefix_hash=prefix_hash,
            large=large,
            small=smaller[large],
            calls=calls,
            all_calls=all_calls,
        )
        if finding_ is not None:
            findings.append(finding_)
    return c.finish(ctx, findings)


def _finding(
    ctx: RuleContext,
    group: list[c.Row],
    *,
    service: str | None,
    prefix_hash: str | None,
    large: str,
    small: str,
    calls: int,
    all_calls: int,
) -> c.Candidate | None:
    limits = ctx.thresholds
    pricer = c.Pricer(ctx)
    if pricer.lookup(small) is None:
        return None  # the sibling is not in the price book (e.g. removed by an overrides file)
    # Every row is of a priced large model (rule() kept only those), so both sums cover the same calls.
    small_calls = [row for row in group if row["calls"]]
    saving = pricer.total(small_calls, c.TOKENS) - pricer.total(small_calls, c.TOKENS, model=small)
    inputs = sum(int(row["input_tokens"] or 0) for row in group)
    outputs = sum(int(row["output_tokens"] or 0) for row in group)
    return c.finding(
        ctx,
        pricer,
        rule=RULE,
        title=f"Try {small} instead of {large} for short answers in {service or 'a service'}",
        summary=(
            f"{calls} of {all_calls} {large} calls with this prompt read at most "
            f"{limits.rightsize_max_input_tokens:,} tokens and answered in at most "
            f"{limits.rightsize_max_output_tokens} tokens, with no tools: classification-like work that "
            f"{small} usually does well at a fraction of the price ({c.usd(saving)} in this window). "
            "Compare the two models' answers on a sample of these calls before switching."
        ),
        saving_usd=saving,
        saving_ms=0.0,
        evidence=c.evidence(
            ctx,
            group,
            calls=calls,
            models=[large, small],
            prefix_hash=prefix_hash,
            details={"all_calls_with_prompt": all_calls, "smaller_model": small},
        ),
        formula=(
            "saving_usd = Σ over the classification-like calls (cost on the large model − cost of the same "
            "input, cached and output tokens on the smaller model), at the book's prices."
        ),
        inputs={
            "calls": calls,
            "all_calls": all_calls,
            "input_tokens": inputs,
            "output_tokens": outputs,
            "large_model": large,
            "smaller_model": small,
        },
    )
