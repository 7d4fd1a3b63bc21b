"""What the rules share: their rows, pricing of token totals, evidence, examples and the finishing step."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from operator import itemgetter
from typing import Any, Final

from callscope.analytics.prices import ModelPrice, pricing_mode
from callscope.analytics.suggestions._sql import Row, examples_sql, load_sql, query, statements
from callscope.analytics.suggestions.context import RuleContext
from callscope.analytics.suggestions.findings import Arithmetic, Evidence, Finding
from callscope.analytics.suggestions.rule_calls import rule_tables

__all__ = [
    "TOKENS",
    "Candidate",
    "PendingEvidence",
    "Pricer",
    "Row",
    "Tokens",
    "canonical_model",
    "canonical_models",
    "distinct",
    "duration",
    "evidence",
    "extrapolation_factor",
    "finding",
    "finish",
    "group_rows",
    "merge_examples",
    "one_example_lookup",
    "plural",
    "ranked",
    "rule_rows",
    "tags_of",
    "total",
    "usd",
]

#: A call's (or a group's) tokens as the pricer takes them: input (cached included), cached, output.
Tokens = tuple[float, float, float]
#: The tokens of a rule row with the usual column names.
TOKENS: Final[Callable[[Row], Tokens]] = itemgetter("input_tokens", "cached_input_tokens", "output_tokens")


def rule_rows(
    ctx: RuleContext, module: str, params: Mapping[str, Any] | None = None, *, statement: int = 0
) -> list[Row]:
    """The rows of a rule's SQL (the ``.sql`` file next to ``module``, its ``statement``-th
    statement) over the shared tables.

    The SQL names the tables ``{calls}``, ``{dims}`` and ``{handlers}`` (see ``rule_calls.sql``) and
    may use ``{examples}`` (:func:`examples_sql`); ``params`` bind its ``$name`` values.
    """
    script = load_sql(module).format(
        **rule_tables(ctx).names(), examples=examples_sql(ctx.thresholds.example_count)
    )
    return query(ctx, statements(script)[statement], params or {})


def group_rows(rows: Iterable[Row], *keys: str) -> dict[tuple[Any, ...], list[Row]]:
    """A rule's rows (one per combination of service, model, prefix, ...: see ``rule_calls.sql``) by group."""
    groups: dict[tuple[Any, ...], list[Row]] = defaultdict(list)
    for row in rows:
        groups[tuple(row[key] for key in keys)].append(row)
    return dict(groups)


class Pricer:
    """Prices token totals with the book and remembers which prices it used, for the arithmetic."""

    def __init__(self, ctx: RuleContext) -> None:
        self._book = ctx.prices
        self.used: dict[str, dict[str, float]] = {}
        self.unpriced: set[str] = set()

    def lookup(self, model: str | None) -> ModelPrice | None:
        price = self._book.lookup(model) if model else None
        if price is None:
            self.unpriced.add(model or "(no model)")
        return price

    def cost(
        self,
        model: str | None,
        input_tokens: float,
        cached_input_tokens: float = 0,
        output_tokens: float = 0,
        *,
        batch: bool = False,
        service_tier: str | None = None,
    ) -> float | None:
        """USD of token totals summed over calls of ``model`` (base rates), ``None`` if unpriced."""
        price = self.lookup(model)
        if price is None:
            return None
        mode = pricing_mode(batch, service_tier)
        if mode in ("flex", "priority") and price.rate("input", mode=mode) is None:
            mode = "standard"  # as ModelPrice.cost bills a tier the book has no price for
        prefix = "" if mode == "standard" else f"{mode}_"
        self.used.setdefault(price.model, {}).update(
            (column, value)
            for column, value in price.per_mtok().items()
            if column in {f"{prefix}{kind}_mtok" for kind in ("input", "cached_input", "output")}
        )
        return price.cost_of_totals(
            float(input_tokens or 0),
            float(cached_input_tokens or 0),
            float(output_tokens or 0),
            batch=batch,
            service_tier=service_tier,
        )

    def total(
        self,
        rows: Iterable[Row],
        tokens: Callable[[Row], Tokens],
        *,
        model: str | None = None,
        batch: bool = False,
    ) -> float:
        """Σ over ``rows`` of the cost of ``tokens(row)`` on the row's model (or ``model``) and service
        tier (or on the Batch API); rows of a model without a price add nothing."""
        return sum(
            self.cost(
                model or row["model"], *tokens(row), batch=batch, service_tier=None if batch else row["tier"]
            )
            or 0.0
            for row in rows
        )

    def prices_for(self, models: Iterable[str]) -> dict[str, dict[str, float]]:
        """The prices used for ``models`` (canonical ids), for one finding's arithmetic."""
        return {model: self.used[model] for model in sorted(set(models)) if model in self.used}


