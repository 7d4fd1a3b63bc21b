"""``callscope dashboard``: its help, the port check, and the server it starts."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest
from callscope.dashboard import PortInUse
from callscope.dashboard.server import check_port, start, streamlit_command
from click.testing import CliRunner

from callscope.cli import cli


def test_help_explains_the_options() -> None:
    result = CliRunner().invoke(cli, ["dashboard", "--help"])
    assert result.exit_code == 0
    for text in ("--data DIR", "--port", "--host", "Ctrl+C", "URL"):
        assert text in result.output


def test_a_taken_port_is_a_one_line_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(cli, ["dashboard", "--port", str(port)])
        assert result.exit_code == 2
        assert result.output.strip() == (
            f"callscope: port {port} on 127.0.0.1 is already in use (another dashboard?): "
            "stop it, or pick another with --port"
        )
        with pytest.raises(PortInUse):
            check_port("127.0.0.1", port)


def test_port_zero_picks_a_free_one() -> None:
    assert check_port("127.0.0.1", 0) > 0


def test_streamlit_runs_headless_without_telemetry() -> None:
    command = streamlit_command("127.0.0.1", 8599)
    assert command[:4] == [sys.executable, "-m", "streamlit", "run"]
    assert command[4].endswith("dashboard/app.py")
    for flag in ("--server.headless=true", "--server.address=127.0.0.1", "--server.port=8599",
                 "--browser.gatherUsageStats=false"):  # fmt: skip
        assert flag in command


def test_the_server_answers_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    server = start(str(tmp_path), port=0)
    try:
        server.wait_ready()
        assert server.url == f"http://127.0.0.1:{server.port}"
    finally:
        code = server.stop()
    assert code == 0  # SIGINT, as Ctrl+C, is a clean shutdown


def test_importing_the_package_does_not_import_streamlit() -> None:
    code = "import sys, callscope.dashboard; print('streamlit' in sys.modules)"
    assert (
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
        == "False\n"
    )
