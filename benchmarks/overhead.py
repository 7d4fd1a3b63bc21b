"""What instrumenting the openai SDK costs per call: callscope beside the most used peers.

    .venv/bin/python benchmarks/overhead.py [--rounds N] [--calls N] [--skip-peers] [--memory-calls N]

Every environment (callscope's ``.venv`` twice: background finishing, its
default, and inline with ``CALLSCOPE_FINISH_IN_BACKGROUND=0``; and one virtualenv
per peer under ``benchmarks/.envs``, built on first use) runs
``overhead_worker.py`` as a subprocess twice per scenario and round: once with
the bare SDK and once instrumented. Runs are interleaved (environments rotate,
bare and instrumented alternate which goes first) so drift on a noisy machine
hits both sides of a pair. For each scenario the table reports, as medians over
rounds of the difference with the bare run of the same round in the same
environment (paired): the calling thread's CPU time per call (median and mean:
what the app's request path pays), the whole process's CPU time per call
(every thread, callscope's finisher included), wall time per call, and how long
after the call its span ended. Scenarios: a non-streamed chat completion, and a
50-chunk chat stream read to the end. Then callscope's allocation growth over
``--memory-calls`` calls.

Writes ``benchmarks/.data/overhead.md`` and ``overhead.json`` and prints the table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from statistics import median
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.overhead_envs import CALLSCOPE, CALLSCOPE_INLINE, PEERS, ROOT, Environment, ensure

WORKER = ROOT / "benchmarks" / "overhead_worker.py"
OUT = ROOT / "benchmarks" / ".data"
SCENARIOS = ("chat", "stream")
TARGET_ADDED_US = {"chat": 110.0, "stream": 300.0}  # issue 2: a third of the fastest peer


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run_worker(env: Environment, instrumentation: str, *extra: str) -> dict[str, Any]:
    command = [str(env.python), str(WORKER), "--instrumentation", instrumentation, *extra]
    variables = {**os.environ, **dict(env.variables)}
    done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT, env=variables)
    if done.returncode != 0:
        raise SystemExit(f"worker failed: {' '.join(command)}\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    if instrumentation != "none" and "spans_per_call" in result and result["spans_per_call"] != 1.0:
        raise SystemExit(f"{instrumentation} exported {result['spans_per_call']} spans per call, expected 1")
    return result


def measure(envs: Sequence[Environment], rounds: int, calls: int) -> list[dict[str, Any]]:
    """Every (round, environment, scenario) pair: the bare and the instrumented worker result."""
    pairs = []
    for round_no in range(rounds):
        rotated = [envs[(i + round_no) % len(envs)] for i in range(len(envs))]
        for env in rotated:
            for scenario in SCENARIOS:
                order = ["none", env.instrumentation]
                if round_no % 2:
                    order.reverse()
                args = ("--scenario", scenario, "--calls", str(calls))
                results = {name: run_worker(env, name, *args) for name in order}
                bare, instrumented = results["none"], results[env.instrumentation]
                progress(
                    f"round {round_no + 1}/{rounds} {env.name:16} {scenario:6} calling thread: "
                    f"bare {bare['median_us']:8.1f} µs  instrumented {instrumented['median_us']:8.1f} µs; "
                    f"process: {bare['process_mean_us']:8.1f} / {instrumented['process_mean_us']:8.1f} µs"
                )
                pairs.append(
                    {
                        "round": round_no,
                        "env": env.name,
                        "scenario": scenario,
                        "bare": bare,
                        "inst": instrumented,
                    }
                )
    return pairs


def _paired(group: Sequence[dict[str, Any]], key: str) -> float:
    """Median over rounds of the instrumented run's ``key`` minus the same round's bare run's."""
    return median(float(p["inst"][key] - p["bare"][key]) for p in group)


def _median_of(group: Sequence[dict[str, Any]], key: str) -> float | None:
    values = [p["inst"][key] for p in group if p["inst"].get(key) is not None]
    return median(values) if values else None