def canonical_model(pricer: Pricer, name: str | None) -> str:
    """The price book's name for a model seen (``gpt-4o-mini-2024-07-18`` -> ``gpt-4o-mini``)."""
    price = pricer.lookup(name)
    return price.model if price else (name or "(no model)")


def canonical_models(pricer: Pricer, names: Iterable[str | None]) -> list[str]:
    """The price book's names for the models seen, sorted and once each."""
    return sorted({canonical_model(pricer, name) for name in names})


Example = tuple[datetime, int]  # (start_time, span_key): a call, as the rules' SQL names it


def merge_examples(rows: Iterable[Row], count: int) -> tuple[Example, ...]:
    """The earliest ``count`` examples of a group's rows."""
    merged = {(e["start_time"], int(e["span_key"])) for row in rows for e in (row.get("examples") or ())}
    return tuple(sorted(merged)[:count])


def tags_of(tag_maps: Iterable[Mapping[str, Any] | None]) -> dict[str, tuple[str, ...]]:
    seen: dict[str, set[str]] = defaultdict(set)
    for tags in tag_maps:
        for key, value in (tags or {}).items():
            seen[str(key)].add(str(value))
    return {key: tuple(sorted(values)) for key, values in sorted(seen.items())}


def distinct(rows: Iterable[Row], key: str) -> tuple[str, ...]:
    return tuple(sorted({str(row[key]) for row in rows if row.get(key) is not None}))


def total(rows: Iterable[Row], key: str) -> float:
    return float(sum(row[key] or 0 for row in rows))


def evidence(
    ctx: RuleContext,
    rows: Sequence[Row],
    *,
    calls: int,
    models: Sequence[str],
    prefix_hash: str | None = None,
    request_hash: str | None = None,
    details: Mapping[str, Any] | None = None,
) -> PendingEvidence:
    """Evidence from a group's rows (with ``service_name``, ``operation``, ``cost_usd``, ``examples``);
    the examples' trace ids and tags are filled in by :func:`finish`."""
    evidence = Evidence(
        calls=calls,
        cost_usd=total(rows, "cost_usd"),
        models=tuple(models),
        services=distinct(rows, "service_name"),
        operations=distinct(rows, "operation"),
        prefix_hash=prefix_hash,
        request_hash=request_hash,
        details=dict(details or {}),
    )
    return PendingEvidence(evidence, merge_examples(rows, ctx.thresholds.example_count))


@dataclass(frozen=True)
class PendingEvidence:
    evidence: Evidence
    examples: tuple[Example, ...]


@dataclass(frozen=True)
class Candidate:
    """A finding before :func:`finish` decided to keep it and looked its examples up."""

    finding: Finding
    examples: tuple[Example, ...]
    #: A call whose ``request_hash`` names the finding's request (looked up with the examples).
    request_call: Example | None = None


def extrapolation_factor(ctx: RuleContext) -> float:
    """30 days divided by the observed window (never less than ``min_extrapolation_days``)."""
    days = max(ctx.period_days, ctx.thresholds.min_extrapolation_days, 1e-9)
    return 30.0 / days


def finding(
    ctx: RuleContext,
    pricer: Pricer,
    *,
    rule: str,
    title: str,
    summary: str,
    saving_usd: float,
    saving_ms: float,
    evidence: PendingEvidence,
    formula: str,
    inputs: Mapping[str, float | int | str],
    request_call: Example | None = None,
) -> Candidate:
    """A finding whose observed saving is extrapolated to 30 days (and never negative)."""
    factor = extrapolation_factor(ctx)
    usd, ms = max(saving_usd, 0.0), max(saving_ms, 0.0)
    all_inputs: dict[str, float | int | str] = dict(inputs)
    all_inputs.update(
        observed_saving_usd=usd,
        observed_saving_ms=ms,
        period_days=ctx.period_days,
        extrapolation_factor=factor,
    )
    result = Finding(
        rule=rule,
        title=title,
        summary=summary,
        saving_usd_30d=usd * factor,
        saving_ms_30d=ms * factor,
        evidence=evidence.evidence,
        arithmetic=Arithmetic(
            formula=formula + " Per 30 days: × 30 / max(period_days, min_extrapolation_days).",
            inputs=all_inputs,
            prices=pricer.prices_for(evidence.evidence.models),
            price_source=ctx.prices.source,
        ),
    )
    return Candidate(result, evidence.examples, request_call)


