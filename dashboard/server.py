"""Starting the dashboard: ``streamlit run`` on :data:`APP_PATH` in a child process.

Used by ``callscope dashboard`` (and anything else that serves the dashboard, such as the
demo). Nothing here imports Streamlit: the child process does.
"""

from __future__ import annotations

import errno
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from callscope.dashboard.errors import DashboardError, PortInUse

from callscope.config import ENV_DATA_DIR

__all__ = ["APP_PATH", "DashboardServer", "check_port", "start", "streamlit_command"]

#: The file ``streamlit run`` executes.
APP_PATH: Final = Path(__file__).resolve().with_name("app.py")
#: The accent colour (links, selected controls, progress bars): the charts' first colour.
PRIMARY_COLOR: Final = "#3E6FB0"
#: How long the server may take to answer its health check.
READY_TIMEOUT_S: Final = 60.0


def streamlit_command(host: str, port: int) -> list[str]:
    """The command line that serves the app on ``host:port``, headless and without telemetry."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP_PATH),
        "--server.headless=true",
        f"--server.address={host}",
        f"--server.port={port}",
        "--browser.gatherUsageStats=false",
        "--server.fileWatcherType=none",
        "--server.runOnSave=false",
        "--client.toolbarMode=minimal",
        "--theme.base=light",
        f"--theme.primaryColor={PRIMARY_COLOR}",
        "--logger.level=warning",
    ]


def check_port(host: str, port: int) -> int:
    """``port`` if it is free on ``host`` (a free one if ``port`` is 0); :class:`PortInUse` if taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server will: TIME_WAIT is fine
        try:
            probe.bind((host, port))
        except OSError as err:
            if err.errno == errno.EADDRINUSE:
                raise PortInUse(
                    f"port {port} on {host} is already in use (another dashboard?): "
                    "stop it, or pick another with --port"
                ) from None
            raise DashboardError(f"cannot listen on {host}:{port}: {err.strerror or err}") from None
        return int(probe.getsockname()[1])


@dataclass
class DashboardServer:
    """A running dashboard: its URL and its process."""

    process: subprocess.Popen[bytes]
    host: str
    port: int
    data: str
    _stopped: bool = field(default=False, repr=False)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        if self.host in ("0.0.0.0", "::"):
            host = "localhost"
        return f"http://{host}:{self.port}"

    def wait_ready(self, timeout: float = READY_TIMEOUT_S) -> None:
        """Return once ``/_stcore/health`` answers; :class:`DashboardError` if the server exits first."""
        deadline = time.monotonic() + timeout
        health = f"{self.url}/_stcore/health"
        while time.monotonic() < deadline:
            code = self.process.poll()
            if code is not None:
                raise DashboardError(f"the dashboard server exited with status {code} before it was ready")
            try:
                with urllib.request.urlopen(health, timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.2)
        self.stop()
        raise DashboardError(f"the dashboard server did not answer on {self.url} within {timeout:g} s")

    def stop(self, timeout: float = 10.0) -> int:
        """Stop the server (SIGINT as Ctrl-C would, then SIGTERM, then SIGKILL); its exit status."""
        if self.process.poll() is None:
            for sig in (signal.SIGINT, signal.SIGTERM):
                self.process.send_signal(sig)
                try:
                    return self.process.wait(timeout)
                except subprocess.TimeoutExpired:
                    continue
            self.process.kill()
        return self.process.wait()


def start(
    data: str,
    *,
    host: str = "127.0.0.1",
    port: int = 8501,
    env: Mapping[str, str] | None = None,
    quiet: bool = True,
) -> DashboardServer:
    """Start serving the dashboard over the dataset ``data`` (not waiting for it: see ``wait_ready``).

    ``port`` 0 picks a free port. ``quiet`` hides Streamlit's own start-up banner (errors still
    reach stderr). Raises :class:`PortInUse` when the port is taken.
    """
    port = check_port(host, port)
    environment = dict(os.environ if env is None else env)
    environment[ENV_DATA_DIR] = data
    try:
        process = subprocess.Popen(
            streamlit_command(host, port),
            env=environment,
            stdout=subprocess.DEVNULL if quiet else None,
            # Own process group: the terminal's Ctrl-C reaches the parent, which stops the child
            # itself (once, in order) instead of both racing to shut down.
            start_new_session=True,
        )
    except OSError as err:
        raise DashboardError(f"cannot start Streamlit: {err}") from err
    return DashboardServer(process=process, host=host, port=port, data=data)
