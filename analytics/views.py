"""The SQL of the ``calls`` and ``spans`` views, typed by :mod:`callscope.collector.schema`.

A view always has every column of the current schema, whatever the files hold:
a column missing from older files reads as NULL (``union_by_name``), a column no
file has yet is a typed NULL, a column whose type changed is cast, and columns
newer than this code are passed through. A table with no files at all is an empty
view with the same typed columns, so every query runs on an empty dataset.
"""

from __future__ import annotations

from collections.abc import Mapping

from callscope.collector.schema import DUCKDB_TYPES, PARTITION_COLUMN, TABLES

__all__ = ["empty_view_sql", "quote_identifier", "quote_literal", "scan_view_sql", "source_sql"]


def quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    """A SQL string literal. Only for values DDL cannot bind as parameters (a view's file glob)."""
    return "'" + text.replace("'", "''") + "'"


def _expected(table: str) -> dict[str, str]:
    return {column.name: DUCKDB_TYPES[column.kind] for column in TABLES[table]}


def empty_view_sql(table: str) -> str:
    """``SELECT`` of no rows with every column of ``table`` and the partition column, typed."""
    columns = [f"CAST(NULL AS {kind}) AS {quote_identifier(name)}" for name, kind in _expected(table).items()]
    columns.append(f"CAST(NULL AS DATE) AS {quote_identifier(PARTITION_COLUMN)}")
    return f"SELECT {', '.join(columns)} WHERE false"


def source_sql(glob: str, *, hive: bool, union_by_name: bool = True) -> str:
    """The ``read_parquet`` call over a table's files (re-globbed by DuckDB on every query)."""
    return (
        f"read_parquet({quote_literal(glob)}, hive_partitioning={str(hive).lower()}, "
        f"union_by_name={str(union_by_name).lower()})"
    )


def scan_view_sql(
    table: str, glob: str, present: Mapping[str, str], *, hive: bool, union_by_name: bool = True
) -> str:
    """``SELECT`` over the files with the schema's columns, given the ones they ``present`` (name -> type)."""
    expected = _expected(table)
    columns = []
    for name, kind in expected.items():
        quoted = quote_identifier(name)
        if name not in present:
            columns.append(f"CAST(NULL AS {kind}) AS {quoted}")
        elif present[name] != kind:
            columns.append(f"TRY_CAST({quoted} AS {kind}) AS {quoted}")
        else:
            columns.append(quoted)
    extra = [name for name in present if name not in expected and name != PARTITION_COLUMN]
    columns += [quote_identifier(name) for name in extra]
    if PARTITION_COLUMN in present and hive:
        columns.append(quote_identifier(PARTITION_COLUMN))
    else:
        # Files outside date=YYYY-MM-DD folders: derive the day the collector would have used.
        day = "CAST(start_time AS DATE)" if "start_time" in present else "CAST(NULL AS DATE)"
        columns.append(f"{day} AS {quote_identifier(PARTITION_COLUMN)}")
    return f"SELECT {', '.join(columns)} FROM {source_sql(glob, hive=hive, union_by_name=union_by_name)}"