def summarize(pairs: Iterable[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    """Per (environment, scenario): medians over rounds of the bare and paired added figures."""
    grouped: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for pair in pairs:
        grouped.setdefault((pair["env"], pair["scenario"]), []).append(pair)
    summary = {}
    for key, group in grouped.items():
        summary[key] = {
            "bare_us": median(p["bare"]["median_us"] for p in group),
            "inst_us": median(p["inst"]["median_us"] for p in group),
            "added_us": _paired(group, "median_us"),
            "ratio": median(p["inst"]["median_us"] / p["bare"]["median_us"] for p in group),
            "added_mean_us": _paired(group, "mean_us"),
            "added_process_us": _paired(group, "process_mean_us"),
            "added_wall_us": _paired(group, "wall_mean_us"),
            "lag_median_us": _median_of(group, "lag_median_us"),
            "lag_p99_us": _median_of(group, "lag_p99_us"),
            "flush_ms": _median_of(group, "flush_ms"),
            "rounds": len(group),
            "last": group[-1]["inst"],
        }
    return summary


def _lag(row: dict[str, Any]) -> str:
    if row["lag_median_us"] is None:
        return "–"
    return f"{row['lag_median_us']:,.0f} µs / {row['lag_p99_us'] / 1000:,.1f} ms"


def table(envs: Sequence[Environment], summary: dict[tuple[str, str], dict[str, Any]], scenario: str) -> str:
    """One scenario: a row per environment; *added* figures are paired with the same round's bare run."""
    lines = [
        "| instrumentation | version | openai | bare: calling thread CPU | added: calling thread CPU "
        "(median) | ratio | added: calling thread CPU (mean) | added: whole-process CPU (mean) "
        "| added: wall (mean) | span ended after the call (median / p99) | span attributes |",
        "|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for env in envs:
        row = summary[(env.name, scenario)]
        last = row["last"]
        tokens = "" if scenario == "chat" or last["span_has_tokens"] else " (no tokens)"
        lines.append(
            f"| {env.name} | {last['instrumentation_version']} | {last['openai']} "
            f"| {row['bare_us']:,.0f} µs | **{row['added_us']:+,.0f} µs** | ×{row['ratio']:.2f} "
            f"| {row['added_mean_us']:+,.0f} µs | **{row['added_process_us']:+,.0f} µs** "
            f"| {row['added_wall_us']:+,.0f} µs | {_lag(row)} | {last['span_attributes']}{tokens} |"
        )
    return "\n".join(lines)


def _met(added: float, target: float) -> str:
    return "met" if added <= target else "not met"


def verdict(summary: dict[tuple[str, str], dict[str, Any]], peers: Sequence[Environment]) -> list[str]:
    lines = []
    for scenario in SCENARIOS:
        target = TARGET_ADDED_US[scenario]
        ours = summary[(CALLSCOPE.name, scenario)]
        inline = summary.get((CALLSCOPE_INLINE.name, scenario))
        line = (
            f"- {scenario} (target ≤ {target:.0f} µs): callscope adds {ours['added_us']:.0f} µs of "
            f"calling-thread CPU ({_met(ours['added_us'], target)}) and {ours['added_process_us']:.0f} µs "
            f"of whole-process CPU ({_met(ours['added_process_us'], target)})"
        )
        if inline is not None:
            line += f"; inline it adds {inline['added_us']:.0f} µs ({_met(inline['added_us'], target)})"
        if peers:
            fastest = min(summary[(p.name, scenario)]["added_us"] for p in peers)
            line += f"; the fastest peer adds {fastest:.0f} µs (a third: {fastest / 3:.0f} µs)"
        lines.append(line)
    return lines


def memory_report(calls: int) -> tuple[list[str], dict[str, Any]]:
    results = {
        name: run_worker(CALLSCOPE, name, "--memory", "--calls", str(calls)) for name in ("none", "callscope")
    }
    lines = []
    for name, result in results.items():
        memory = result["memory"]
        lines.append(
            f"- {name}: {memory['objects_growth']:+,d} live objects, "
            f"{memory['rss_growth_kib']:+,d} KiB resident after {memory['calls']:,} more calls "
            "(half non-streamed, half 50-chunk streams; measured after 1,000 warm-up calls)"
        )
    return lines, results


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor() or "unknown CPU",
    )
    cores = Path("/proc/cpuinfo").read_text().count("processor\t:")
    return (
        f"{cpu}, {cores} cores, {platform.system()} {platform.release()}, CPython {platform.python_version()}"
    )


def load() -> str:
    """The 1, 5 and 15-minute load averages: other work on the machine shows in wall times."""
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    parser.add_argument("--calls", type=int, default=1000, help="timed calls per worker (default 1000)")
    parser.add_argument("--skip-peers", action="store_true", help="measure callscope only")
    parser.add_argument("--memory-calls", type=int, default=10_000, help="0 skips the memory check")
    args = parser.parse_args(argv)

    peers = () if args.skip_peers else PEERS
    envs = [CALLSCOPE, CALLSCOPE_INLINE, *peers]
    for env in envs:
        ensure(env)
    started = dt.datetime.now(dt.UTC)
    load_before = load()
    pairs = measure(envs, args.rounds, args.calls)
    summary = summarize(pairs)
    report = [
        f"Measured {started:%Y-%m-%d} on {machine()}: {args.rounds} interleaved rounds × {args.calls} "
        "timed calls per worker; medians over rounds; *added* and *ratio* are paired with the same "
        f"round's bare run. Load average before / after: {load_before} / {load()}.",
        "",
        "Non-streamed chat completion:",
        "",
        table(envs, summary, "chat"),
        "",
        "50-chunk chat stream, read to the end:",
        "",
        table(envs, summary, "stream"),
        "",
        *verdict(summary, peers),
    ]
    memory: dict[str, Any] = {}
    if args.memory_calls:
        progress(f"memory: {args.memory_calls:,} calls with and without callscope")
        lines, memory = memory_report(args.memory_calls)
        report += ["", "Memory growth:", *lines]
    text = "\n".join(report)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "overhead.md").write_text(text + "\n")
    (OUT / "overhead.json").write_text(json.dumps({"pairs": pairs, "memory": memory}, indent=1))
    print(text)


if __name__ == "__main__":
    main()
