"""Optimization suggestions: plain rule functions over the call log, each finding with its evidence.

A rule is ``Callable[[RuleContext], Iterable[Finding]]``, one module per rule; every
finding carries the calls it is about, the arithmetic and prices behind its saving,
and that saving extrapolated to 30 days, in dollars and milliseconds. ``docs/suggestions.md``
describes what each rule looks for.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from callscope.analytics.suggestions import (
    batch_offline,
    cache_friendly_prefix,
    cap_output,
    embeddings_batching,
    repeated_requests,
    retry_pressure,
    right_size_model,
    stream_interactive,
    trim_prompts,
)
from callscope.analytics.suggestions._common import one_example_lookup, ranked
from callscope.analytics.suggestions.context import RuleContext
from callscope.analytics.suggestions.findings import Arithmetic, Evidence, Finding
from callscope.analytics.suggestions.rule_calls import drop_rule_tables
from callscope.analytics.suggestions.thresholds import DEFAULT_SMALLER_MODELS, Thresholds

__all__ = [
    "DEFAULT_RULES",
    "DEFAULT_SMALLER_MODELS",
    "Arithmetic",
    "Evidence",
    "Finding",
    "Rule",
    "RuleContext",
    "Thresholds",
    "run_rules",
]

Rule = Callable[[RuleContext], Iterable[Finding]]

#: Every rule, in the order of DESIGN.md's table (the report ranks their findings by saving).
DEFAULT_RULES: tuple[Rule, ...] = (
    repeated_requests.rule,
    cache_friendly_prefix.rule,
    batch_offline.rule,
    cap_output.rule,
    right_size_model.rule,
    stream_interactive.rule,
    retry_pressure.rule,
    trim_prompts.rule,
    embeddings_batching.rule,
)


def run_rules(ctx: RuleContext, rules: Sequence[Rule] = DEFAULT_RULES) -> list[Finding]:
    """Every rule's findings, ranked by dollars saved per 30 days, then milliseconds.

    The rules share one pass over the calls (see :mod:`.rule_calls`), dropped when they are done,
    and one look-up of the example calls their findings name.
    """
    try:
        with one_example_lookup(ctx) as complete:
            found = [finding for rule in rules for finding in rule(ctx)]
            return ranked(complete(found))
    finally:
        drop_rule_tables(ctx)
