"""The benchmark data generator writes the real schema, deterministically, with traffic worth analysing."""

from __future__ import annotations

from pathlib import Path

import pytest
from callscope.analytics import connect
from callscope.collector.schema import arrow_schema

from benchmarks.datagen import write_dataset


def test_generated_calls_have_the_real_schema_and_are_deterministic(tmp_path: Path) -> None:
    first = write_dataset(tmp_path / "a", 3000, days=3, rows_per_file=1000)
    second = write_dataset(tmp_path / "b", 3000, days=3, rows_per_file=1000)
    import pyarrow.parquet as pq

    files = sorted((first / "calls").rglob("*.parquet"))
    assert len(files) >= 3
    assert pq.read_schema(files[0]).remove_metadata() == arrow_schema("calls").remove_metadata()
    with connect(str(first)) as a, connect(str(second)) as b:
        overview = a.run_query("overview").one()
        again = b.run_query("overview").one()
        assert overview["cost_usd"] == again["cost_usd"]  # money is summed exactly
        assert overview == {
            key: pytest.approx(value) if isinstance(value, float) else value for key, value in again.items()
        }
        assert overview["calls"] == 3000
        assert 0.01 < overview["error_rate"] < 0.06
        assert overview["retried_calls"] > 0
        assert overview["unpriced_calls"] > 0
        assert {row["key"] for row in a.run_query("cost_by", by="service").rows()} >= {"api", "support-bot"}
        assert a.run_query("top_traces", limit=1).one()["calls"] >= 1
        assert a.sql("SELECT count(*) AS n FROM spans").one()["n"] > 0
        repeated = a.sql(
            "SELECT count(*) AS n FROM (SELECT request_hash FROM calls GROUP BY 1 HAVING count(*) > 1)"
        ).one()
        assert repeated["n"] > 0
