"""Reading the dataset back the way users do: plain DuckDB over the Hive-partitioned files."""

from __future__ import annotations

from typing import Any

import duckdb


def connect(filesystem: Any = None) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(config={"autoinstall_known_extensions": "false"})
    if filesystem is not None:
        con.register_filesystem(filesystem)
    return con


def query(root: str, sql: str, table: str = "calls", filesystem: Any = None) -> list[tuple[Any, ...]]:
    """Run ``sql`` with ``t`` bound to every Parquet file of ``table`` under ``root``."""
    con = connect(filesystem)
    source = f"read_parquet('{root}/{table}/**/*.parquet', hive_partitioning=true, union_by_name=true)"
    return con.execute(sql.replace("FROM t", f"FROM {source}")).fetchall()


def count(root: str, table: str = "calls", filesystem: Any = None) -> int:
    rows = query(root, "SELECT count(*) FROM t", table, filesystem)
    return int(rows[0][0])
