"""What instrumenting the openai SDK costs per call: callscope beside the most used peers.

    .venv/bin/python benchmarks/overhead.py [--rounds N] [--calls N] [--skip-peers] [--memory-calls N]

Every environment (callscope's ``.venv``, and one virtualenv per peer under
``benchmarks/.envs``, built on first use) runs ``overhead_worker.py`` as a
subprocess twice per scenario and round: once with the bare SDK and once
instrumented. Runs are interleaved (environments rotate, bare and instrumented
alternate which goes first) so drift on a noisy machine hits both sides of a
pair. The table reports medians over rounds of each worker's median per-call
time, and the added time and ratio of each instrumented run against the bare
run of the same round in the same environment (paired). Scenarios: a
non-streamed chat completion, and a 50-chunk chat stream read to the end.
Then callscope's allocation growth over ``--memory-calls`` calls (tracemalloc).

Writes ``benchmarks/.data/overhead.md`` and ``overhead.json`` and prints the table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import subprocess
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from statistics import median
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.overhead_envs import CALLSCOPE, PEERS, ROOT, Environment, ensure

WORKER = ROOT / "benchmarks" / "overhead_worker.py"
OUT = ROOT / "benchmarks" / ".data"
SCENARIOS = ("chat", "stream")
TARGET_ADDED_US = {"chat": 110.0, "stream": 300.0}  # issue 2: a third of the fastest peer


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run_worker(env: Environment, instrumentation: str, *extra: str) -> dict[str, Any]:
    command = [str(env.python), str(WORKER), "--instrumentation", instrumentation, *extra]
    done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT)
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
                    f"round {round_no + 1}/{rounds} {env.name:15} {scenario:6} "
                    f"bare {bare['median_us']:8.1f} µs  instrumented {instrumented['median_us']:8.1f} µs"
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


def summarize(pairs: Iterable[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    """Per (environment, scenario): medians of bare, instrumented, paired difference and paired ratio."""
    grouped: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for pair in pairs:
        grouped.setdefault((pair["env"], pair["scenario"]), []).append(pair)
    summary = {}
    for key, group in grouped.items():
        bare = [p["bare"]["median_us"] for p in group]
        inst = [p["inst"]["median_us"] for p in group]
        summary[key] = {
            "bare_us": median(bare),
            "inst_us": median(inst),
            "added_us": median(i - b for i, b in zip(inst, bare, strict=True)),
            "ratio": median(i / b for i, b in zip(inst, bare, strict=True)),
            "rounds": len(group),
            "last": group[-1]["inst"],
        }
    return summary


def table(envs: Sequence[Environment], summary: dict[tuple[str, str], dict[str, Any]]) -> str:
    lines = [
        "| instrumentation | version | openai | non-streamed: bare | instrumented | added | ratio "
        "| 50-chunk stream: bare | instrumented | added | ratio | span attributes (chat / stream) "
        "| tokens on the stream span |",
        "|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|",
    ]
    for env in envs:
        chat, stream = summary[(env.name, "chat")], summary[(env.name, "stream")]
        last = chat["last"]
        lines.append(
            f"| {env.instrumentation} | {last['instrumentation_version']} | {last['openai']} "
            f"| {chat['bare_us']:.0f} µs | {chat['inst_us']:.0f} µs | **{chat['added_us']:+.0f} µs** "
            f"| ×{chat['ratio']:.2f} "
            f"| {stream['bare_us'] / 1000:.2f} ms | {stream['inst_us'] / 1000:.2f} ms "
            f"| **{stream['added_us']:+.0f} µs** | ×{stream['ratio']:.2f} "
            f"| {last['span_attributes']} / {stream['last']['span_attributes']} "
            f"| {'yes' if stream['last']['span_has_tokens'] else 'no'} |"
        )
    return "\n".join(lines)


def verdict(summary: dict[tuple[str, str], dict[str, Any]], peers: Sequence[Environment]) -> list[str]:
    lines = []
    for scenario in SCENARIOS:
        ours = summary[(CALLSCOPE.name, scenario)]["added_us"]
        line = f"- {scenario}: callscope adds {ours:.0f} µs (target ≤ {TARGET_ADDED_US[scenario]:.0f} µs)"
        if peers:
            fastest = min(summary[(p.name, scenario)]["added_us"] for p in peers)
            line += f"; fastest peer adds {fastest:.0f} µs, a third of it is {fastest / 3:.0f} µs"
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


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    parser.add_argument("--calls", type=int, default=1000, help="timed calls per worker (default 1000)")
    parser.add_argument("--skip-peers", action="store_true", help="measure callscope only")
    parser.add_argument("--memory-calls", type=int, default=10_000, help="0 skips the memory check")
    args = parser.parse_args(argv)

    peers = () if args.skip_peers else PEERS
    envs = [CALLSCOPE, *peers]
    for env in envs:
        ensure(env)
    started = dt.datetime.now(dt.UTC)
    pairs = measure(envs, args.rounds, args.calls)
    summary = summarize(pairs)
    report = [
        f"Measured {started:%Y-%m-%d} on {machine()}: {args.rounds} interleaved rounds × {args.calls} "
        "timed calls per worker; medians over rounds; *added* and *ratio* are paired with the same "
        "round's bare run.",
        "",
        table(envs, summary),
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
