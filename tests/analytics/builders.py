"""Hand-built call logs: a few fields per row, the rest NULL, written as real Parquet files.

``call(...)`` makes one row of the ``calls`` table with sensible identity defaults
(unique ids, a start time, ``status='ok'``); every other column is NULL unless given.
``write_table(root, "calls", rows)`` writes them in the collector's layout:
``<root>/calls/date=YYYY-MM-DD/<name>.parquet``, one file per day.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from callscope.collector.schema import TABLES, arrow_schema

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # a Monday, noon UTC
_ids = itertools.count(1)


def at(hours: float = 0.0, *, days: float = 0.0) -> datetime:
    """A moment relative to :data:`T0`."""
    return T0 + timedelta(days=days, hours=hours)


def call(**fields: Any) -> dict[str, Any]:
    """One ``calls`` row: ids, times and ``status`` default sensibly; everything else is NULL unless given."""
    unknown = set(fields) - {column.name for column in TABLES["calls"]}
    if unknown:
        raise TypeError(f"not calls columns: {sorted(unknown)}")
    number = next(_ids)
    row: dict[str, Any] = {
        "trace_id": f"{number:032x}",
        "span_id": f"{number:016x}",
        "start_time": T0,
        "status": "ok",
        "schema_version": 1,
    }
    row.update(fields)
    if "end_time" not in fields and row.get("duration_ms") is not None:
        row["end_time"] = row["start_time"] + timedelta(milliseconds=row["duration_ms"])
    return row


def span(**fields: Any) -> dict[str, Any]:
    """One ``spans`` row (e.g. a request handler), ids and times defaulted like :func:`call`."""
    number = next(_ids)
    row: dict[str, Any] = {
        "trace_id": f"{number:032x}",
        "span_id": f"{number:016x}",
        "start_time": T0,
        "schema_version": 1,
    }
    row.update(fields)
    return row


def table_of(table: str, rows: Sequence[Mapping[str, Any]], *, drop: Iterable[str] = ()) -> pa.Table:
    """The rows as an Arrow table of the real schema (minus the ``drop`` columns)."""
    schema = arrow_schema(table)
    columns = {}
    for field in schema:
        values = [_value(row.get(field.name)) for row in rows]
        if field.type == pa.json_(pa.string()):
            columns[field.name] = pa.ExtensionArray.from_storage(field.type, pa.array(values, pa.string()))
        else:
            columns[field.name] = pa.array(values, type=field.type)
    result = pa.table(columns, schema=schema)
    return result.drop_columns(list(drop)) if drop else result


def _value(value: Any) -> Any:
    if isinstance(value, Mapping):  # tags
        return list(value.items())
    return value


def write_table(
    root: Path,
    table: str,
    rows: Sequence[Mapping[str, Any]],
    *,
    name: str = "part-0",
    drop: Iterable[str] = (),
    hive: bool = True,
) -> list[Path]:
    """Write ``rows`` under ``root/table``: a file per UTC day of ``start_time``, or one flat file."""
    by_day: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for row in rows:
        by_day[row["start_time"].astimezone(UTC).strftime("%Y-%m-%d") if hive else ""].append(row)
    written = []
    for day, day_rows in sorted(by_day.items()):
        folder = root / table / (f"date={day}" if hive else "")
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.parquet"
        pq.write_table(table_of(table, day_rows, drop=drop), path)
        written.append(path)
    return written


def write_calls(root: Path, rows: Sequence[Mapping[str, Any]], **options: Any) -> list[Path]:
    return write_table(root, "calls", rows, **options)


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """Every file under ``root`` with its size and mtime (to show that nothing changed)."""
    return {
        str(path.relative_to(root)): (path.stat().st_size, path.stat().st_mtime_ns)
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }
