"""What the rules share: the SQL pieces, pricing of token totals, examples and the finishing step."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from typing import Any, Final

from callscope.analytics.prices import ModelPrice, pricing_mode
from callscope.analytics.suggestions.context import RuleContext
from callscope.analytics.suggestions.findings import Arithmetic, Evidence, Finding

#: The model a call is priced as: the dated snapshot that answered, else the one asked for.
MODEL_SQL: Final = "coalesce(response_model, request_model)"
#: The service tier a call ran on (the answer says which one was really used).
TIER_SQL: Final = "coalesce(response_service_tier, service_tier)"

Row = dict[str, Any]


def load_sql(module: str) -> str:
    """The SQL of a rule, in the ``.sql`` file next to its module (``str.format`` placeholders inside)."""
    package, _, name = module.rpartition(".")
    return resources.files(package).joinpath(f"{name}.sql").read_text(encoding="utf-8")


def examples_sql(count: int) -> str:
    """An aggregate: the first ``count`` calls of a group, as ``{span_id, start_time}`` structs.

    Only the span id and time: reading every call's tags and trace id here would cost
    more than the rest of a rule. :func:`finish` fetches those for the examples it keeps.
    """
    return f"arg_min({{'span_id': span_id, 'start_time': start_time}}, start_time, {int(count)})"


def tag_key_sql(keys: Sequence[str]) -> str:
    """True when the call has a tag named one of ``keys``.

    Only keys, with ``map_contains``: anything that lists a map's keys or values costs more
    than a whole rule on millions of calls.
    """
    tests = [f"map_contains(tags, '{key.replace(chr(39), chr(39) * 2)}')" for key in keys]
    return f"coalesce({' OR '.join(tests)}, false)" if tests else "false"


def has_relation(ctx: RuleContext, name: str) -> bool:
    found = ctx.con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]
    ).fetchone()
    return bool(found and found[0])


def handled_sql(ctx: RuleContext, where: str) -> str:
    """A subquery: the ``span_id`` of each call matching ``where`` whose trace has a
    request-handler (server) span, with that handler's ``route``.

    Such a call was made while an app served a request: someone was waiting. Only the
    candidate calls are joined with the spans (a second, narrow scan of ``calls`` is
    cheaper than keeping the candidates in memory). Without a ``spans`` table it is empty.
    """
    if not has_relation(ctx, "spans"):
        return "(SELECT NULL::VARCHAR AS span_id, NULL::VARCHAR AS route WHERE false)"
    return (
        "(SELECT candidate.span_id, min(coalesce(spans.http_route, spans.name)) AS route "
        f"FROM (SELECT span_id, trace_id FROM calls WHERE {where}) AS candidate "
        "JOIN spans ON spans.trace_id = candidate.trace_id "
        "WHERE spans.kind = 'server' GROUP BY candidate.span_id)"
    )


def query(ctx: RuleContext, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> list[Row]:
    """Rows as dicts; ``params`` are positional (``?``) or named (``$name``)."""
    cursor = ctx.con.execute(sql, dict(params) if isinstance(params, Mapping) else list(params))
    names = [column[0] for column in cursor.description or ()]
    return [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]


def group_rows(rows: Iterable[Row], *keys: str) -> dict[tuple[Any, ...], list[Row]]:
    """Rows (one per group x model x tier, as the rules' SQL returns them) by group."""
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

    def prices_for(self, models: Iterable[str]) -> dict[str, dict[str, float]]:
        """The prices used for ``models`` (canonical ids), for one finding's arithmetic."""
        return {model: self.used[model] for model in sorted(set(models)) if model in self.used}


def canonical_models(pricer: Pricer, names: Iterable[str | None]) -> list[str]:
    """The price book's names for the models seen (``gpt-4o-mini-2024-07-18`` -> ``gpt-4o-mini``)."""
    out: set[str] = set()
    for name in names:
        price = pricer.lookup(name)
        out.add(price.model if price else (name or "(no model)"))
    return sorted(out)


Example = tuple[datetime, str]  # (start_time, span_id)


def merge_examples(rows: Iterable[Row], count: int) -> tuple[Example, ...]:
    """The earliest ``count`` examples of a group's rows."""
    merged = {(e["start_time"], str(e["span_id"])) for row in rows for e in (row.get("examples") or ())}
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
    return Candidate(result, evidence.examples)


def ranked(findings: Iterable[Finding]) -> list[Finding]:
    """Largest dollar saving first, then the largest time saving; ties in a stable order."""
    return sorted(findings, key=lambda f: (-f.saving_usd_30d, -f.saving_ms_30d, f.rule, f.title))


def finish(ctx: RuleContext, candidates: Iterable[Candidate]) -> list[Finding]:
    """The findings worth reporting (either minimum saving reached), largest first, at most
    ``max_findings_per_rule`` of them, with their example calls' trace ids and tags."""
    limits = ctx.thresholds
    worth = {
        id(c.finding): c
        for c in candidates
        if c.finding.saving_usd_30d >= limits.min_saving_usd_30d
        or c.finding.saving_ms_30d >= limits.min_saving_ms_30d
    }
    kept = [worth[id(f)] for f in ranked(c.finding for c in worth.values())][: limits.max_findings_per_rule]
    calls = _example_calls(ctx, [example for c in kept for example in c.examples])
    return [_with_examples(c, calls) for c in kept]


def _example_calls(ctx: RuleContext, examples: Sequence[Example]) -> dict[str, Row]:
    """Trace id and tags of the example calls; the start times let DuckDB skip most row groups."""
    if not examples:
        return {}
    rows = query(
        ctx,
        "SELECT span_id, trace_id, tags FROM calls "
        "WHERE start_time IN (SELECT unnest($times)) AND span_id IN (SELECT unnest($span_ids))",
        {"times": sorted({t for t, _ in examples}), "span_ids": sorted({s for _, s in examples})},
    )
    return {str(row["span_id"]): row for row in rows}


def _with_examples(candidate: Candidate, calls: Mapping[str, Row]) -> Finding:
    found = [calls[span] for _, span in candidate.examples if span in calls]
    evidence = dataclasses.replace(
        candidate.finding.evidence,
        example_trace_ids=tuple(str(row["trace_id"]) for row in found),
        example_span_ids=tuple(str(row["span_id"]) for row in found),
        tags=tags_of(row["tags"] for row in found),
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
