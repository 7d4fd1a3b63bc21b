"""Fixtures: a running simulator on 127.0.0.1 and SDK clients pointed at it.

Simulators run at ``time_scale=0.01`` (100x faster than the API) so every timing ratio holds while a call
takes milliseconds. Each fixture stops its server in teardown.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import openai
import pytest

from callscope.demo import Simulator, SimulatorConfig

FAST = 0.01


@pytest.fixture(scope="module")
def simulator() -> Iterator[Simulator]:
    """A healthy simulator shared by a test module (seed 7)."""
    with Simulator(SimulatorConfig(seed=7, time_scale=FAST)) as sim:
        yield sim


@pytest.fixture
def start_simulator() -> Iterator[Callable[..., Simulator]]:
    """Start simulators with a given configuration; all are stopped after the test."""
    started: list[Simulator] = []

    def start(**settings: Any) -> Simulator:
        settings.setdefault("time_scale", FAST)
        sim = Simulator(SimulatorConfig(**settings))
        sim.start()
        started.append(sim)
        return sim

    yield start
    for sim in started:
        sim.stop()


@pytest.fixture
def client(simulator: Simulator) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=simulator.base_url, api_key="sk-test", max_retries=0) as sdk:
        yield sdk


@pytest.fixture
async def async_client(simulator: Simulator) -> AsyncIterator[openai.AsyncOpenAI]:
    async with openai.AsyncOpenAI(base_url=simulator.base_url, api_key="sk-test", max_retries=0) as sdk:
        yield sdk


def sdk_client(sim: Simulator, *, max_retries: int = 0, timeout: float | None = None) -> openai.OpenAI:
    """A sync client for ``sim`` (close it, or use it in ``with``)."""
    if timeout is None:
        return openai.OpenAI(base_url=sim.base_url, api_key="sk-test", max_retries=max_retries)
    return openai.OpenAI(base_url=sim.base_url, api_key="sk-test", max_retries=max_retries, timeout=timeout)
