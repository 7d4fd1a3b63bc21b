"""The shared narrow pass: the calls as the rules read them, decoded from Parquet once per report.

Every rule used to scan the Parquet files itself and decode the same columns again (service,
model, tokens, times, hashes): nine scans of millions of rows. :func:`rule_tables` decodes
them once into three temporary tables on the rule's connection (``rule_calls.sql`` says what
each holds), and every rule's SQL aggregates those instead. They are built on first use,
kept for the next rule on the same connection, and dropped by :func:`drop_rule_tables`
(``run_rules`` does it when all rules have run).

Some thresholds are baked into the tables (the tag keys that mark offline or interactive
calls, the low rate-limit headroom), so the tables' names carry a digest of those values:
rules run with other thresholds on the same connection get tables of their own.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from callscope.analytics.suggestions._sql import (
    MODEL_SQL,
    TIER_SQL,
    has_relation,
    load_sql,
    statements,
    tag_key_sql,
)

if TYPE_CHECKING:
    from callscope.analytics.suggestions.context import RuleContext

__all__ = ["RuleTables", "drop_rule_tables", "rule_tables"]

#: The grouping columns a call points at through ``dim``.
DIM_SQL: Final = f"hash(service_name, operation, status, {MODEL_SQL}, {TIER_SQL}, prefix_hash)"
#: Successful non-streamed chat calls: the ones someone may or may not have waited for.
WAITED_ON_SQL: Final = (
    "status = 'ok' AND stream = false AND operation IN ('chat', 'text_completion') AND trace_id IS NOT NULL"
)
#: ``{handlers}`` when there is no ``spans`` relation: nobody is known to have waited.
NO_HANDLERS_SQL: Final = (
    "CREATE OR REPLACE TEMP TABLE {handlers} AS "
    "SELECT NULL::UBIGINT AS trace_key, NULL::VARCHAR AS route WHERE false"
)


@dataclass(frozen=True)
class RuleTables:
    """The names of the shared tables on one connection (see ``rule_calls.sql``)."""

    calls: str
    dims: str
    handlers: str

    def names(self) -> dict[str, str]:
        """``{calls}``, ``{dims}`` and ``{handlers}`` for a rule's SQL."""
        return {"calls": self.calls, "dims": self.dims, "handlers": self.handlers}


def rule_tables(ctx: RuleContext) -> RuleTables:
    """The shared tables for ``ctx`` (its connection and thresholds), built if not there yet."""
    limits = ctx.thresholds
    baked = (limits.offline_tags, limits.interactive_tags, limits.ratelimit_low_headroom)
    digest = hashlib.sha1(repr(baked).encode(), usedforsecurity=False).hexdigest()[:10]
    tables = RuleTables(
        calls=f"_rule_calls_{digest}", dims=f"_rule_dims_{digest}", handlers=f"_rule_handlers_{digest}"
    )
    if not has_relation(ctx, tables.calls):
        _build(ctx, tables)
    return tables


def drop_rule_tables(ctx: RuleContext) -> None:
    """Drop every shared table on ``ctx.con`` (whatever thresholds they were built with)."""
    rows = ctx.con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE temporary AND table_name SIMILAR TO "
        "'_rule_(calls|dims|handlers)_[0-9a-f]{10}'"
    ).fetchall()
    for (name,) in rows:
        ctx.con.execute(f"DROP TABLE IF EXISTS {name}")


def _build(ctx: RuleContext, tables: RuleTables) -> None:
    limits = ctx.thresholds
    parts = {
        **tables.names(),
        "dim": DIM_SQL,
        "model": MODEL_SQL,
        "tier": TIER_SQL,
        "waited_on": WAITED_ON_SQL,
        "offline": tag_key_sql(limits.offline_tags),
        "interactive": tag_key_sql(limits.interactive_tags),
    }
    params: dict[str, Any] = {"low_headroom": limits.ratelimit_low_headroom}
    dims_sql, calls_sql, handlers_sql = statements(load_sql(__name__).format(**parts))
    if not has_relation(ctx, "spans"):
        handlers_sql = NO_HANDLERS_SQL.format(**parts)
    # rule_tables looks for the calls table: if the handlers cannot be built, drop it again so
    # that no half-built set is taken for a whole one.
    ctx.con.execute(dims_sql)
    ctx.con.execute(calls_sql, {name: value for name, value in params.items() if f"${name}" in calls_sql})
    try:
        ctx.con.execute(handlers_sql)
    except BaseException:
        ctx.con.execute(f"DROP TABLE IF EXISTS {tables.calls}")
        raise
