"""The SQL pieces the rules share, and running it: rows as dicts, statements from a ``.sql`` file."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from callscope.analytics.suggestions.context import RuleContext

#: The model a call is priced as: the dated snapshot that answered, else the one asked for.
MODEL_SQL: Final = "coalesce(response_model, request_model)"
#: The service tier a call ran on (the answer says which one was really used).
TIER_SQL: Final = "coalesce(response_service_tier, service_tier)"

Row = dict[str, Any]


@cache
def load_sql(module: str) -> str:
    """The SQL in the ``.sql`` file next to ``module`` (``str.format`` placeholders inside)."""
    package, _, name = module.rpartition(".")
    return resources.files(package).joinpath(f"{name}.sql").read_text(encoding="utf-8")


def statements(script: str) -> list[str]:
    """The statements of a SQL script, in order."""
    import duckdb

    return [statement.query for statement in duckdb.extract_statements(script)]


def examples_sql(count: int) -> str:
    """An aggregate: the first ``count`` calls of a group, as ``{start_time, span_key}`` structs.

    Only the time and the hash of the span id: the finishing step looks up the trace and
    span ids and the tags of the few examples a finding keeps.
    """
    return f"arg_min({{'start_time': start_time, 'span_key': span_key}}, start_time, {int(count)})"


def tag_key_sql(keys: Sequence[str]) -> str:
    """True when the call has a tag named one of ``keys``.

    Only keys, with ``map_contains``: anything that lists a map's keys or values costs more
    than a whole rule on millions of calls.
    """
    tests = [f"map_contains(tags, '{key.replace(chr(39), chr(39) * 2)}')" for key in keys]
    return f"coalesce({' OR '.join(tests)}, false)" if tests else "false"


def has_relation(ctx: RuleContext, name: str) -> bool:
    """Whether a table or view called ``name`` is visible on the rule's connection."""
    found = ctx.con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]
    ).fetchone()
    return bool(found and found[0])


def query(ctx: RuleContext, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> list[Row]:
    """Rows as dicts; ``params`` are positional (``?``) or named (``$name``)."""
    cursor = ctx.con.execute(sql, dict(params) if isinstance(params, Mapping) else list(params))
    names = [column[0] for column in cursor.description or ()]
    return [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]
