"""``QueryResult``: what every query returns, as Arrow, rows, JSON or a pandas DataFrame."""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from uuid import UUID

from callscope.analytics.errors import AnalyticsError, QueryError

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

__all__ = ["QueryResult", "jsonable"]


@dataclass(frozen=True)
class QueryResult:
    """The rows of a query.

    ``truncated`` is true when user SQL returned more rows than its row cap and only the
    first ``max_rows`` are here. ``filters`` are the resolved filters the query ran under.
    """

    table: pa.Table
    name: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    filters: Mapping[str, Any] | None = None
    truncated: bool = False
    elapsed_ms: float = 0.0

    @property
    def columns(self) -> list[str]:
        return list(self.table.column_names)

    def __len__(self) -> int:
        return int(self.table.num_rows)

    def arrow(self) -> pa.Table:
        """The rows as an Arrow table (no copy)."""
        return self.table

    def rows(self) -> list[dict[str, Any]]:
        """The rows as dicts; maps (``tags``) become dicts, timestamps aware UTC datetimes."""
        return _python_rows(self.table)

    def first(self) -> dict[str, Any] | None:
        """The first row, or ``None`` when there are none (for one-row queries like ``overview``)."""
        if self.table.num_rows == 0:
            return None
        return _python_rows(self.table.slice(0, 1))[0]

    def one(self) -> dict[str, Any]:
        """The only row, for queries that always return one (``overview``, ``dataset_extent``)."""
        if self.table.num_rows != 1:
            raise QueryError(f"{self.name or 'the query'} returned {self.table.num_rows} rows, not one")
        return _python_rows(self.table)[0]

    def to_json(self, *, indent: int | None = None) -> str:
        """The rows as a JSON array of objects: ISO 8601 times, NaN and infinities as null."""
        return json.dumps([jsonable(row) for row in self.rows()], indent=indent, ensure_ascii=False)

    def to_csv(self) -> str:
        """The rows as CSV with a header; lists and maps as JSON, times in ISO 8601."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(self.columns)
        for row in self.rows():
            writer.writerow([_csv_cell(value) for value in row.values()])
        return buffer.getvalue()

    def df(self) -> pd.DataFrame:
        """The rows as a pandas DataFrame (needs pandas: ``pip install 'callscope[dashboard]'``)."""
        try:
            import pandas  # noqa: F401
        except ImportError:
            raise AnalyticsError(
                "QueryResult.df() needs pandas: pip install 'callscope[dashboard]'"
            ) from None
        frame: pd.DataFrame = self.table.to_pandas()
        return frame


def _python_rows(table: pa.Table) -> list[dict[str, Any]]:
    """``table.to_pylist()``, but with time-zone-aware timestamps converted here: pyarrow
    converts them through pandas, whose import alone costs a second or more."""
    import pyarrow as pa

    zoned = [f.name for f in table.schema if pa.types.is_timestamp(f.type) and f.type.tz is not None]
    for name in zoned:
        index = table.schema.get_field_index(name)
        unit = table.schema.field(index).type.unit
        table = table.set_column(index, name, table.column(index).cast(pa.timestamp(unit)))
    rows: list[dict[str, Any]] = table.to_pylist(maps_as_pydicts="lossy")
    if zoned:
        for row in rows:
            for name in zoned:
                if row[name] is not None:
                    row[name] = row[name].replace(tzinfo=UTC)
    return rows


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, Mapping | list | tuple):
        return json.dumps(jsonable(value), ensure_ascii=False)
    plain = jsonable(value)
    return "" if plain is None else plain


def jsonable(value: Any) -> Any:  # noqa: PLR0911 - one return per type
    """``value`` with every part JSON can't hold turned into what JSON readers expect."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, UUID):
        return str(value)
    return str(value)
