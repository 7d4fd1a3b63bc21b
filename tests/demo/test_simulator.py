"""The Simulator object and the ``python -m callscope.demo.simulator`` command."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading

import openai
import pytest

from callscope.demo import DemoError, Simulator, SimulatorConfig, SimulatorConfigError
from callscope.demo.simulator import main
from tests.demo.conftest import sdk_client


def test_start_picks_a_free_loopback_port_and_stop_releases_it() -> None:
    sim = Simulator(SimulatorConfig(time_scale=0.01))
    with pytest.raises(DemoError):
        _ = sim.base_url
    url = sim.start()
    assert url.startswith("http://127.0.0.1:")
    assert url.endswith("/v1")
    assert sim.start() == url  # idempotent
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    with pytest.raises(DemoError, match="cannot listen"):
        Simulator(SimulatorConfig(port=port)).start()
    with sdk_client(sim) as client:
        client.embeddings.create(model="text-embedding-3-small", input="x")
    sim.stop()
    sim.stop()  # idempotent
    assert sim.stats().requests == 1  # kept after stop
    with Simulator(SimulatorConfig(port=port, time_scale=0.01)) as again:  # the port is free again
        assert again.base_url == url


def test_stop_ends_in_flight_streams() -> None:
    sim = Simulator(SimulatorConfig(time_scale=0.01)).__enter__()
    outcome: list[BaseException | None] = []
    first_chunk = threading.Event()

    def consume() -> None:
        with sdk_client(sim) as client:
            stream = client.chat.completions.create(
                model="gpt-4o",
                messages=[{"role": "user", "content": "long"}],
                stream=True,
                extra_headers={"x-simulator-output-tokens": "100000"},  # 1.3 s x 100 of generation
            )
            try:
                for _ in stream:
                    first_chunk.set()
            except openai.APIConnectionError as err:
                outcome.append(err)
            else:
                outcome.append(None)

    thread = threading.Thread(target=consume)
    thread.start()
    assert first_chunk.wait(30)
    sim.stop()
    thread.join(30)
    assert len(outcome) == 1
    assert isinstance(outcome[0], openai.APIConnectionError)
    assert sim.stats().streams_abandoned == 1


def test_bad_settings_are_config_errors() -> None:
    with pytest.raises(SimulatorConfigError):
        SimulatorConfig(time_scale=0)
    with pytest.raises(SimulatorConfigError):
        SimulatorConfig(model_faults={"gpt-99": SimulatorConfig().faults})
    with pytest.raises(SimulatorConfigError):
        SimulatorConfig().with_rate_limit("gpt-99", rpm=1)


def test_command_runs_until_interrupted() -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "callscope.demo.simulator",
            "--port",
            "0",
            "--time-scale",
            "0.01",
            "--seed",
            "5",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith("OpenAI simulator listening on http://127.0.0.1:")
        url = first.split()[-1]
        with openai.OpenAI(base_url=url, api_key="sk", max_retries=0) as client:
            assert client.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}]
            )
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    assert "served 1 requests {200: 1}" in out
    assert "Traceback" not in err
    assert "Warning" not in err


def test_command_help() -> None:
    from click.testing import CliRunner

    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    assert "OPENAI_BASE_URL" in result.output


def test_public_names_resolve() -> None:
    import callscope.demo
    import callscope.demo.simulator

    for module in (callscope.demo, callscope.demo.simulator):
        for name in module.__all__:
            assert getattr(module, name) is not None, name
