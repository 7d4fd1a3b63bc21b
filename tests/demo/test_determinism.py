"""Same seed and inputs: same answers, ids and fault decisions, whatever the thread scheduling."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import openai

from callscope.demo import FaultRates, Simulator
from tests.demo.conftest import sdk_client


def run(sim: Simulator, workers: int) -> dict[int, tuple[object, ...]]:
    """Twenty distinct calls, in parallel; what each one got back."""

    def one(i: int) -> tuple[object, ...]:
        try:
            raw = client.chat.completions.with_raw_response.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": f"Question {i}"}]
            )
        except openai.APIStatusError as err:
            return (err.status_code, err.request_id)
        completion = raw.parse()
        return (200, raw.headers["x-request-id"], completion.id, completion.choices[0].message.content)

    with sdk_client(sim) as client, ThreadPoolExecutor(workers) as pool:
        return dict(zip(range(20), pool.map(one, range(20)), strict=True))


def test_same_seed_same_everything(start_simulator: Callable[..., Simulator]) -> None:
    faults = FaultRates(server_error=0.25, overloaded=0.25)
    first = run(start_simulator(seed=3, faults=faults), workers=8)
    second = run(start_simulator(seed=3, faults=faults), workers=3)
    assert first == second
    statuses = [outcome[0] for outcome in first.values()]
    assert {200, 500, 503} <= set(statuses)
    other = run(start_simulator(seed=4, faults=faults), workers=8)
    assert other != first


def test_repeated_identical_requests_get_the_same_answer_and_new_ids(simulator: Simulator) -> None:
    with sdk_client(simulator) as client:
        answers = [
            client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Same?"}])
            for _ in range(2)
        ]
    assert answers[0].choices[0].message.content == answers[1].choices[0].message.content
    assert answers[0].id != answers[1].id
    assert answers[0]._request_id != answers[1]._request_id
