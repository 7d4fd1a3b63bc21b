"""A local OpenAI-compatible API for the demo and the tests.

The real ``openai`` SDK cannot tell it from the API for what callscope measures: Chat Completions (plain and
streamed, ``n``, length caps, tools, JSON output), the Responses API (plain, streamed, incomplete, stream
resume), embeddings; realistic latency (network, queueing, time to first token growing with the input,
per-model generation speed) reported in ``openai-processing-ms``; ``x-request-id`` and ``x-ratelimit-*``
headers from real token buckets with 429s and ``retry-after``; prompt caching in 128-token steps from 1024;
token counts from the real o200k vocabulary; seeded faults (500, 503, stalls, cut streams, dropped
connections)::

    from callscope.demo.simulator import Simulator, SimulatorConfig

    with Simulator(SimulatorConfig(seed=7, time_scale=0.05)) as sim:
        client = openai.OpenAI(base_url=sim.base_url, api_key="sk-demo")
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
        print(sim.stats())

Run it alone with ``python -m callscope.demo.simulator --port 8765``.

Planting known patterns (a workload that must know its ground truth):

* a fault on chosen calls: the request header ``x-simulator-fault: 503;attempts=1`` fails the first attempt
  and lets the SDK's retry succeed; also ``500``, ``429``, ``slow`` (stalls ``slow_seconds``; give the client
  a shorter timeout), ``cut_stream``, ``disconnect``; without ``;attempts=N`` every attempt fails;
* background noise: ``FaultRates`` in ``SimulatorConfig.faults`` (all models) or ``model_faults`` (one model);
* rate limiting: ``config.with_rate_limit("gpt-4o-mini", rpm=20)``, then a burst of more than 20 calls;
* answer lengths: the header ``x-simulator-output-tokens: N`` (a one-word classifier: 1; a long writer: 1500);
  with ``max_tokens`` below N the answer is cut at exactly ``max_tokens`` (``finish_reason="length"``);
* prompt caching: a shared prefix of at least 1024 tokens (system prompt, then tools) sent again within
  ``prompt_cache_ttl_s`` simulated seconds;
* the truth to compare with: ``stats()`` and ``requests()`` (one :class:`RequestRecord` per HTTP attempt,
  carrying the ``x-request-id`` that callscope stores as ``request_id``).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from types import TracebackType

import click

from callscope.demo._engine import Engine
from callscope.demo._http import SimulatorHTTPServer
from callscope.demo.config import FAULT_HEADER, OUTPUT_TOKENS_HEADER, FaultRates, SimulatorConfig
from callscope.demo.errors import DemoError
from callscope.demo.profiles import DEFAULT_MODELS, ModelProfile
from callscope.demo.stats import ModelStats, RequestRecord, SimulatorStats

__all__ = [
    "DEFAULT_MODELS",
    "FAULT_HEADER",
    "OUTPUT_TOKENS_HEADER",
    "FaultRates",
    "ModelProfile",
    "ModelStats",
    "RequestRecord",
    "Simulator",
    "SimulatorConfig",
    "SimulatorStats",
    "main",
]


class Simulator:
    """The simulated API server. ``start()`` returns the base URL to give the SDK (``.../v1``)."""

    def __init__(self, config: SimulatorConfig | None = None) -> None:
        self.config = config or SimulatorConfig()
        self._engine: Engine | None = None
        self._server: SimulatorHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        """``http://host:port/v1``; only valid while running."""
        if self._server is None:
            raise DemoError("the simulator is not running")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def start(self) -> str:
        """Bind (port 0 picks a free one), serve in a background thread, return the base URL."""
        if self._server is not None:
            return self.base_url
        engine = self._engine or Engine(self.config)  # loads the tokenizer before the first request
        try:
            server = SimulatorHTTPServer((self.config.host, self.config.port), engine)
        except OSError as err:
            raise DemoError(
                f"the simulator cannot listen on {self.config.host}:{self.config.port}: {err}"
            ) from err
        self._engine, self._server = engine, server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="callscope-simulator",
            daemon=True,
        )
        self._thread.start()
        return self.base_url

    def stop(self) -> None:
        """Stop serving: in-flight answers end at once (streams are cut), the port is released."""
        server, thread = self._server, self._thread
        if server is None:
            return
        server.close_connections()
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> Simulator:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def stats(self) -> SimulatorStats:
        """Totals of everything served so far (kept after ``stop()``)."""
        return self._engine.stats.snapshot() if self._engine else SimulatorStats()

    def requests(self) -> list[RequestRecord]:
        """The most recent requests (up to ``config.request_log_size``), oldest first."""
        return self._engine.stats.records() if self._engine else []


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Interface to listen on (loopback by default)."
)
@click.option("--port", default=8765, show_default=True, help="Port (0 picks a free one).")
@click.option(
    "--seed", default=0, show_default=True, help="Same seed and inputs give the same answers and faults."
)
@click.option(
    "--time-scale",
    default=1.0,
    show_default=True,
    help="Wall-clock seconds per simulated second (0.05 runs 20x faster than the API).",
)
@click.option("--error-rate", default=0.0, show_default=True, help="Share of requests answered 500 or 503.")
@click.option("--no-rate-limits", is_flag=True, help="Report rate-limit headers but never answer 429.")
def main(
    *, host: str, port: int, seed: int, time_scale: float, error_rate: float, no_rate_limits: bool
) -> None:
    """Run the OpenAI-compatible simulator until Ctrl-C.

    Point any OpenAI SDK at it with OPENAI_BASE_URL=http://HOST:PORT/v1 and any OPENAI_API_KEY.
    """
    config = SimulatorConfig(
        host=host,
        port=port,
        seed=seed,
        time_scale=time_scale,
        faults=FaultRates(server_error=error_rate / 2, overloaded=error_rate / 2),
        rate_limits=not no_rate_limits,
    )
    simulator = Simulator(config)
    url = simulator.start()
    click.echo(f"OpenAI simulator listening on {url}")
    click.echo(f"  export OPENAI_BASE_URL={url} OPENAI_API_KEY=sk-simulator")
    done = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        with contextlib.suppress(KeyboardInterrupt):
            while not done.wait(0.5):
                pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        simulator.stop()
    stats = simulator.stats()
    click.echo(
        f"served {stats.requests} requests {stats.by_status}; {stats.input_tokens} input tokens "
        f"({stats.cached_tokens} cached), {stats.output_tokens} output tokens"
    )


if __name__ == "__main__":
    main()
