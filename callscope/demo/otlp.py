"""``callscope demo --otlp``: a ``callscope collect`` process for the demo app to send its spans to.

The collector runs as its own process, from the same installation (``python -m callscope collect``), on a
free loopback port, with a spool folder of its own that is removed once everything is written.
"""

from __future__ import annotations

import contextlib
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from types import TracebackType
from typing import Final

from callscope.demo.errors import DemoError

__all__ = ["CollectorProcess"]

#: The startup line that names the OTLP/HTTP endpoint: ``  OTLP/HTTP  http://127.0.0.1:4318/v1/traces ...``.
_ENDPOINT: Final = re.compile(r"OTLP/HTTP\s+(https?://\S+)/v1/traces")
START_TIMEOUT_S: Final = 60.0
STOP_TIMEOUT_S: Final = 60.0


class CollectorProcess:
    """A ``callscope collect`` child process writing ``data``. Use as a context manager, or start/stop."""

    def __init__(self, data: str) -> None:
        self.data = data
        self.endpoint: str | None = None
        self._spool: str | None = None
        self._process: subprocess.Popen[str] | None = None
        self._lines: queue.Queue[str | None] = queue.Queue()
        self.output: list[str] = []

    def start(self) -> str:
        """Start it and return its OTLP/HTTP base URL (``http://127.0.0.1:PORT``) once it listens."""
        self._spool = tempfile.mkdtemp(prefix="callscope-demo-spool-")
        command = [
            sys.executable,
            "-m",
            "callscope",
            "collect",
            "--data",
            self.data,
            "--spool",
            self._spool,
            "--port",
            "0",
            "--no-grpc",
            "--log-level",
            "warning",
        ]
        try:
            self._process = subprocess.Popen(
                command,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
                start_new_session=True,  # Ctrl-C reaches the demo, which stops the collector in order
            )
        except OSError as err:
            raise DemoError(f"cannot start `callscope collect`: {err}") from err
        threading.Thread(target=self._read, name="callscope-demo-collector-output", daemon=True).start()
        while True:
            try:
                line = self._lines.get(timeout=START_TIMEOUT_S)
            except queue.Empty:
                self.stop()
                raise DemoError(f"`callscope collect` did not start within {START_TIMEOUT_S:g} s") from None
            if line is None:
                code = self._process.wait()
                raise DemoError(
                    f"`callscope collect` exited with status {code}:\n" + "".join(self.output[-20:])
                )
            match = _ENDPOINT.search(line)
            if match:
                self.endpoint = match[1]
                return self.endpoint

    def _read(self) -> None:
        assert self._process is not None
        assert self._process.stdout is not None
        for line in self._process.stdout:
            self.output.append(line)
            self._lines.put(line)
        self._lines.put(None)

    def stop(self) -> None:
        """SIGTERM, as Ctrl-C would: the collector writes everything it acknowledged, then exits."""
        process = self._process
        if process is None:
            return
        self._process = None
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
                raise DemoError(
                    f"`callscope collect` did not stop within {STOP_TIMEOUT_S:g} s; its spool is kept in "
                    f"{self._spool}"
                ) from None
        if process.returncode != 0:
            raise DemoError(
                f"`callscope collect` stopped with status {process.returncode}; its spool is kept in "
                f"{self._spool}:\n" + "".join(self.output[-20:])
            )
        if self._spool is not None:
            shutil.rmtree(self._spool, ignore_errors=True)

    def __enter__(self) -> CollectorProcess:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc is None:
            self.stop()
            return
        with contextlib.suppress(DemoError):  # the error already on its way matters more
            self.stop()
