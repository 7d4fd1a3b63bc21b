"""How long the report takes on 100k, 1M and 10M calls, next to the floor: one scan of its columns.

    python benchmarks/analytics.py                       # 100k, 1M, 10M (datasets cached in benchmarks/.data)
    python benchmarks/analytics.py --rows 1000000 --repeat 5

For each size it prints (the table in benchmarks/README.md is this output):

- **floor**: one DuckDB pass reading every ``calls`` column the report's SQL mentions
  (its named queries and the suggestion rules), each fully decoded; no report can
  read less;
- **report**: ``connect()`` + ``build_report()`` on a fresh connection (what ``callscope
  report`` does after Python has started), and its ratio to the floor;
- each named query the report runs, timed alone on a warm connection;
- the rules' shared pass (the temporary tables of ``rule_calls.sql``, built once per report),
  then each suggestion rule alone over those tables (its own SQL, pricing and example look-up).

Times are the median of ``--repeat`` runs; the machine (2 cores, shared) is noisy, so
compare ratios measured side by side rather than absolute times across runs.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent))
# Users' installs have compiled bytecode; this environment sets PYTHONDONTWRITEBYTECODE, which
# would make every run recompile genai-prices' 1.6 MB price table (seconds) and skew the numbers.
sys.dont_write_bytecode = False

from callscope.analytics import Filters, connect, query_catalog  # noqa: E402
from callscope.analytics.report import build_report  # noqa: E402
from callscope.collector.schema import TABLES  # noqa: E402

from benchmarks.datagen import dataset_for  # noqa: E402

REPORT_QUERIES: dict[str, dict[str, Any]] = {  # name -> parameters, as build_report runs them
    "overview": {},
    "cost_breakdown": {},
    "cost_drivers": {"limit": 10},
    "latency_percentiles": {"by": "model", "limit": 10},
    "errors_by_type": {"limit": 10},
}


def median_time(action: Callable[[], Any], repeat: int, cpu: list[float] | None = None) -> float:
    """Median wall time of ``action``; its median CPU time (all threads) is appended to ``cpu``."""
    times, cpu_times = [], []
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        action()
        times.append(time.perf_counter() - started)
        cpu_times.append(time.process_time() - started_cpu)
    if cpu is not None:
        cpu.append(statistics.median(cpu_times))
    return statistics.median(times)


class Recorder:
    """A connection stand-in that remembers every SQL statement a rule runs (to find the columns it reads)."""

    def __init__(self, con: Any) -> None:
        self._con = con
        self.statements: list[tuple[str, Any]] = []

    def sql(self, query: str, *args: Any, **kwargs: Any) -> Any:
        self.statements.append((query, kwargs.get("params", args[0] if args else None)))
        return self._con.sql(query, *args, **kwargs)

    def execute(self, query: str, parameters: Any = None) -> Any:
        self.statements.append((query, parameters))
        return self._con.execute(query, parameters)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)


def _parquet_columns(plan: Any) -> set[str]:
    """The columns every READ_PARQUET node of a JSON plan reads: projected, or only filtered on."""
    found: set[str] = set()
    if isinstance(plan, list):
        for node in plan:
            found |= _parquet_columns(node)
    elif isinstance(plan, dict):
        info = plan.get("extra_info", {})
        if plan.get("name") in ("READ_PARQUET", "TABLE_SCAN"):
            for key in ("Projections", "Filters"):
                entries = info.get(key, [])
                for entry in [entries] if isinstance(entries, str) else entries:
                    found |= set(re.findall(r"[a-z_][a-z0-9_]*", entry))
        for child in plan.get("children", []):
            found |= _parquet_columns(child)
    return found


def report_columns(analytics: Any, filters: Filters) -> list[str]:
    """The ``calls`` columns the report reads: DuckDB's own plans of its queries and of every rule's SQL."""
    import json

    from callscope.analytics.suggestions import DEFAULT_RULES, RuleContext

    statements: list[tuple[str, Any]] = []
    for name, params in REPORT_QUERIES.items():
        statements.append((query_catalog()[name].sql, query_catalog()[name].bind(params)))
    analytics.ensure_prices()
    with analytics.scoped(filters) as con:
        recorder = Recorder(con)
        for rule in DEFAULT_RULES:
            list(rule(RuleContext(con=recorder, prices=analytics.prices, period_days=14.0)))  # type: ignore[arg-type]
        statements += recorder.statements
        columns: set[str] = set()
        for query, params in statements:
            try:
                plan = con.sql(f"EXPLAIN (FORMAT json) {query}", params=params or None).fetchall()[0][1]
            except Exception:
                continue
            columns |= _parquet_columns(json.loads(plan))
    names = {column.name for column in TABLES["calls"]}
    return sorted(columns & names)


def floor_sql(root: Path, columns: list[str]) -> str:
    kinds = {column.name: column.kind for column in TABLES["calls"]}
    parts = []
    for name in columns:
        kind = kinds[name]
        if kind.startswith("list"):
            parts.append(f"max(len({name}))")
        elif kind.startswith("map"):
            parts.append(f"max(cardinality({name}))")
        elif kind == "bool":
            parts.append(f"bool_or({name})")
        else:
            parts.append(f"max({name})")
    glob = f"{root}/calls/**/*.parquet"
    return f"SELECT count(*), {', '.join(parts)} FROM read_parquet('{glob}', hive_partitioning=true)"


def measure(rows: int, repeat: int) -> dict[str, Any]:
    import duckdb
    from callscope.analytics.suggestions import DEFAULT_RULES, RuleContext
    from callscope.analytics.suggestions.rule_calls import drop_rule_tables, rule_tables

    root = dataset_for(rows)
    filters = Filters()  # the whole dataset: 14 days
    with connect(str(root)) as analytics:
        columns = report_columns(analytics, filters)
    raw = duckdb.connect()
    raw.execute("SET parquet_metadata_cache = true")
    sql = floor_sql(root, columns)
    raw.sql(sql).fetchall()  # warm the OS cache
    result: dict[str, Any] = {"rows": rows, "columns": columns, "load": os.getloadavg()[0]}
    cpu: list[float] = []
    result["floor"] = median_time(lambda: raw.sql(sql).fetchall(), repeat, cpu)

    def full_report() -> None:
        with connect(str(root)) as analytics:
            build_report(analytics, filters)

    result["report"] = median_time(full_report, repeat, cpu)
    result["floor_cpu"], result["report_cpu"] = cpu
    with connect(str(root)) as analytics:
        build_report(analytics, filters)  # warm
        result["queries"] = {}
        for name, params in REPORT_QUERIES.items():

            def run_query(n: str = name, p: dict[str, Any] = params) -> None:
                analytics.run_query(n, filters, **p)

            result["queries"][name] = median_time(run_query, repeat)
        analytics.ensure_prices()
        with analytics.scoped(filters) as con:
            ctx = RuleContext(con=con, prices=analytics.prices, period_days=14.0)

            def build_shared() -> None:
                drop_rule_tables(ctx)
                rule_tables(ctx)

            # The rules' shared pass, then each rule alone over the tables it left (as in a report).
            result["shared"] = median_time(build_shared, repeat)
            result["rules"] = {}
            for rule in DEFAULT_RULES:
                name = rule.__module__.rsplit(".", 1)[-1]

                def run_rule(r: Any = rule) -> None:
                    list(r(ctx))

                result["rules"][name] = median_time(run_rule, repeat)
            drop_rule_tables(ctx)
    started = time.perf_counter()
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run(
        [
            sys.executable,
            "-m",
            "callscope",
            "report",
            "--data",
            str(root),
            "--since",
            "all",
            "--format",
            "json",
        ],
        check=True,
        capture_output=True,
        env=env,
    )
    result["cli"] = time.perf_counter() - started
    result["load"] = max(result["load"], os.getloadavg()[0])
    return result


def table(results: list[dict[str, Any]]) -> str:
    def seconds(value: float) -> str:
        return f"{value:.3f} s" if value < 10 else f"{value:.1f} s"

    header = "| | " + " | ".join(f"{r['rows']:,} calls" for r in results) + " |"
    lines = [header, "|---|" + "---:|" * len(results)]
    lines.append(
        "| **floor**: one scan of the report's columns | "
        + " | ".join(seconds(r["floor"]) for r in results)
        + " |"
    )
    lines.append(
        "| **report**: `connect()` + `build_report()` | "
        + " | ".join(f"**{seconds(r['report'])}**" for r in results)
        + " |"
    )
    lines.append(
        "| report ÷ floor | " + " | ".join(f"{r['report'] / r['floor']:.1f}×" for r in results) + " |"
    )
    lines.append(
        "| floor, CPU time of both cores | " + " | ".join(seconds(r["floor_cpu"]) for r in results) + " |"
    )
    lines.append(
        "| report, CPU time of both cores | " + " | ".join(seconds(r["report_cpu"]) for r in results) + " |"
    )
    lines.append(
        "| `callscope report` process (imports included) | "
        + " | ".join(seconds(r["cli"]) for r in results)
        + " |"
    )
    for name in results[0]["queries"]:
        lines.append(f"| query `{name}` | " + " | ".join(seconds(r["queries"][name]) for r in results) + " |")
    lines.append(
        "| all suggestion rules (shared pass + each rule) | "
        + " | ".join(seconds(r["shared"] + sum(r["rules"].values())) for r in results)
        + " |"
    )
    lines.append(
        "| rules' shared pass (`rule_calls.sql`: three temp tables) | "
        + " | ".join(seconds(r["shared"]) for r in results)
        + " |"
    )
    for name in results[0]["rules"]:
        lines.append(
            f"| rule `{name}` (over the shared tables) | "
            + " | ".join(seconds(r["rules"][name]) for r in results)
            + " |"
        )
    loads = " | ".join(f"{r['load']:.1f}" for r in results)
    lines.append(f"| load average (1 min) while measuring | {loads} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description="Report latency on 100k, 1M and 10M generated calls.")
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000, 10_000_000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    results = []
    for rows in args.rows:
        started = time.perf_counter()
        results.append(measure(rows, args.repeat))
        print(f"{rows:,} calls measured in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    print(table(results))
    print(f"\nFloor columns ({len(results[0]['columns'])}): {', '.join(results[0]['columns'])}")


if __name__ == "__main__":
    main()
