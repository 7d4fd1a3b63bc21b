"""Hand-built call logs for the rule tests: real Parquet files in the real schema, read by DuckDB."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from callscope.analytics.prices import PriceBook
from callscope.analytics.suggestions import RuleContext, Thresholds
from callscope.collector.schema import arrow_schema

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
BOOK = PriceBook()  # genai-prices' bundled data, no overrides


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@dataclass
class Dataset:
    """Rows of ``calls`` and ``spans``; unspecified columns are NULL."""

    calls: list[dict[str, Any]] = field(default_factory=list)
    spans: list[dict[str, Any]] = field(default_factory=list)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def call(self, *, t: float = 0.0, **columns: Any) -> dict[str, Any]:
        """Add a call starting ``t`` seconds after T0; returns the row (with its ids)."""
        n = next(self._ids)
        row: dict[str, Any] = {
            "trace_id": f"{n:032x}",
            "span_id": f"{n:016x}",
            "start_time": at(t),
            "duration_ms": 500.0,
            "service_name": "app",
            "provider": "openai",
            "operation": "chat",
            "api": "chat_completions",
            "request_model": "gpt-4o-mini",
            "stream": False,
            "input_tokens": 100,
            "output_tokens": 20,
            "cached_input_tokens": 0,
            "status": "ok",
            "attempts": 1,
            "finish_reasons": ["stop"],
            "schema_version": 1,
        }
        row.update(columns)
        row.setdefault("end_time", row["start_time"] + timedelta(milliseconds=row["duration_ms"] or 0))
        self.calls.append(row)
        return row

    def server_span(self, *, t: float = 0.0, route: str = "/chat", **columns: Any) -> dict[str, Any]:
        """Add a request-handler span (its trace id is what calls made under it share)."""
        n = next(self._ids)
        row: dict[str, Any] = {
            "trace_id": f"{n:032x}",
            "span_id": f"{n:016x}",
            "name": f"POST {route}",
            "kind": "server",
            "start_time": at(t),
            "end_time": at(t + 5),
            "duration_ms": 5000.0,
            "service_name": "app",
            "http_route": route,
            "http_method": "POST",
            "http_status": 200,
            "schema_version": 1,
        }
        row.update(columns)
        self.spans.append(row)
        return row

    def context(
        self, folder: Path, *, period_days: float = 1.0, thresholds: Thresholds | None = None
    ) -> RuleContext:
        """Write the Parquet files under ``folder`` and open a DuckDB connection with the views."""
        con = duckdb.connect()
        for table, rows in (("calls", self.calls), ("spans", self.spans)):
            part = folder / table / "date=2026-11-02"
            part.mkdir(parents=True, exist_ok=True)
            pq.write_table(pa.Table.from_pylist(rows, schema=arrow_schema(table)), part / "part-0.parquet")
            con.execute(
                f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{folder / table}/**/*.parquet', "
                "hive_partitioning = true, union_by_name = true)"
            )
        prices = pa.Table.from_pylist([row.as_row() for row in BOOK.rows()])
        con.register("price_rows", prices)
        con.execute("CREATE VIEW prices AS SELECT * FROM price_rows")
        return RuleContext(
            con=con, prices=BOOK, period_days=period_days, thresholds=thresholds or Thresholds()
        )


def cost(model: str, input_tokens: int, cached: int, output: int, *, batch: bool = False) -> float:
    """A call's cost computed here from the book's published rates (not with ModelPrice.cost)."""
    price = BOOK.lookup(model)
    assert price is not None
    if batch:
        rates = (price.batch_input_mtok, price.batch_cached_input_mtok, price.batch_output_mtok)
    else:
        rates = (price.input_mtok, price.cached_input_mtok, price.output_mtok)
    input_rate, cached_rate, output_rate = rates
    assert input_rate is not None
    cached_rate = input_rate if cached_rate is None else cached_rate
    return ((input_tokens - cached) * input_rate + cached * cached_rate + output * (output_rate or 0)) / 1e6
