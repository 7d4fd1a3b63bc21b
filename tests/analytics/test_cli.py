"""``callscope report`` and ``callscope sql`` through click's runner, and once as real processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from callscope.analytics import NO_CALLS_MESSAGE
from click.testing import CliRunner

from callscope.cli import cli
from tests.analytics.builders import snapshot, write_calls, write_table
from tests.analytics.known import ALL, SPANS


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cli") / "data"
    write_calls(root, ALL)
    write_table(root, "spans", SPANS)
    return root


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.delenv("CALLSCOPE_DATA", raising=False)
    monkeypatch.delenv("CALLSCOPE_PRICES", raising=False)
    return CliRunner()


WINDOW_ARGS = ["--since", "2026-03-02T00:00", "--until", "2026-03-03T00:00"]


def test_report_json(runner: CliRunner, data: Path) -> None:
    result = runner.invoke(cli, ["report", "--data", str(data), *WINDOW_ARGS, "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["totals"]["calls"] == 13
    assert round(report["totals"]["cost_usd"], 2) == 1.90
    assert report["filters"]["since"] == "2026-03-02T00:00:00+00:00"


def test_report_filters_and_formats(runner: CliRunner, data: Path) -> None:
    result = runner.invoke(
        cli,
        [
            "report",
            "--data",
            str(data),
            *WINDOW_ARGS,
            "--service",
            "api",
            "--tag",
            "feature=search",
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["totals"]["calls"] == 3
    assert report["filters"]["tags"] == {"feature": ["search"]}
    text = runner.invoke(cli, ["report", "--data", str(data), "--since", "all", "--model", "gpt-4o"])
    assert text.exit_code == 0, text.output
    assert "Calls from the first call to now UTC; model: gpt-4o." in text.output
    markdown = runner.invoke(
        cli, ["report", "--data", str(data), *WINDOW_ARGS, "--format", "markdown", "--top", "2"]
    )
    assert markdown.exit_code == 0
    assert "## Suggestions" in markdown.output


def test_report_on_an_empty_dataset_exits_0(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = runner.invoke(cli, ["report", "--data", str(tmp_path / "empty")])
    assert result.exit_code == 0
    assert NO_CALLS_MESSAGE in result.output


def test_report_with_the_default_folder_missing_says_no_calls_yet(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(cli, ["report", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["message"] == NO_CALLS_MESSAGE
    assert not (tmp_path / "callscope-data").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--data", "/nonexistent/callscope"], "no dataset at /nonexistent/callscope"),
        (["--since", "7x"], "cannot read the time '7x'"),
        (["--tag", "=x"], "cannot read the tag filter"),
        (["--data", "nosuchproto://bucket/x"], "nosuchproto"),
    ],
)
def test_report_user_mistakes_are_one_line_errors(runner: CliRunner, args: list[str], message: str) -> None:
    result = runner.invoke(cli, ["report", *args])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_report_bad_prices_file(runner: CliRunner, data: Path, tmp_path: Path) -> None:
    prices = tmp_path / "prices.toml"
    prices.write_text("not toml [")
    result = runner.invoke(cli, ["report", "--data", str(data), "--prices", str(prices)])
    assert result.exit_code == 1
    assert "is not valid TOML" in result.output


def test_sql_formats(runner: CliRunner, data: Path, tmp_path: Path) -> None:
    query = "SELECT request_model, count(*) AS n FROM calls GROUP BY 1 ORDER BY n DESC, 1 LIMIT 2"
    table = runner.invoke(cli, ["sql", "--data", str(data), query])
    assert table.exit_code == 0, table.output
    lines = table.output.splitlines()
    assert lines[0].split() == ["request_model", "n"]
    assert lines[2].split() == ["gpt-4o-mini", "7"]
    assert "(2 rows," in lines[-1]
    as_json = runner.invoke(cli, ["sql", "--data", str(data), "--format", "json", query])
    assert json.loads(as_json.output.split("\n(")[0]) == [
        {"request_model": "gpt-4o-mini", "n": 7},
        {"request_model": "gpt-4o", "n": 5},
    ]
    out = tmp_path / "out.csv"
    as_csv = runner.invoke(cli, ["sql", "--data", str(data), "--format", "csv", "-o", str(out), query])
    assert as_csv.exit_code == 0
    assert out.read_text().splitlines() == ["request_model,n", "gpt-4o-mini,7", "gpt-4o,5"]
    parquet = tmp_path / "out.parquet"
    as_parquet = runner.invoke(
        cli, ["sql", "--data", str(data), "--format", "parquet", "-o", str(parquet), query]
    )
    assert as_parquet.exit_code == 0
    assert pq.read_table(parquet).to_pylist()[0] == {"request_model": "gpt-4o-mini", "n": 7}
    refused = runner.invoke(cli, ["sql", "--data", str(data), "--format", "parquet", query])
    assert refused.exit_code == 2
    assert "--format parquet needs --output" in refused.output


def test_sql_row_cap_notice(runner: CliRunner, data: Path) -> None:
    result = runner.invoke(
        cli, ["sql", "--data", str(data), "--max-rows", "3", "SELECT * FROM range(10) t(i)"]
    )
    assert result.exit_code == 0
    assert "truncated to the first 3 rows" in result.output
    assert len([line for line in result.output.splitlines() if line.strip().isdigit()]) == 3


def test_sql_refuses_hostile_statements_and_changes_nothing(
    runner: CliRunner, data: Path, tmp_path: Path
) -> None:
    before = snapshot(data)
    for query in (
        f"COPY calls TO '{tmp_path}/x.csv'",
        "SELECT * FROM read_csv('/etc/passwd')",
        "DROP VIEW calls",
    ):
        result = runner.invoke(cli, ["sql", "--data", str(data), query])
        assert result.exit_code == 2, query
        assert result.output.startswith("callscope: ")
    assert snapshot(data) == before
    assert not (tmp_path / "x.csv").exists()


def test_sql_timeout(runner: CliRunner, data: Path) -> None:
    result = runner.invoke(
        cli,
        [
            "sql",
            "--data",
            str(data),
            "--timeout",
            "0.2",
            "SELECT count(*) FROM range(100000000000) a, range(10) b",
        ],
    )
    assert result.exit_code == 1
    assert "longer than 0.2 s and was stopped" in result.output


def test_sql_from_stdin(runner: CliRunner, data: Path) -> None:
    result = runner.invoke(
        cli, ["sql", "--data", str(data), "--format", "csv", "-"], input="SELECT 1 AS one\n"
    )
    assert result.exit_code == 0
    assert result.output.startswith("one\n1\n")


def test_sql_interactive_prompt(runner: CliRunner, data: Path) -> None:
    script = (
        "\n".join(
            [
                ".help",
                ".tables",
                ".schema calls",
                "SELECT count(*) AS n",
                "FROM calls;",
                "COPY calls TO '/tmp/nope.csv';",
                ".format csv",
                "SELECT 7 AS seven;",
                ".maxrows 1",
                "SELECT * FROM range(3) t(i);",
                ".nonsense",
                ".schema nope",
                ".quit",
                "SELECT 'never reached';",
            ]
        )
        + "\n"
    )
    result = runner.invoke(cli, ["sql", "--data", str(data)], input=script)
    assert result.exit_code == 0, result.output
    output = result.output
    assert ".schema [TABLE]" in output
    assert "calls  prices  spans" in output
    assert "cost_usd" in output
    assert "Cost in USD" in output
    assert "\n15\n" in output  # count(*) as a table
    assert "error: COPY statements are not allowed" in output
    assert "seven\n7\n" in output
    assert "i\n0\n" in output
    assert "truncated to the first 1 rows" in output
    assert "unknown or incomplete command '.nonsense'" in output
    assert "no table 'nope'" in output
    assert "never reached" not in output


def test_sql_interactive_ends_at_end_of_input(runner: CliRunner, data: Path) -> None:
    result = runner.invoke(cli, ["sql", "--data", str(data)], input="SELECT 1 AS x;\n")
    assert result.exit_code == 0
    assert "(1 row," in result.output


def test_real_processes(data: Path, tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("CALLSCOPE_")}
    report = subprocess.run(
        [sys.executable, "-m", "callscope", "report", "--data", str(data), *WINDOW_ARGS, "--format", "json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert report.returncode == 0, report.stderr
    assert json.loads(report.stdout)["totals"]["calls"] == 13
    refused = subprocess.run(
        [sys.executable, "-m", "callscope", "sql", "--data", str(data), f"COPY calls TO '{tmp_path}/x.csv'"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert refused.returncode == 2
    assert refused.stderr.startswith("callscope: COPY statements are not allowed")
    assert "Traceback" not in refused.stderr
