"""The simulator's building blocks on their own: tokens, text, buckets, the prompt cache."""

from __future__ import annotations

import random

import pydantic
import pytest

from callscope.demo._cache import PromptCache
from callscope.demo._limits import RateLimiter, go_duration
from callscope.demo._prompt import chat_prompt, render_tools
from callscope.demo._textgen import PieceCosts, instance, split_tokens, text_pieces
from callscope.demo.tokens import ApproximateTokenizer, get_tokenizer

O200K = get_tokenizer()


def test_o200k_is_the_real_vocabulary() -> None:
    assert O200K.exact
    # Ids as tiktoken's o200k_base gives them.
    assert O200K.encode("Hello world, how are you?") == [13225, 2375, 11, 1495, 553, 481, 30]
    assert O200K.decode([13225, 2375]) == "Hello world"


def test_approximation_round_trips_and_stays_close_to_o200k() -> None:
    approx = ApproximateTokenizer()
    text = (
        "Prompt caching reduces latency and cost for long prompts. The first request writes the cache; later "
        'ones read it.\n\n{"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}\n'
        "def add(a, b):\n    return a + b\n"
    ) * 20
    assert approx.decode(approx.encode(text)) == text
    assert approx.count(text) == len(approx.encode(text))
    assert abs(approx.count(text) / O200K.count(text) - 1) < 0.15


def test_chat_prompt_follows_the_cookbook_accounting() -> None:
    messages = [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "Hello world, how are you?", "name": "ann"},
    ]
    prompt = chat_prompt({"messages": messages}, O200K)
    expected = (3 + 1 + O200K.count("You are terse.")) + (3 + 1 + 7 + 1 + O200K.count("ann")) + 3
    assert len(prompt.tokens) == expected


def test_tools_come_after_the_system_prompt_and_before_the_conversation() -> None:
    tool = {"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}
    system = {"role": "system", "content": "Rules."}
    base = chat_prompt({"messages": [system, {"role": "user", "content": "a"}]}, O200K)
    with_tools = chat_prompt({"messages": [system, {"role": "user", "content": "a"}], "tools": [tool]}, O200K)
    system_part = 3 + 1 + O200K.count("Rules.")
    assert with_tools.tokens[:system_part] == base.tokens[:system_part]
    tools_part = 3 + 1 + O200K.count(render_tools(with_tools.tools))
    assert len(with_tools.tokens) == len(base.tokens) + tools_part
    assert "type lookup = () => any;" in render_tools(with_tools.tools)


@pytest.mark.parametrize("tokenizer", [O200K, ApproximateTokenizer()], ids=["o200k", "approximate"])
def test_generated_text_has_exactly_the_tokens_asked_for(tokenizer) -> None:
    costs = PieceCosts(tokenizer)
    for n in (1, 2, 3, 17, 128, 513):
        for finished in (True, False):
            pieces = text_pieces(n, random.Random(n), costs, finished=finished)
            assert tokenizer.count("".join(pieces)) == n
    for n in range(2, 120):  # a model that chose to stop ends its sentence
        assert "".join(text_pieces(n, random.Random(n), costs)).endswith((".", "!", "?"))


def test_split_tokens_reassembles_text_with_multibyte_characters() -> None:
    text = '{"city": "Zürich", "note": "naïve café ☕ 東京"}'
    pieces = split_tokens(text, O200K)
    assert "".join(pieces) == text
    assert len(pieces) <= O200K.count(text)


class Address(pydantic.BaseModel):
    street: str
    zip_code: int


class Person(pydantic.BaseModel):
    name: str
    age: int
    tags: list[str]
    home: Address | None
    kind: str = pydantic.Field(json_schema_extra={"enum": ["a", "b"]})


def test_schema_instances_validate_against_the_model() -> None:
    schema = Person.model_json_schema()
    for seed in range(20):
        Person.model_validate(instance(schema, random.Random(seed)))


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (0.012, "12ms"),
        (0.25, "250ms"),
        (1, "1s"),
        (8.64, "8.64s"),
        (90.5, "1m30.5s"),
        (360, "6m0s"),
    ],
)
def test_go_durations(seconds: float, text: str) -> None:
    assert go_duration(seconds) == text


def test_token_bucket_admits_until_dry_then_says_when_to_retry() -> None:
    limiter = RateLimiter(time_scale=0.5)
    verdicts = [limiter.admit("m", rpm=3, tpm=1000, tokens=10, now=100.0) for _ in range(4)]
    assert [v.allowed for v in verdicts] == [True, True, True, False]
    assert [v.remaining_requests for v in verdicts] == [2, 1, 0, 0]
    assert verdicts[0].remaining_tokens == 990
    refused = verdicts[3]
    assert refused.exhausted == "requests"
    # One request refills in 20 simulated seconds (3/min), reported in wall-clock time (x0.5), + 1 ms slack.
    assert refused.retry_after_s == pytest.approx((20 + 0.001) * 0.5)
    assert refused.headers()["x-ratelimit-reset-requests"] == "30s"  # 3 requests: 60 simulated s, x0.5
    assert limiter.admit("m", rpm=3, tpm=1000, tokens=10, now=119.9).allowed is False
    assert limiter.admit("m", rpm=3, tpm=1000, tokens=10, now=120.0).allowed is True


def test_token_bucket_counts_tokens_and_flags_requests_that_can_never_fit() -> None:
    limiter = RateLimiter(time_scale=1.0)
    assert limiter.admit("m", rpm=100, tpm=1000, tokens=900, now=0).allowed
    refused = limiter.admit("m", rpm=100, tpm=1000, tokens=200, now=0)
    assert (refused.allowed, refused.exhausted, refused.too_large) == (False, "tokens", False)
    assert refused.retry_after_s == pytest.approx(100 * 60 / 1000 + 0.001)
    huge = limiter.admit("m", rpm=100, tpm=1000, tokens=1001, now=0)
    assert (huge.allowed, huge.too_large) == (False, True)


def test_prompt_cache_reports_prefixes_in_128_token_steps() -> None:
    cache = PromptCache(ttl=300)
    shared = list(range(1300))
    assert cache.lookup_and_store("m", shared, now=0) == 0  # first sight: nothing cached
    assert cache.lookup_and_store("m", shared, now=1) == 1280  # 1024 + 2 * 128 <= 1300
    assert cache.lookup_and_store("m", [*shared[:1200], -1, -2], now=2) == 1152  # diverges at 1200
    assert cache.lookup_and_store("other", shared, now=3) == 0  # per model
    assert cache.lookup_and_store("m", list(range(1000)), now=4) == 0  # below 1024: never cached
    assert cache.lookup_and_store("m", [-5, *shared[1:]], now=5) == 0  # exact prefix match only
    assert cache.lookup_and_store("m", shared, now=301.5) == 1152  # 1152 was last used at 2: still alive
    assert cache.lookup_and_store("m", shared, now=700) == 0  # unused for more than the TTL: gone
