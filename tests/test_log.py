"""callscope never writes to the host app's stdout: its logs go to stdlib logging (stderr)."""

from __future__ import annotations

import subprocess
import sys

import structlog

from callscope._log import get_logger


def test_unconfigured_logs_go_to_stderr_not_stdout() -> None:
    log_call = "get_logger('callscope.test').warning('disk full', rows=3)"
    code = f"from callscope._log import get_logger\n{log_call}\n"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout == ""
    assert "disk full" in done.stderr
    assert "rows=3" in done.stderr


def test_info_is_quiet_by_default() -> None:
    code = "from callscope._log import get_logger\nget_logger('callscope.test').info('chatty')\n"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout == ""
    assert done.stderr == ""


def test_a_configured_structlog_pipeline_receives_the_events() -> None:
    with structlog.testing.capture_logs() as captured:
        get_logger("callscope.test").warning("through the app", n=1)
    assert captured == [{"event": "through the app", "n": 1, "log_level": "warning"}]
