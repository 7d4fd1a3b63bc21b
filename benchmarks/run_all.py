"""Run every benchmark once, one after another, with settings that finish in minutes (``make bench``).

    .venv/bin/python benchmarks/run_all.py            # all of them, quick settings
    .venv/bin/python benchmarks/run_all.py --full     # each benchmark's own defaults (tens of minutes)
    .venv/bin/python benchmarks/run_all.py --only analytics collector_exporter

The benchmarks run sequentially, never side by side: the machine has two cores, and each
benchmark measures ratios within its own run. Each prints its own table; the figures in
``benchmarks/README.md`` came from the commands written beside them there.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

#: Benchmark -> arguments for a quick run (``--full`` drops them: the script's own defaults).
QUICK: dict[str, list[str]] = {
    "overhead": ["--rounds", "2", "--calls", "500", "--memory-calls", "0"],
    "collector_exporter": ["--spans", "100000", "--repeat", "2"],
    "collector_service": ["--spans", "50000", "--repeat", "1"],
    "analytics": ["--rows", "100000", "1000000", "--repeat", "3"],
    "suggestion_rules": ["1000000", "--repeat", "2"],
    "dashboard": ["--rows", "1000000", "--repeat", "3"],
    "simulator_load": [],
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--full", action="store_true", help="each benchmark's own (longer) defaults")
    parser.add_argument("--only", nargs="+", choices=sorted(QUICK), metavar="NAME", help="run only these")
    args = parser.parse_args(argv)
    names = args.only or list(QUICK)
    failed: list[str] = []
    for index, name in enumerate(names, 1):
        command = [sys.executable, str(HERE / f"{name}.py"), *([] if args.full else QUICK[name])]
        print(f"\n=== [{index}/{len(names)}] {name}: {' '.join(command[1:])}", flush=True)
        started = time.perf_counter()
        code = subprocess.call(command, cwd=HERE.parent, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        print(f"=== {name}: exit {code} after {time.perf_counter() - started:.0f} s", flush=True)
        if code != 0:
            failed.append(name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
