"""Scoping a connection to a set of filters: temporary ``calls`` and ``spans`` views.

On a cursor, ``calls`` becomes a temporary view over the full ``calls`` view with the
filters applied, so every query (named queries, the suggestion rules, anything else)
just reads ``calls``. Filter values are never written into SQL text: each is stored
in a DuckDB session variable (``SET VARIABLE ... = $value``, a bound parameter) and
the view reads it with ``getvariable()``, which DuckDB folds into a constant when it
plans a query, so time filters still prune ``date=`` partitions and row groups.

``spans`` is scoped by time only (spans overlapping the window): a request handler's
span belongs to the story of its calls even when it runs in another service.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from callscope.analytics.views import quote_identifier

if TYPE_CHECKING:
    import duckdb
    from callscope.analytics.filters import ResolvedFilters

__all__ = ["apply_scope", "scope_conditions"]

#: The collector partitions by the UTC day a span started; a day of margin on each side keeps
#: the partition filter safe whatever clock skew or partitioning rule a writer used.
_PARTITION_MARGIN = timedelta(days=1)


def _var(name: str) -> str:
    return f"getvariable('callscope_{name}')"


def scope_conditions(filters: ResolvedFilters) -> tuple[list[str], list[str], dict[str, Any]]:
    """The WHERE conditions of the scoped ``calls`` and ``spans`` views and the variables they read."""
    calls: list[str] = []
    spans: list[str] = []
    values: dict[str, Any] = {}
    if filters.since is not None:
        values["since"] = filters.since
        values["since_date"] = (filters.since - _PARTITION_MARGIN).date()
        calls += [f"start_time >= {_var('since')}", f"date >= {_var('since_date')}"]
        spans += [f"coalesce(end_time, start_time) >= {_var('since')}", f"date >= {_var('since_date')}"]
    if filters.until is not None:
        values["until"] = filters.until
        values["until_date"] = (filters.until + _PARTITION_MARGIN).date()
        calls += [f"start_time < {_var('until')}", f"date <= {_var('until_date')}"]
        spans += [f"start_time < {_var('until')}", f"date <= {_var('until_date')}"]
    for name, column in (
        ("services", "service_name"),
        ("operations", "operation"),
        ("environments", "deployment_environment"),
        ("status", "status"),
    ):
        selected = getattr(filters, name)
        if selected:
            values[name] = list(selected)
            calls.append(f"list_contains({_var(name)}, {column})")
    if filters.models:
        values["models"] = list(filters.models)
        calls.append(
            f"(list_contains({_var('models')}, request_model)"
            f" OR list_contains({_var('models')}, response_model))"
        )
    for index, (key, tag_values) in enumerate(filters.tags):
        values[f"tag_key_{index}"] = key
        if tag_values:
            values[f"tag_values_{index}"] = list(tag_values)
            calls.append(f"list_contains({_var(f'tag_values_{index}')}, tags[{_var(f'tag_key_{index}')}])")
        else:
            calls.append(f"tags[{_var(f'tag_key_{index}')}] IS NOT NULL")
    return calls, spans, values


def apply_scope(con: duckdb.DuckDBPyConnection, filters: ResolvedFilters, *, catalog: str) -> None:
    """Make ``calls`` and ``spans`` on ``con`` (a cursor) show only what ``filters`` select."""
    calls, spans, values = scope_conditions(filters)
    for name, value in values.items():
        con.execute(f"SET VARIABLE callscope_{name} = $value", {"value": value})
    database = quote_identifier(catalog)
    for table, conditions in (("calls", calls), ("spans", spans)):
        if conditions:  # no filter: the full view itself (a temporary view costs a planning pass)
            where = " AND ".join(conditions)
            con.execute(
                f"CREATE OR REPLACE TEMP VIEW {table} AS SELECT * FROM {database}.main.{table} WHERE {where}"
            )
