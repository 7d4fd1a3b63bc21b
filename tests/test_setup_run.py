"""``callscope run``: a program traced with no code change, in a real subprocess."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.collector.readback import query

pytestmark = pytest.mark.slow  # real subprocesses

ROOT = Path(__file__).parents[1]
APP = ROOT / "tests" / "collector" / "openai_app.py"
CALLSCOPE = [sys.executable, "-m", "callscope"]


def environment(**extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("OTEL_", "CALLSCOPE_"))}
    env.pop("PYTEST_CURRENT_TEST", None)
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra)
    return env


def test_runs_the_program_traced_and_forwards_its_exit_status(tmp_path: Path) -> None:
    data = tmp_path / "data"
    result = subprocess.run(
        [
            *CALLSCOPE,
            "run",
            "--data",
            str(data),
            "--service",
            "billing",
            "--",
            sys.executable,
            str(APP),
            "7",
            "--exit-code",
            "5",
        ],
        env=environment(),
        capture_output=True,
        check=False,
        text=True,
        timeout=120,
    )
    assert result.returncode == 5, result.stderr
    assert result.stdout == "made 7 calls\n"
    assert query(
        str(data), "SELECT count(*), min(service_name), min(instrumentation), sum(input_tokens) FROM t"
    ) == [(7, "billing", "callscope", 14_000)]


def test_a_py_file_runs_with_this_python_and_data_defaults_to_the_working_dir(tmp_path: Path) -> None:
    result = subprocess.run(
        [*CALLSCOPE, "run", str(APP), "2"],
        env=environment(),
        cwd=tmp_path,
        capture_output=True,
        check=False,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert query(str(tmp_path / "callscope-data"), "SELECT count(*), min(service_name) FROM t") == [
        (2, "openai_app")
    ]


def test_the_shadowed_sitecustomize_still_runs(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    marker = tmp_path / "marker"
    (site / "sitecustomize.py").write_text(f"open({str(marker)!r}, 'w').write('ran')\n")
    data = tmp_path / "data"
    env = environment(PYTHONPATH=os.pathsep.join([str(site), str(ROOT)]))
    result = subprocess.run(
        [*CALLSCOPE, "run", "--data", str(data), "--", sys.executable, str(APP), "1"],
        env=env,
        capture_output=True,
        check=False,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert marker.read_text() == "ran"
    assert query(str(data), "SELECT count(*) FROM t") == [(1,)]


SLEEPER = """
import sys, time
sys.argv = ["app", "4"]
import runpy

try:
    runpy.run_path({app!r}, run_name="__main__")
except SystemExit:
    pass
print("ready", flush=True)
time.sleep(60)
"""


def test_sigterm_reaches_the_program_and_the_calls_are_flushed_first(tmp_path: Path) -> None:
    script = tmp_path / "sleeper.py"
    script.write_text(SLEEPER.format(app=str(APP)))
    data = tmp_path / "data"
    with subprocess.Popen(
        [*CALLSCOPE, "run", "--data", str(data), "--", sys.executable, str(script)],
        env=environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    ) as process:
        try:
            assert process.stdout is not None
            deadline = time.monotonic() + 60
            lines: list[str] = []
            while "ready" not in lines:
                assert time.monotonic() < deadline
                assert process.poll() is None
                lines.append(process.stdout.readline().strip())
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=60) == -signal.SIGTERM  # the program itself died of SIGTERM
        finally:
            process.kill()
    assert query(str(data), "SELECT count(*) FROM t") == [(4,)]


def test_usage_errors(tmp_path: Path) -> None:
    missing = subprocess.run(
        [*CALLSCOPE, "run", "--", "no-such-program-xyz"],
        env=environment(),
        capture_output=True,
        check=False,
        text=True,
        timeout=60,
    )
    assert missing.returncode == 2
    assert "program not found: no-such-program-xyz" in missing.stderr
    assert "Traceback" not in missing.stderr
    empty = subprocess.run(
        [*CALLSCOPE, "run"], env=environment(), capture_output=True, check=False, text=True, timeout=60
    )
    assert empty.returncode == 2
    assert "give the program to run" in empty.stderr
