"""Every HTTP attempt is seen below the SDK's retry loop; errors keep their identity and code."""

from __future__ import annotations

from typing import Any

import httpx2
import openai
import pytest
from callscope.instrumentation import attributes as A

from tests.instrumentation import fakes
from tests.instrumentation.conftest import Telemetry
from tests.instrumentation.fakes import FakeOpenAI

MESSAGES: Any = [{"role": "user", "content": "hi"}]


def _create(client: openai.OpenAI) -> object:
    return client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)


def test_429_429_200_is_one_span_with_three_attempts(traced: Telemetry, fake: FakeOpenAI) -> None:
    fake.add(
        fakes.error_reply(429, "rate_limit_exceeded", headers={"retry-after-ms": "3"}),
        fakes.error_reply(429, "rate_limit_exceeded", headers={"retry-after-ms": "5"}),
    )
    _create(fake.client(max_retries=2))
    attrs = traced.attrs()
    assert [r.headers["x-stainless-retry-count"] for r in fake.requests] == ["0", "1", "2"]
    assert attrs[A.ATTEMPTS] == 3
    assert attrs[A.ATTEMPT_STATUSES] == ("429", "429", "200")
    assert len(attrs[A.ATTEMPT_DURATIONS_MS]) == 3
    assert attrs[A.RETRY_AFTER_MS] == (3.0, 5.0)
    assert attrs[A.RETRY_WAIT_MS] >= 8.0  # the SDK slept what the server asked
    assert attrs[A.STATUS] == "ok"
    assert attrs[A.HTTP_STATUS] == 200
    assert attrs[A.REQUEST_ID] == "req_cs_0001"  # headers of the final attempt
    assert A.ERROR_TYPE not in attrs


async def test_async_retries(traced: Telemetry, fake: FakeOpenAI) -> None:
    fake.add(fakes.error_reply(500, "server_error"), fakes.error_reply(503, "server_error"))
    await fake.async_client(max_retries=2).chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    attrs = traced.attrs()
    assert attrs[A.ATTEMPT_STATUSES] == ("500", "503", "200")
    assert attrs[A.RETRY_AFTER_MS] == (0.0, 0.0)  # backoff of the SDK's own choosing
    assert attrs[A.RETRY_WAIT_MS] > 0


def test_exhausted_retries_raise_the_original_error(traced: Telemetry, fake: FakeOpenAI) -> None:
    fake.add(*[fakes.error_reply(429, "rate_limit_exceeded", headers={"retry-after-ms": "1"})] * 3)
    with pytest.raises(openai.RateLimitError) as caught:
        _create(fake.client(max_retries=2))
    assert caught.value.code == "rate_limit_exceeded"
    attrs = traced.attrs()
    assert attrs[A.STATUS] == "error"
    assert attrs[A.ERROR_TYPE] == "RateLimitError"
    assert attrs[A.ERROR_CODE] == "rate_limit_exceeded"
    assert attrs[A.HTTP_STATUS] == 429
    assert attrs[A.ATTEMPTS] == 3
    assert attrs[A.ATTEMPT_STATUSES] == ("429", "429", "429")
    assert attrs[A.REQUEST_ID] == "req_err_429"
    assert traced.span().status.status_code.name == "ERROR"


def test_insufficient_quota_is_not_a_rate_limit(traced: Telemetry, fake: FakeOpenAI) -> None:
    fake.add(
        fakes.error_reply(
            429, "insufficient_quota", "You exceeded your current quota", {"x-should-retry": "false"}
        )
    )
    with pytest.raises(openai.RateLimitError):
        _create(fake.client())
    attrs = traced.attrs()
    assert attrs[A.ERROR_CODE] == "insufficient_quota"
    assert attrs[A.ERROR_MESSAGE] == "You exceeded your current quota"
    assert attrs[A.ATTEMPTS] == 1


def test_the_caller_gets_the_same_exception_object(traced: Telemetry, fake: FakeOpenAI) -> None:
    class Boom(Exception):
        pass

    boom = Boom("from the transport")
    fake.add(boom)
    with pytest.raises(Boom) as caught:
        _create(fake.client())
    assert caught.value is boom
    attrs = traced.attrs()
    assert attrs[A.ERROR_TYPE] == "test_the_caller_gets_the_same_exception_object.<locals>.Boom"
    assert attrs[A.ATTEMPT_STATUSES] == ("Boom",)


def test_timeouts_then_success(traced: Telemetry, fake: FakeOpenAI) -> None:
    fake.add(httpx2.ReadTimeout("slow"), httpx2.ConnectError("refused"))
    _create(fake.client(max_retries=2))
    attrs = traced.attrs()
    assert attrs[A.ATTEMPT_STATUSES] == ("timeout", "connection_error", "200")
    assert attrs[A.RETRY_AFTER_MS] == (0.0, 0.0)
    assert attrs[A.STATUS] == "ok"


def test_timeouts_exhausted(traced: Telemetry, fake: FakeOpenAI) -> None:
    fake.add(*[httpx2.ReadTimeout("slow")] * 2)
    with pytest.raises(openai.APITimeoutError):
        _create(fake.client(max_retries=1))
    attrs = traced.attrs()
    assert attrs[A.ERROR_TYPE] == "APITimeoutError"
    assert attrs[A.ATTEMPT_STATUSES] == ("timeout", "timeout")
    assert A.HTTP_STATUS not in attrs


async def test_async_connection_error(traced: Telemetry, fake: FakeOpenAI) -> None:
    fake.add(httpx2.ConnectError("refused"))
    with pytest.raises(openai.APIConnectionError):
        await fake.async_client(max_retries=0).chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    attrs = traced.attrs()
    assert attrs[A.ERROR_TYPE] == "APIConnectionError"
    assert attrs[A.ATTEMPT_STATUSES] == ("connection_error",)


def test_stream_retries(traced: Telemetry, fake: FakeOpenAI) -> None:
    fake.add(fakes.error_reply(429, "rate_limit_exceeded", headers={"retry-after-ms": "1"}))
    stream = fake.client().chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
    list(stream)
    attrs = traced.attrs()
    assert attrs[A.ATTEMPT_STATUSES] == ("429", "200")
    assert attrs[A.STATUS] == "ok"
    assert attrs[A.INPUT_TOKENS] == 12


def test_bad_request_not_retried(traced: Telemetry, fake: FakeOpenAI) -> None:
    fake.add(fakes.error_reply(400, "context_length_exceeded", "too long"))
    with pytest.raises(openai.BadRequestError):
        _create(fake.client())
    attrs = traced.attrs()
    assert attrs[A.ERROR_CODE] == "context_length_exceeded"
    assert attrs[A.ATTEMPTS] == 1
    assert attrs[A.RETRY_WAIT_MS] == 0.0
