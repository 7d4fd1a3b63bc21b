"""Time each suggestion rule on generated call logs, next to a read of the columns the rules use.

    python benchmarks/suggestion_rules.py 100000 1000000 [--repeat 3] [--threads N]

Uses ``benchmarks/datagen.py`` (cached datasets under ``benchmarks/.data/``) and the
analytics connection the report uses. For every rule, and for the whole ``run_rules``, it
prints the best wall time of ``--repeat`` runs after a warm-up, and the CPU time of that run
(all DuckDB threads; on a busy machine the CPU time is the steadier figure). The floor
reads every column any rule uses into a temporary table once: no rule set can do less.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent))

from callscope.analytics.connection import connect  # noqa: E402
from callscope.analytics.suggestions import DEFAULT_RULES, Finding, Rule, RuleContext, run_rules  # noqa: E402
from callscope.analytics.suggestions.rule_calls import drop_rule_tables, rule_tables  # noqa: E402

from benchmarks.datagen import dataset_for  # noqa: E402

#: Every column some rule reads.
RULE_COLUMNS = (
    "trace_id, span_id, start_time, duration_ms, service_name, operation, request_model, "
    "response_model, service_tier, response_service_tier, stream, ttft_ms, input_tokens, output_tokens, "
    "cached_input_tokens, reasoning_tokens, cost_usd, status, error_type, error_code, http_status, attempts, "
    "retry_wait_ms, attempt_statuses, attempt_durations_ms, ratelimit_remaining_requests, "
    "ratelimit_remaining_tokens, ratelimit_limit_requests, ratelimit_limit_tokens, max_output_tokens, "
    "temperature, tool_count, finish_reasons, request_hash, prefix_hash, prefix_chars, input_messages, tags"
)
FLOOR = "floor: read the rules' columns"
ALL = "run_rules (all 9, shared pass included)"
SHARED = "shared pass (rule_calls.sql: three temp tables)"


def best_of(action: Callable[[], object], repeat: int) -> tuple[float, float]:
    """(wall, CPU) seconds of the fastest of ``repeat`` runs, after one warm-up run."""
    action()
    best = (float("inf"), float("inf"))
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        action()
        best = min(best, (time.perf_counter() - wall, time.process_time() - cpu))
    return best


def measure(rows: int, repeat: int, threads: int | None) -> dict[str, tuple[float, float]]:
    results: dict[str, tuple[float, float]] = {}
    with connect(str(dataset_for(rows)), threads=threads) as analytics, analytics.scoped() as con:
        analytics.ensure_prices()
        extent = con.execute("SELECT min(start_time), max(start_time) FROM calls").fetchone()
        first, last = extent or (None, None)
        period = (last - first).total_seconds() / 86400 if first and last else 0.0
        ctx = RuleContext(con=con, prices=analytics.prices, period_days=period)
        results[FLOOR] = best_of(
            lambda: con.execute(
                f"CREATE OR REPLACE TEMP TABLE floor_scan AS SELECT {RULE_COLUMNS} FROM calls"
            ),
            repeat,
        )
        con.execute("DROP TABLE floor_scan")

        def build_shared() -> None:
            drop_rule_tables(ctx)
            rule_tables(ctx)

        # Built once per report; each rule below reads the tables it leaves (its row excludes it).
        results[SHARED] = best_of(build_shared, repeat)
        for rule in DEFAULT_RULES:

            def run_one(rule: Rule = rule) -> list[Finding]:
                return list(rule(ctx))

            results[rule.__module__.rsplit(".", 1)[-1]] = best_of(run_one, repeat)
        results[ALL] = best_of(lambda: run_rules(ctx), repeat)
        results["findings"] = (float(len(run_rules(ctx))), 0.0)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rows", type=int, nargs="+")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None, help="DuckDB threads (default: all cores)")
    args = parser.parse_args()
    table = {rows: measure(rows, args.repeat, args.threads) for rows in args.rows}
    print("| | " + " | ".join(f"{rows:,} calls: wall / CPU" for rows in args.rows) + " |")
    print("|---|" + "---:|" * len(args.rows))
    for name in table[args.rows[0]]:
        if name == "findings":
            cells = [f"{table[rows][name][0]:.0f}" for rows in args.rows]
        else:
            cells = [f"{table[rows][name][0]:.3f} s / {table[rows][name][1]:.2f} s" for rows in args.rows]
        print(f"| {name} | " + " | ".join(cells) + " |")
    ratios = [table[rows][ALL][1] / table[rows][FLOOR][1] for rows in args.rows]
    print("| run_rules CPU / floor CPU | " + " | ".join(f"{ratio:.1f}×" for ratio in ratios) + " |")


if __name__ == "__main__":
    main()
