"""What a rule returns: a :class:`Finding` with its evidence and its arithmetic (DESIGN.md principle 5)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Arithmetic", "Evidence", "Finding"]


@dataclass(frozen=True)
class Evidence:
    """Which calls a finding is about, so a reader can go and look at them.

    ``cost_usd`` is what those calls were recorded to cost in the window (``cost_usd``
    column, unknown prices counted as 0); ``tags`` are the tags seen on the example calls.
    """

    calls: int
    cost_usd: float
    models: tuple[str, ...] = ()
    services: tuple[str, ...] = ()
    operations: tuple[str, ...] = ()
    tags: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    prefix_hash: str | None = None
    request_hash: str | None = None
    example_trace_ids: tuple[str, ...] = ()
    example_span_ids: tuple[str, ...] = ()
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Arithmetic:
    """How the saving was computed: the formula in words, its inputs, and the prices used."""

    formula: str
    inputs: Mapping[str, float | int | str]
    #: model -> {price column (e.g. ``input_mtok``) -> USD per 1M tokens}
    prices: Mapping[str, Mapping[str, float]]
    price_source: str


@dataclass(frozen=True)
class Finding:
    """One suggestion: what to change, what it would save per 30 days, and why we think so."""

    rule: str
    title: str
    summary: str
    saving_usd_30d: float
    saving_ms_30d: float
    evidence: Evidence
    arithmetic: Arithmetic

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict (tuples become lists, non-finite numbers become ``None``)."""
        evidence = self.evidence
        return {
            "rule": self.rule,
            "title": self.title,
            "summary": self.summary,
            "saving_usd_30d": _json_safe(self.saving_usd_30d),
            "saving_ms_30d": _json_safe(self.saving_ms_30d),
            "evidence": {
                "calls": evidence.calls,
                "cost_usd": _json_safe(evidence.cost_usd),
                "models": list(evidence.models),
                "services": list(evidence.services),
                "operations": list(evidence.operations),
                "tags": {key: list(values) for key, values in evidence.tags.items()},
                "prefix_hash": evidence.prefix_hash,
                "request_hash": evidence.request_hash,
                "example_trace_ids": list(evidence.example_trace_ids),
                "example_span_ids": list(evidence.example_span_ids),
                "details": _json_safe(dict(evidence.details)),
            },
            "arithmetic": {
                "formula": self.arithmetic.formula,
                "inputs": _json_safe(dict(self.arithmetic.inputs)),
                "prices": _json_safe({model: dict(p) for model, p in self.arithmetic.prices.items()}),
                "price_source": self.arithmetic.price_source,
            },
        }


def _json_safe(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, bool | int | str) or value is None:
        return value
    if isinstance(value, Mapping):
        return {str(key): _json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_json_safe(item) for item in value]
    return str(value)  # Decimal, datetime, ...: readable, never a crash in json.dumps
