"""The named queries: ``queries/<name>.sql`` files with a small header, and their parameters.

A query file starts with comment lines: first what it answers, then its parameters
and flags::

    -- Spend, tokens and calls grouped by one dimension, most expensive first.
    -- @param by dimension = model: What to group by.
    -- @param limit int = 50: At most this many rows.
    -- @compare previous            (optional: also run over the previous period -> prev_* columns)
    -- @needs prices                (optional: reads the `prices` table)
    -- @needs repricing             (optional: re-prices calls: `priced_calls`, `_model_prices`)
    SELECT ... FROM calls_by($by) ... LIMIT $limit

Parameters are bound by DuckDB (``$name``), never formatted into the SQL; here they
are checked against their kind first, so a bad value is a clear error, not a SQL one.
Every query reads ``calls`` (or the ``calls_by``/``priced_calls`` macros over it), which
the runner has already scoped to the caller's filters.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from importlib import resources
from typing import Any, Final

from callscope.analytics.errors import UnknownQuery

__all__ = ["BUCKETS", "DIMENSIONS", "NamedQuery", "Param", "auto_bucket", "load_queries", "macros_sql"]

#: Values of a ``dimension`` parameter (see the ``calls_by`` macro), besides ``tag:<key>``.
DIMENSIONS: Final[dict[str, str]] = {
    "model": "the model asked for (else the one that answered)",
    "service": "`service_name`",
    "operation": "`operation` (chat, embeddings, ...)",
    "api": "`api` (chat_completions, responses, embeddings)",
    "environment": "`deployment_environment`",
    "provider": "`provider`",
    "status": "`status` (ok, error, incomplete)",
    "response_model": "the model that answered (dated snapshot)",
    "server": "`server_address`",
    "error_type": "`error_type`",
    "error_code": "`error_code`",
    "http_status": "`http_status` as text",
    "stream": "`streamed` or `not streamed`",
    "none": "no grouping (one row, key NULL)",
}
TAG_DIMENSION_PREFIX: Final = "tag:"

#: Values of a ``bucket`` parameter; ``auto`` picks one from how long the selected calls span.
BUCKETS: Final = ("auto", "second", "minute", "hour", "day", "week", "month")
#: ``auto``'s choice: the first width whose limit the calls' time span is within. Each limit is
#: three of the next width, so a chart has 3 to 180 points (months beyond two years: 24 or more).
_AUTO_LIMITS: Final = (
    ("second", timedelta(minutes=3)),
    ("minute", timedelta(hours=3)),
    ("hour", timedelta(days=3)),
    ("day", timedelta(days=120)),
    ("week", timedelta(days=730)),
)

_PARAM = re.compile(
    r"^@param\s+(?P<name>[a-z_][a-z0-9_]*)\s+(?P<kind>[a-z]+(?:\([^)]*\))?)"
    r"(?:\s*=\s*(?P<default>\S+))?\s*:\s*(?P<doc>.+)$"
)
_CHOICE = re.compile(r"^choice\((?P<values>[^)]*)\)$")
_KINDS: Final = ("int", "float", "str", "bool", "timestamp", "dimension", "bucket")


def auto_bucket(span: timedelta) -> str:
    """The bucket width ``auto`` stands for when the charted calls span ``span`` (first to last start)."""
    for bucket, limit in _AUTO_LIMITS:
        if span <= limit:
            return bucket
    return "month"


@dataclass(frozen=True)
class Param:
    """One parameter of a named query."""

    name: str
    kind: str  # int, float, str, bool, timestamp, dimension, bucket, or choice(a|b|c)
    doc: str
    default: Any = None
    required: bool = False

    @property
    def choices(self) -> tuple[str, ...]:
        if self.kind == "bucket":
            return BUCKETS
        match = _CHOICE.match(self.kind)
        return tuple(match["values"].split("|")) if match else ()

    def coerce(self, value: Any, query: str) -> Any:
        """``value`` as the type DuckDB should bind, or :class:`UnknownQuery` saying what is expected."""
        try:
            return self._coerce(value)
        except (TypeError, ValueError) as err:
            raise UnknownQuery(f"{query}: bad value {value!r} for {self.name} ({self.kind}): {err}") from None

    def _coerce(self, value: Any) -> Any:  # noqa: PLR0911 - one branch per kind reads best
        if self.kind == "int":
            number = int(value)
            if isinstance(value, bool) or number < 0 or float(value) != number:
                raise ValueError("expected a whole number >= 0")
            return number
        if self.kind == "float":
            return float(value)
        if self.kind == "bool":
            if isinstance(value, str):
                if value.lower() not in ("true", "false", "1", "0", "yes", "no"):
                    raise ValueError("expected true or false")
                return value.lower() in ("true", "1", "yes")
            return bool(value)
        if self.kind == "timestamp":
            return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
        text = str(value)
        if self.kind == "dimension":
            if text in DIMENSIONS or (text.startswith(TAG_DIMENSION_PREFIX) and len(text) > 4):
                return text
            raise ValueError(f"expected one of {', '.join(DIMENSIONS)}, or tag:<key>")
        if self.choices and text not in self.choices:
            raise ValueError(f"expected one of {', '.join(self.choices)}")
        return text


@dataclass(frozen=True)
class NamedQuery:
    """A query file: its name, what it answers, its parameters and its SQL."""

    name: str
    summary: str
    sql: str
    params: tuple[Param, ...] = ()
    compare_previous: bool = False
    needs_prices: bool = False
    needs_repricing: bool = False
    notes: tuple[str, ...] = field(default=())

    def bind(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Check ``values`` against the parameters and fill in defaults."""
        known = {param.name: param for param in self.params}
        unknown = sorted(set(values) - set(known))
        if unknown:
            takes = ", ".join(known) or "no parameters"
            raise UnknownQuery(f"{self.name} does not take {', '.join(unknown)}; it takes {takes}")
        bound: dict[str, Any] = {}
        for name, param in known.items():
            if values.get(name) is not None:
                bound[name] = param.coerce(values[name], self.name)
            elif param.required:
                raise UnknownQuery(f"{self.name} needs the parameter {name}: {param.doc}")
            else:
                bound[name] = param.default
        return bound


