"""Prompt caching as the API reports it: a recent exact prefix of >= 1024 tokens, in 128-token steps."""

from __future__ import annotations

from collections.abc import Iterator

import openai
import pytest

from callscope.demo import Simulator, SimulatorConfig
from callscope.demo.tokens import get_tokenizer

O200K = get_tokenizer()
# A system prompt of a known size: each " policy" is one o200k token.
LONG_SYSTEM = "Support rules:" + " policy" * 1200
SHORT_SYSTEM = "Support rules:" + " policy" * 900


@pytest.fixture(scope="module")
def simulator() -> Iterator[Simulator]:
    """Cache entries outlive the test however slow the machine (the default TTL is 3 s at this time_scale)."""
    with Simulator(SimulatorConfig(seed=7, time_scale=0.01, prompt_cache_ttl_s=86_400)) as sim:
        yield sim


def expected_cached(shared_prefix: int) -> int:
    return 0 if shared_prefix < 1024 else 1024 + (shared_prefix - 1024) // 128 * 128


def ask(client: openai.OpenAI, system: str, question: str, model: str = "gpt-4o-mini") -> int:
    completion = client.chat.completions.create(
        model=model, messages=[{"role": "system", "content": system}, {"role": "user", "content": question}]
    )
    assert completion.usage is not None
    details = completion.usage.prompt_tokens_details
    return details.cached_tokens or 0 if details else 0


def test_second_call_with_a_long_shared_prefix_reads_the_cache(
    simulator: Simulator, client: openai.OpenAI
) -> None:
    system_tokens = 3 + 1 + O200K.count(LONG_SYSTEM)
    # Shared: the system message, then the user message's framing (start, role, separator).
    shared = system_tokens + 3
    assert ask(client, LONG_SYSTEM, "Alpha: where is my order?") == 0
    before = simulator.stats().models["gpt-4o-mini"].cache_hits
    cached = ask(client, LONG_SYSTEM, "Beta: can I get a refund?")
    assert cached == expected_cached(shared) == 1152
    assert cached % 128 == 0
    assert simulator.stats().models["gpt-4o-mini"].cache_hits == before + 1
    assert simulator.requests()[-1].cached_tokens == cached
    # The cache is per model.
    assert ask(client, LONG_SYSTEM, "Beta: can I get a refund?", model="gpt-4o") == 0


def test_below_1024_shared_tokens_nothing_is_cached(client: openai.OpenAI) -> None:
    assert 3 + 1 + O200K.count(SHORT_SYSTEM) + 3 < 1024
    assert ask(client, SHORT_SYSTEM, "Alpha") == 0
    assert ask(client, SHORT_SYSTEM, "Beta") == 0


def test_streams_and_the_responses_api_report_cached_tokens(client: openai.OpenAI) -> None:
    instructions = "Responses rules:" + " policy" * 1500
    first = client.responses.create(model="gpt-4.1", instructions=instructions, input="one")
    second = client.responses.create(model="gpt-4.1", instructions=instructions, input="two", stream=True)
    usage = next(e for e in second if e.type == "response.completed").response.usage
    assert first.usage
    assert first.usage.input_tokens_details.cached_tokens == 0
    assert usage
    assert usage.input_tokens_details.cached_tokens == expected_cached(3 + 1 + O200K.count(instructions) + 3)
