"""Injected faults surface in the SDK as the API's would: error classes, retries, cut streams, timeouts."""

from __future__ import annotations

import time
from collections.abc import Callable

import openai
import pytest
from openai.types.chat import ChatCompletionChunk, ChatCompletionMessageParam

from callscope.demo import FAULT_HEADER, FaultRates, RequestRecord, Simulator
from tests.demo.conftest import sdk_client

HELLO: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Hello world, how are you?"}]


def settled(sim: Simulator, count: int) -> list[RequestRecord]:
    """The first ``count`` records, waiting (bounded) for handlers that notice a hang-up after the client."""
    deadline = time.monotonic() + 10
    while len(sim.requests()) < count and time.monotonic() < deadline:
        time.sleep(0.01)
    return sim.requests()


def test_server_errors_are_retried_then_raised(start_simulator: Callable[..., Simulator]) -> None:
    sim = start_simulator(faults=FaultRates(server_error=1.0), server_error_retry_after_s=1.0)
    with sdk_client(sim, max_retries=2) as client, pytest.raises(openai.InternalServerError) as caught:
        client.chat.completions.create(model="gpt-4o-mini", messages=HELLO)
    assert caught.value.status_code == 500
    assert caught.value.type == "server_error"
    assert [(r.status, r.attempt, r.fault) for r in sim.requests()] == [
        (500, n, "server_error") for n in range(3)
    ]
    stats = sim.stats()
    assert stats.faults == {"server_error": 3}
    assert stats.output_tokens == 0


def test_overloaded_is_a_503(start_simulator: Callable[..., Simulator]) -> None:
    sim = start_simulator(model_faults={"gpt-4o": FaultRates(overloaded=1.0)})
    with sdk_client(sim) as client:
        with pytest.raises(openai.InternalServerError) as caught:
            client.chat.completions.create(model="gpt-4o", messages=HELLO)
        assert caught.value.status_code == 503
        # Only gpt-4o is affected.
        assert client.chat.completions.create(model="gpt-4o-mini", messages=HELLO).choices


def test_forced_fault_on_the_first_attempt_lets_the_retry_succeed(simulator: Simulator) -> None:
    with sdk_client(simulator, max_retries=2) as client:
        before = len(simulator.requests())
        completion = client.chat.completions.create(
            model="gpt-4o-mini",
            messages=HELLO,
            extra_headers={FAULT_HEADER: "429;attempts=1"},
        )
    records = simulator.requests()[before:]
    assert [(r.status, r.attempt, r.fault) for r in records] == [(429, 0, "rate_limited"), (200, 1, None)]
    assert records[-1].request_id == completion._request_id


def test_slow_answers_trip_the_client_timeout(start_simulator: Callable[..., Simulator]) -> None:
    sim = start_simulator(faults=FaultRates(slow=1.0, slow_seconds=300))  # 3 s at time_scale 0.01
    with sdk_client(sim, timeout=0.3) as client, pytest.raises(openai.APITimeoutError):
        client.chat.completions.create(model="gpt-4o-mini", messages=HELLO)
    (record,) = settled(sim, 1)
    # The simulator noticed the client hang up and never answered.
    assert (record.status, record.fault, record.completed) == (0, "slow", False)


def test_cut_streams_raise_a_connection_error_mid_way(start_simulator: Callable[..., Simulator]) -> None:
    sim = start_simulator(faults=FaultRates(cut_stream=1.0))
    received: list[ChatCompletionChunk] = []
    with sdk_client(sim) as client:
        stream = client.chat.completions.create(
            model="gpt-4o-mini",
            messages=HELLO,
            stream=True,
            stream_options={"include_usage": True},
            extra_headers={"x-simulator-output-tokens": "60"},
        )
        with pytest.raises(openai.APIConnectionError):
            received.extend(stream)
        # Plain answers are not streams: the same rate leaves them alone.
        assert client.chat.completions.create(model="gpt-4o-mini", messages=HELLO).choices
    assert 0 < len(received) < 62
    assert all(chunk.usage is None for chunk in received)
    stats = sim.stats()
    assert (stats.streams_cut, stats.streams_completed) == (1, 0)
    assert stats.faults == {"cut_stream": 1}
    assert stats.models["gpt-4o-mini"].requests == 2


def test_responses_streams_are_cut_before_completed(simulator: Simulator) -> None:
    with sdk_client(simulator) as client:
        stream = client.responses.create(
            model="gpt-4o", input="hi", stream=True, extra_headers={FAULT_HEADER: "cut_stream"}
        )
        kinds: list[str] = []
        with pytest.raises(openai.APIConnectionError):
            kinds.extend(event.type for event in stream)
    assert kinds[0] == "response.created"
    assert "response.completed" not in kinds


def test_dropped_connections_are_connection_errors(start_simulator: Callable[..., Simulator]) -> None:
    sim = start_simulator(faults=FaultRates(disconnect=1.0))
    with sdk_client(sim, max_retries=1) as client, pytest.raises(openai.APIConnectionError) as caught:
        client.embeddings.create(model="text-embedding-3-small", input="x")
    assert not isinstance(caught.value, openai.APITimeoutError)
    assert [(r.status, r.fault) for r in settled(sim, 2)] == [(0, "disconnect"), (0, "disconnect")]


def test_a_client_leaving_a_stream_early_is_recorded_as_abandoned(simulator: Simulator) -> None:
    before = simulator.stats().streams_abandoned
    with sdk_client(simulator) as client:
        stream = client.chat.completions.create(
            model="gpt-4o",
            messages=HELLO,
            stream=True,
            extra_headers={"x-simulator-output-tokens": "100000"},
        )
        next(iter(stream))
        stream.close()
    deadline = time.monotonic() + 10
    while simulator.stats().streams_abandoned == before and time.monotonic() < deadline:
        time.sleep(0.01)
    assert simulator.stats().streams_abandoned == before + 1


def test_bad_fault_header_is_a_400(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(
            model="gpt-4o", messages=HELLO, extra_headers={FAULT_HEADER: "explode"}
        )


def test_fault_rates_must_be_probabilities() -> None:
    from callscope.demo import SimulatorConfigError

    with pytest.raises(SimulatorConfigError):
        FaultRates(server_error=0.7, overloaded=0.7)
    with pytest.raises(SimulatorConfigError):
        FaultRates(slow=-0.1)