def _parse(name: str, text: str) -> NamedQuery:
    summary: list[str] = []
    params: list[Param] = []
    flags: set[str] = set()
    for line in text.splitlines():
        if not line.startswith("--"):
            break
        body = line[2:].strip()
        if body.startswith("@param"):
            match = _PARAM.match(body)
            if match is None:
                raise ValueError(f"{name}.sql: cannot read {line!r}")
            params.append(_param(name, match))
        elif body.startswith("@"):
            flags.add(body[1:].strip())
        elif body:
            summary.append(body)
    unknown = flags - {"compare previous", "needs prices", "needs repricing"}
    if unknown:
        raise ValueError(f"{name}.sql: unknown flag {sorted(unknown)}")
    return NamedQuery(
        name=name,
        summary=" ".join(summary),
        sql=text,
        params=tuple(params),
        compare_previous="compare previous" in flags,
        needs_prices="needs prices" in flags or "needs repricing" in flags,
        needs_repricing="needs repricing" in flags,
    )


def _param(query: str, match: re.Match[str]) -> Param:
    kind = match["kind"]
    if kind not in _KINDS and not _CHOICE.match(kind):
        raise ValueError(f"{query}.sql: unknown parameter kind {kind!r}")
    default_text = match["default"]
    param = Param(name=match["name"], kind=kind, doc=match["doc"].strip(), required=default_text is None)
    if default_text is None:
        return param
    default = param.coerce(default_text, query)
    return Param(name=param.name, kind=kind, doc=param.doc, default=default)


@cache
def load_queries() -> dict[str, NamedQuery]:
    """Every named query, by name (files starting with ``_`` are not queries)."""
    folder = resources.files("callscope.analytics.queries")
    queries = {}
    for entry in sorted(folder.iterdir(), key=lambda item: item.name):
        if entry.name.endswith(".sql") and not entry.name.startswith("_"):
            name = entry.name.removesuffix(".sql")
            queries[name] = _parse(name, entry.read_text(encoding="utf-8"))
    return queries


def macros_sql() -> str:
    """The ``CREATE MACRO`` statements every connection runs once."""
    return resources.files("callscope.analytics.queries").joinpath("_macros.sql").read_text(encoding="utf-8")
