"""Rate limits from real token buckets: headers, 429s with retry-after, the SDK's retries, quota.

Buckets refill in simulated time, so these tests pick a ``time_scale`` where a refill takes seconds of
wall-clock time (no test depends on a call finishing within a few milliseconds) and ask for one-token
answers to stay fast.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import openai
import pytest
from openai.types.chat import ChatCompletion, ChatCompletionMessageParam

from callscope.demo import OUTPUT_TOKENS_HEADER, Simulator, SimulatorConfig
from tests.demo.conftest import sdk_client

HELLO: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Hello world, how are you?"}]
HELLO_TOKENS = 14
SHORT = {OUTPUT_TOKENS_HEADER: "1"}
GO_DURATION = re.compile(r"0s|\d+ms|(\d+h)?(\d+m)?\d+(\.\d+)?s")


def limited(start: Callable[..., Simulator], time_scale: float, **limits: int) -> Simulator:
    config = SimulatorConfig().with_rate_limit("gpt-4o-mini", **limits)
    return start(models=config.models, time_scale=time_scale)


def test_headers_count_down_and_a_dry_bucket_answers_429(start_simulator: Callable[..., Simulator]) -> None:
    # 3 requests per simulated minute at time_scale 0.2: one request refills every 4 s of wall-clock time.
    sim = limited(start_simulator, 0.2, rpm=3, tpm=1_000_000)
    with sdk_client(sim) as client:
        remaining = []
        for _ in range(3):
            raw = client.chat.completions.with_raw_response.create(
                model="gpt-4o-mini", messages=HELLO, extra_headers=SHORT
            )
            assert raw.headers["x-ratelimit-limit-requests"] == "3"
            assert raw.headers["x-ratelimit-limit-tokens"] == "1000000"
            remaining.append(int(raw.headers["x-ratelimit-remaining-requests"]))
            for reset in ("x-ratelimit-reset-requests", "x-ratelimit-reset-tokens"):
                assert GO_DURATION.fullmatch(raw.headers[reset]), raw.headers[reset]
        assert remaining == [2, 1, 0]
        with pytest.raises(openai.RateLimitError) as caught:
            client.chat.completions.create(model="gpt-4o-mini", messages=HELLO)
    err = caught.value
    assert (err.code, err.type) == ("rate_limit_exceeded", "requests")
    assert "Rate limit reached for gpt-4o-mini" in err.message
    assert "Limit 3" in err.message
    headers = err.response.headers
    wait_ms = int(headers["retry-after-ms"])
    # At most one refill period, less the time since the bucket ran dry.
    assert 0 < wait_ms <= 4001
    assert headers["retry-after"] == str(math.ceil(wait_ms / 1000))
    assert headers["x-ratelimit-remaining-requests"] == "0"
    assert sim.stats().by_error == {"rate_limit_exceeded": 1}


def test_a_burst_gets_429s_and_the_sdk_retries_after_retry_after(
    start_simulator: Callable[..., Simulator],
) -> None:
    # 2 requests per simulated minute at time_scale 0.01: a refill every 0.3 s, so the retries are quick.
    sim = limited(start_simulator, 0.01, rpm=2)
    with sdk_client(sim, max_retries=6) as client, ThreadPoolExecutor(4) as pool:

        def ask(_: int) -> ChatCompletion:
            return client.chat.completions.create(model="gpt-4o-mini", messages=HELLO, extra_headers=SHORT)

        answers = list(pool.map(ask, range(4)))
    assert len({answer.id for answer in answers}) == 4
    records = sim.requests()
    assert sum(r.status == 200 for r in records) == 4
    limited_attempts = [r for r in records if r.status == 429]
    assert len(limited_attempts) >= 2  # only two of the four fit in the bucket at once
    assert all(r.error == "rate_limit_exceeded" and r.fault is None for r in limited_attempts)
    assert any(r.status == 200 and r.attempt >= 1 for r in records)  # some succeeded on a retry
    assert sim.stats().by_status == {200: 4, 429: len(limited_attempts)}


def test_token_limits_count_input_plus_max_output(start_simulator: Callable[..., Simulator]) -> None:
    # 120 tokens per simulated minute at time_scale 0.2: 10 tokens refill per second of wall-clock time.
    sim = limited(start_simulator, 0.2, rpm=1000, tpm=120)
    with sdk_client(sim) as client:
        raw = client.chat.completions.with_raw_response.create(
            model="gpt-4o-mini", messages=HELLO, max_tokens=80, extra_headers=SHORT
        )
        assert int(raw.headers["x-ratelimit-remaining-tokens"]) == 120 - (HELLO_TOKENS + 80)
        with pytest.raises(openai.RateLimitError) as caught:
            client.chat.completions.create(model="gpt-4o-mini", messages=HELLO, max_tokens=80)
        assert caught.value.type == "tokens"
        with pytest.raises(openai.RateLimitError) as too_large:
            client.chat.completions.create(model="gpt-4o-mini", messages=HELLO, max_tokens=500)
        assert "Request too large" in too_large.value.message


def test_exhausted_quota_answers_insufficient_quota(start_simulator: Callable[..., Simulator]) -> None:
    sim = start_simulator(quota_tokens=50)
    with sdk_client(sim) as client:
        client.chat.completions.create(
            model="gpt-4o", messages=HELLO, extra_headers={OUTPUT_TOKENS_HEADER: "40"}
        )
        with pytest.raises(openai.RateLimitError) as caught:
            client.chat.completions.create(model="gpt-4o", messages=HELLO)
    assert (caught.value.code, caught.value.type) == ("insufficient_quota", "insufficient_quota")
    assert sim.stats().by_error == {"insufficient_quota": 1}
