"""Small pure pieces: header parsing, request hashing keys, endpoint mapping."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest
from callscope.instrumentation import attributes as A
from callscope.instrumentation._headers import header_attributes, parse_duration_ms, retry_after_ms
from callscope.instrumentation._request_shape import Hasher, canonical_json, resolve_hash_key

from tests.instrumentation.conftest import Telemetry
from tests.instrumentation.fakes import FakeOpenAI


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("1s", 1000.0),
        ("6m0s", 360_000.0),
        ("1m30.5s", 90_500.0),
        ("250ms", 250.0),
        ("12ms", 12.0),
        ("1h2m3s", 3_723_000.0),
        ("0.5s", 500.0),
        ("2", 2000.0),  # bare seconds from a proxy
        ("", None),
        ("soon", None),
        ("5x", None),
    ],
)
def test_parse_duration(text: str, ms: float | None) -> None:
    assert parse_duration_ms(text) == ms


def test_header_attributes_tolerate_odd_values() -> None:
    headers = httpx2.Headers(
        {
            "X-Request-ID": "req_1",
            "x-ratelimit-remaining-requests": "-1",  # Azure
            "x-ratelimit-remaining-tokens": "n/a",
            "x-ratelimit-limit-tokens": "150000.0",
            "openai-processing-ms": "oops",
        }
    )
    out: dict[str, object] = {}
    header_attributes(headers, out)
    assert out == {
        A.REQUEST_ID: "req_1",
        A.RATELIMIT_REMAINING_REQUESTS: -1,
        A.RATELIMIT_LIMIT_TOKENS: 150000,
    }


def test_retry_after_forms() -> None:
    assert retry_after_ms(httpx2.Headers({"retry-after-ms": "250"})) == 250.0
    assert retry_after_ms(httpx2.Headers({"retry-after": "2"})) == 2000.0
    assert retry_after_ms(httpx2.Headers({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"})) == 0.0
    assert retry_after_ms(httpx2.Headers({})) is None
    assert retry_after_ms(None) is None


def test_canonical_json_ignores_key_order() -> None:
    assert canonical_json({"b": 1, "a": [{"y": 2, "x": 1}]}) == canonical_json(
        {"a": [{"x": 1, "y": 2}], "b": 1}
    )


def test_hashes_depend_on_the_key() -> None:
    body = {"model": "m", "messages": [{"role": "user", "content": "guessable"}]}
    one, two = Hasher(b"key-one"), Hasher(b"key-two")
    assert one.hash(body) == Hasher(b"key-one").hash(body)
    assert one.hash(body) != two.hash(body)


def test_hash_key_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALLSCOPE_HASH_KEY", "from-env")
    assert resolve_hash_key("explicit") == b"explicit"
    assert resolve_hash_key(None) == b"from-env"
    assert len(resolve_hash_key("k" * 100)) == 64  # long keys are condensed, not truncated
    monkeypatch.delenv("CALLSCOPE_HASH_KEY")
    random_one, random_two = resolve_hash_key(None), resolve_hash_key(None)
    assert random_one != random_two
    assert len(random_one) == 32


def test_env_key_makes_hashes_comparable_across_instrumentations(
    telemetry: Telemetry, fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    from callscope.instrumentation import OpenAIInstrumentor

    monkeypatch.setenv("CALLSCOPE_HASH_KEY", "deployment-key")
    messages: Any = [{"role": "user", "content": "same"}]
    for _ in range(2):
        OpenAIInstrumentor().instrument(tracer_provider=telemetry.tracer_provider)
        fake.client().chat.completions.create(model="gpt-4o-mini", messages=messages)
        OpenAIInstrumentor().uninstrument()
    hashes = [dict[str, Any](s.attributes or {})[A.REQUEST_HASH] for s in telemetry.spans()]
    assert hashes[0] == hashes[1]
    assert hashes[0] == Hasher(b"deployment-key").hash({"model": "gpt-4o-mini", "messages": messages})
