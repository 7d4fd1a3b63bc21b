"""``callscope compact`` and ``callscope schema`` through the real CLI; docs/schema.md drift."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from callscope.collector.schema import TABLES, markdown
from callscope.collector.writer import DatasetWriter
from click.testing import CliRunner

from callscope.cli import cli
from callscope.commands.compact import parse_retention
from callscope.errors import ConfigError
from tests.collector.readback import query
from tests.collector.spans import callscope_record

ROOT = Path(__file__).parents[2]
DAY_NS = 86_400 * 10**9


def test_docs_schema_md_is_generated_from_the_schema_module() -> None:
    assert (ROOT / "docs" / "schema.md").read_text() == markdown(), (
        "run `make docs` to regenerate docs/schema.md"
    )


def test_schema_command_lists_every_column() -> None:
    result = CliRunner().invoke(cli, ["schema", "--table", "calls"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0] == "calls (schema version 1)"
    assert [line.split()[0] for line in lines[1:]] == [column.name for column in TABLES["calls"]]
    assert "cost_usd" in result.output
    assert "DOUBLE" in result.output
    both = CliRunner().invoke(cli, ["schema"])
    assert "spans (schema version 1)" in both.output
    assert CliRunner().invoke(cli, ["schema", "--format", "markdown"]).output == markdown()
    assert (
        "| `http_route` | VARCHAR |"
        in CliRunner().invoke(cli, ["schema", "--table", "spans", "--format", "markdown"]).output
    )


@pytest.mark.parametrize(
    ("text", "days"), [("30d", 30), ("4w", 28), ("90", 90), ("none", None), (None, None), ("0d", 0)]
)
def test_parse_retention(text: str | None, days: int | None) -> None:
    assert parse_retention(text) == days


def test_parse_retention_rejects_nonsense() -> None:
    with pytest.raises(ConfigError, match="30d or 4w"):
        parse_retention("3 months")


def test_compact_command_merges_and_applies_retention(tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    today_noon_ns = (time.time_ns() // DAY_NS) * DAY_NS + DAY_NS // 2
    for days_ago in (10, 3):
        for writer_number in range(3):
            writer = DatasetWriter(data, max_age_s=None)
            start = today_noon_ns - days_ago * DAY_NS
            writer.add(
                [callscope_record(days_ago * 100 + writer_number * 10 + i, start_ns=start) for i in range(5)]
            )
            writer.close()
    runner = CliRunner()
    dry = runner.invoke(cli, ["compact", "--data", data, "--retention", "7d", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "would merge 3 files into 1; would delete 1 days older than 7 days" in dry.output
    assert query(data, "SELECT count(*) FROM t") == [(30,)]
    result = runner.invoke(cli, ["compact", "--data", data, "--retention", "7d"])
    assert result.exit_code == 0, result.output
    assert "merged 3 files, 15 rows" in result.output
    assert result.output.splitlines()[-1] == "merged 3 files into 1; deleted 1 days older than 7 days"
    assert query(data, "SELECT count(*), count(DISTINCT span_id) FROM t") == [(15, 15)]
    assert len(list(Path(data, "calls").glob("*/*.parquet"))) == 1
    assert runner.invoke(cli, ["compact", "--data", data]).output == "nothing to do\n"


def test_compact_command_errors_are_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["compact", "--data", str(tmp_path / "missing")])
    assert result.exit_code == 2
    assert result.output.startswith("callscope: no dataset at")
    bad = CliRunner().invoke(cli, ["compact", "--data", str(tmp_path), "--retention", "soon"])
    assert bad.exit_code == 2
    assert "use days or weeks" in bad.output
