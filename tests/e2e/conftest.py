"""The demo run end to end through the installed ``callscope`` command, once per way spans travel.

``callscope demo --no-dashboard`` runs in a subprocess (the real entry point), writing its call log and the
ground truth of its workload (``.callscope/demo-truth.json``) into a temporary folder. Each run is shared
by the tests of the session: the in-process Parquet exporter, and OTLP through a ``callscope collect``
process the demo starts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from callscope.demo.run import load_truth
from callscope.demo.workload import GroundTruth

#: The console script pip installed next to this interpreter.
CALLSCOPE = str(Path(sys.executable).with_name("callscope"))
#: The smallest size the demo accepts: still every pattern, with a few hundred calls.
CALLS = 200
SEED = 11
DEMO_TIMEOUT_S = 240


def _environment() -> dict[str, str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("CALLSCOPE_DATA", None)
    return env


def callscope(*args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run ``callscope ARGS`` and return what it printed; fails the test on a non-zero exit if ``check``."""
    result = subprocess.run(
        [CALLSCOPE, *args], capture_output=True, text=True, timeout=timeout, env=_environment(), check=False
    )
    if check:
        assert result.returncode == 0, (
            f"callscope {' '.join(args)} exited {result.returncode}:\n{result.stderr}"
        )
    return result


def sql(data: Path, query: str) -> list[dict[str, Any]]:
    """Rows of ``callscope sql --format json``."""
    rows: list[dict[str, Any]] = json.loads(
        callscope("sql", "--data", str(data), "--format", "json", query).stdout
    )
    return rows


@dataclass(frozen=True)
class DemoRun:
    path: str
    data: Path
    output: str
    truth: GroundTruth
    seconds: float


class _Started:
    """A ``callscope demo --no-dashboard`` subprocess, started now and waited for later."""

    def __init__(self, data: Path, path: str, extra: Sequence[str] = ()) -> None:
        self.data, self.path = data, path
        self.started = time.perf_counter()
        args = ["demo", "--no-dashboard", "--no-progress", "--calls", str(CALLS), "--seed", str(SEED)]
        self.process = subprocess.Popen(
            [CALLSCOPE, *args, "--data", str(data), *extra],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=_environment(),
        )

    def wait(self) -> DemoRun:
        try:
            output, errors = self.process.communicate(timeout=DEMO_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.communicate()
            pytest.fail(f"callscope demo ({self.path}) did not finish within {DEMO_TIMEOUT_S} s")
        assert self.process.returncode == 0, f"callscope demo ({self.path}) failed:\n{errors}"
        return DemoRun(
            self.path, self.data, output, load_truth(self.data), time.perf_counter() - self.started
        )


@pytest.fixture(scope="session")
def demo_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, DemoRun]:
    """Both demo runs, started side by side (their calls mostly wait on the simulator's clock)."""
    started = [
        _Started(tmp_path_factory.mktemp("demo-parquet") / "data", "parquet"),
        _Started(tmp_path_factory.mktemp("demo-otlp") / "data", "otlp", ["--otlp"]),
    ]
    return {run.path: run.wait() for run in started}


@pytest.fixture(scope="session")
def parquet_run(demo_runs: dict[str, DemoRun]) -> DemoRun:
    """The demo with spans written to Parquet in-process."""
    return demo_runs["parquet"]


@pytest.fixture(scope="session")
def otlp_run(demo_runs: dict[str, DemoRun]) -> DemoRun:
    """The demo with spans sent over OTLP/HTTP to a `callscope collect` process."""
    return demo_runs["otlp"]


@pytest.fixture(params=["parquet", "otlp"])
def demo_run(request: pytest.FixtureRequest) -> DemoRun:
    """Each test using it runs on both paths."""
    run: DemoRun = request.getfixturevalue(f"{request.param}_run")
    return run
