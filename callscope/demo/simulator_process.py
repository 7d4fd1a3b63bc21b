"""The simulator in a process of its own, as the real API is: the app's clock then measures the API's time
and its own, not the simulator's work competing with the app for the interpreter lock.

>>> with SimulatorProcess(SimulatorConfig(time_scale=0.1)) as sim:  # doctest: +SKIP
...     client = openai.OpenAI(base_url=sim.base_url, api_key="sk-demo")
...     ...
>>> sim.requests()  # every HTTP attempt it served, once it has stopped  # doctest: +SKIP

The child is ``python -m callscope.demo.simulator_process``: it reads its configuration (pickled) on
stdin, answers ``ready URL`` on stdout, serves until stdin closes, then writes its request log (pickled) to
stdout. Nothing else talks to it, so pickle between the two processes of one installation is safe.
"""

from __future__ import annotations

import pickle
import subprocess
import sys
import threading
from types import TracebackType
from typing import IO, Final

from callscope.demo.config import SimulatorConfig
from callscope.demo.errors import DemoError
from callscope.demo.stats import RequestRecord

__all__ = ["SimulatorProcess"]

START_TIMEOUT_S: Final = 60.0
STOP_TIMEOUT_S: Final = 60.0


class SimulatorProcess:
    """:class:`~callscope.demo.simulator.Simulator` served from a child process."""

    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        self.base_url = ""
        self._requests: list[RequestRecord] = []
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> str:
        """Start serving; returns the base URL (``http://127.0.0.1:PORT/v1``)."""
        try:
            process = subprocess.Popen(
                [sys.executable, "-m", __name__],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                start_new_session=True,  # Ctrl-C reaches the parent, which stops this one in order
            )
        except OSError as err:
            raise DemoError(f"cannot start the simulator: {err}") from err
        self._process = process
        assert process.stdin is not None
        assert process.stdout is not None
        process.stdin.write(pickle.dumps(self.config))
        process.stdin.flush()
        line = _read_line(process.stdout, START_TIMEOUT_S)
        status, _, value = line.decode().strip().partition(" ")
        if status != "ready":
            self.stop()
            raise DemoError(value or f"the simulator did not start (status {process.poll()})")
        self.base_url = value
        return value

    def stop(self) -> None:
        """Stop it and collect its log of the requests it served."""
        process, self._process = self._process, None
        if process is None:
            return
        assert process.stdin is not None
        assert process.stdout is not None
        try:
            process.stdin.close()  # the signal to stop
            self._requests = pickle.load(process.stdout)
        except (OSError, EOFError, pickle.UnpicklingError):
            pass  # it had already gone: no log to collect
        try:
            process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def requests(self) -> list[RequestRecord]:
        """Every request served, oldest first (available after :meth:`stop`)."""
        return list(self._requests)

    def __enter__(self) -> SimulatorProcess:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def _read_line(stream: IO[bytes], timeout: float) -> bytes:
    """One line from ``stream``, or ``b""`` if none came within ``timeout`` seconds."""
    result: list[bytes] = []
    reader = threading.Thread(target=lambda: result.append(stream.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    return result[0] if result else b""


def main() -> None:
    """The child's side (see the module docstring)."""
    from callscope.demo.simulator import Simulator

    config = pickle.load(sys.stdin.buffer)
    simulator = Simulator(config)
    try:
        url = simulator.start()
    except DemoError as err:
        sys.stdout.write(f"error {err}\n")
        return
    sys.stdout.write(f"ready {url}\n")
    sys.stdout.flush()
    sys.stdin.buffer.read()  # until the parent closes it (or goes away)
    simulator.stop()
    pickle.dump(simulator.requests(), sys.stdout.buffer)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