def ranked(findings: Iterable[Finding]) -> list[Finding]:
    """Largest dollar saving first, then the largest time saving; ties in a stable order."""
    return sorted(findings, key=lambda f: (-f.saving_usd_30d, -f.saving_ms_30d, f.rule, f.title))


def finish(ctx: RuleContext, candidates: Iterable[Candidate | None]) -> list[Finding]:
    """The findings worth reporting (either minimum saving reached), largest first, at most
    ``max_findings_per_rule`` of them, with their example calls' trace ids and tags."""
    limits = ctx.thresholds
    worth = {
        id(c.finding): c
        for c in candidates
        if c is not None
        and (
            c.finding.saving_usd_30d >= limits.min_saving_usd_30d
            or c.finding.saving_ms_30d >= limits.min_saving_ms_30d
        )
    }
    kept = [worth[id(f)] for f in ranked(c.finding for c in worth.values())][: limits.max_findings_per_rule]
    pending = _PENDING.get()
    if pending is not None:  # run_rules looks the examples of every rule up at once
        pending.extend(kept)
        return [c.finding for c in kept]
    return _with_looked_up_examples(ctx, kept)


#: While :func:`one_example_lookup` runs: the kept candidates whose examples are still to look up.
_PENDING: ContextVar[list[Candidate] | None] = ContextVar("callscope_pending_examples", default=None)


@contextmanager
def one_example_lookup(ctx: RuleContext) -> Iterator[Callable[[Iterable[Finding]], list[Finding]]]:
    """Within the block, :func:`finish` leaves the example calls out of the findings it returns;
    the function given completes such findings with one look-up for all rules (each look-up
    reads the files the examples are in: rules' examples share them).

    A finding it did not see (a rule that does not use :func:`finish`) is returned unchanged.
    """
    pending: list[Candidate] = []
    token = _PENDING.set(pending)

    def complete(findings: Iterable[Finding]) -> list[Finding]:
        completed = _with_looked_up_examples(ctx, pending)
        done = {id(c.finding): f for c, f in zip(pending, completed, strict=True)}
        return [done.get(id(finding), finding) for finding in findings]

    try:
        yield complete
    finally:
        _PENDING.reset(token)


def _with_looked_up_examples(ctx: RuleContext, kept: Sequence[Candidate]) -> list[Finding]:
    wanted = [example for c in kept for example in c.examples]
    wanted += [c.request_call for c in kept if c.request_call is not None]
    calls = _lookup_calls(ctx, wanted)
    return [_with_examples(c, calls) for c in kept]


def _lookup_calls(ctx: RuleContext, examples: Sequence[Example]) -> dict[int, Row]:
    """Span and trace ids, tags and request hash of the example calls, by span key; their start
    times let DuckDB skip most of the files."""
    if not examples:
        return {}
    rows = query(
        ctx,
        "SELECT hash(span_id) AS span_key, span_id, trace_id, tags, request_hash FROM calls "
        "WHERE start_time IN (SELECT unnest($times)) AND hash(span_id) IN (SELECT unnest($keys::UBIGINT[]))",
        {"times": sorted({t for t, _ in examples}), "keys": sorted({k for _, k in examples})},
    )
    return {int(row["span_key"]): row for row in rows}


def _with_examples(candidate: Candidate, calls: Mapping[int, Row]) -> Finding:
    found = [calls[key] for _, key in candidate.examples if key in calls]
    evidence = dataclasses.replace(
        candidate.finding.evidence,
        example_trace_ids=tuple(str(row["trace_id"]) for row in found),
        example_span_ids=tuple(str(row["span_id"]) for row in found),
        tags=tags_of(row["tags"] for row in found),
    )
    if candidate.request_call is not None and candidate.request_call[1] in calls:
        evidence = dataclasses.replace(
            evidence, request_hash=calls[candidate.request_call[1]]["request_hash"]
        )
    return dataclasses.replace(candidate.finding, evidence=evidence)


def usd(value: float) -> str:
    """Dollars for a summary: cents for large amounts, more digits for tiny ones."""
    return f"${value:,.2f}" if abs(value) >= 1 else f"${value:.4f}".rstrip("0").rstrip(".")


def plural(count: float, word: str, words: str | None = None) -> str:
    """``1 call``, ``2 calls``."""
    return f"{count:,.0f} {word if count == 1 else (words or word + 's')}"


def duration(ms: float) -> str:
    seconds = ms / 1000
    if seconds < 120:
        return f"{seconds:,.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:,.1f} min"
    return f"{seconds / 3600:,.1f} h"
