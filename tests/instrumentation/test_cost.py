"""Cost: genai-prices' own answer, at the request's time and tier, fast enough for every call."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from callscope.instrumentation import attributes as A
from callscope.instrumentation.pricing import PriceBook
from genai_prices import Usage, calc_price
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.instrumentation import fakes
from tests.instrumentation.conftest import Telemetry
from tests.instrumentation.fakes import FakeOpenAI

NOW_NS = time.time_ns()
BOOK = PriceBook()


def test_known_usage_exact() -> None:
    cost = BOOK.cost(
        "gpt-4o-mini",
        "openai",
        service_tier=None,
        when_ns=NOW_NS,
        input_tokens=2000,
        cached_tokens=1024,
        cache_write_tokens=0,
        output_tokens=500,
    )
    assert cost is not None
    # (976 x 0.15 + 1024 x 0.075) / 1e6 + 500 x 0.60 / 1e6
    assert cost.total == 0.0005232
    assert cost.input == 0.0002232
    assert cost.output == 0.0003
    assert (cost.model_id, cost.provider_id) == ("gpt-4o-mini", "openai")


def test_unknown_model_is_none_not_zero() -> None:
    assert (
        BOOK.cost(
            "definitely-not-a-model",
            "openai",
            service_tier=None,
            when_ns=NOW_NS,
            input_tokens=10,
            cached_tokens=0,
            cache_write_tokens=0,
            output_tokens=10,
        )
        is None
    )
    assert (
        BOOK.cost(
            "definitely-not-a-model",
            "azure",
            service_tier=None,
            when_ns=NOW_NS,
            input_tokens=10,
            cached_tokens=0,
            cache_write_tokens=0,
            output_tokens=10,
        )
        is None
    )


def test_tiered_model_crosses_the_cliff() -> None:
    below = BOOK.cost(
        "gpt-5.5",
        "openai",
        service_tier=None,
        when_ns=NOW_NS,
        input_tokens=272_000,
        cached_tokens=0,
        cache_write_tokens=0,
        output_tokens=0,
    )
    above = BOOK.cost(
        "gpt-5.5",
        "openai",
        service_tier=None,
        when_ns=NOW_NS,
        input_tokens=300_000,
        cached_tokens=0,
        cache_write_tokens=0,
        output_tokens=0,
    )
    assert below is not None
    assert above is not None
    assert above.total == 3.0  # the whole request at the higher rate ($10/M)
    assert below.total == pytest.approx(272_000 * 5 / 1e6)


MODELS = [
    ("gpt-4o-mini", "openai"),
    ("gpt-4o", "openai"),
    ("gpt-4o-2024-05-13", "openai"),
    ("gpt-5.5", "openai"),
    ("o3", "openai"),
    ("text-embedding-3-small", "openai"),
    ("gpt-4o-mini", "azure"),
    ("deepseek-chat", "deepseek"),
    ("sonar", "perplexity"),
]


@settings(max_examples=300, deadline=None)
@given(
    model=st.sampled_from(MODELS),
    tier=st.sampled_from([None, "default", "priority", "flex", "scale"]),
    inp=st.one_of(st.integers(0, 5000), st.integers(250_000, 400_000)),
    cached_share=st.floats(0, 1),
    out=st.integers(0, 20_000),
    days_ago=st.sampled_from([0, 60, 400]),
)
def test_same_answer_as_genai_prices(
    *, model: tuple[str, str], tier: str | None, inp: int, cached_share: float, out: int, days_ago: int
) -> None:
    cached = int(inp * cached_share)
    when_ns = NOW_NS - days_ago * 86_400 * 10**9
    ours = BOOK.cost(
        model[0],
        model[1],
        service_tier=tier,
        when_ns=when_ns,
        input_tokens=inp,
        cached_tokens=cached,
        output_tokens=out,
    )
    theirs = calc_price(
        Usage(input_tokens=inp, cache_read_tokens=cached, output_tokens=out),
        model[0],
        provider_id=model[1],
        genai_request_timestamp=datetime.fromtimestamp(when_ns / 1e9, tz=UTC),
        price_context={"service_tier": tier} if tier else None,
    )
    assert ours is not None
    assert Decimal(repr(ours.total)) == pytest.approx(
        theirs.total_price, rel=Decimal("1e-12"), abs=Decimal("1e-15")
    )
    assert ours.input == pytest.approx(float(theirs.input_price), rel=1e-12, abs=1e-15)
    assert ours.output == pytest.approx(float(theirs.output_price), rel=1e-12, abs=1e-15)


def test_service_tier_from_the_response_prices_the_call(traced: Telemetry, fake: FakeOpenAI) -> None:
    fake.add(fakes.json_reply(fakes.chat_completion(service_tier="priority")))
    fake.client().chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}], service_tier="priority"
    )
    attrs = traced.attrs()
    expected = calc_price(
        Usage(input_tokens=2000, cache_read_tokens=1024, output_tokens=500),
        "gpt-4o-mini",
        provider_id="openai",
        genai_request_timestamp=datetime.fromtimestamp((traced.span().start_time or 0) / 1e9, tz=UTC),
        price_context={"service_tier": "priority"},
    ).total_price
    assert attrs[A.RESPONSE_SERVICE_TIER] == "priority"
    assert attrs[A.COST_USD] == pytest.approx(float(expected), rel=1e-12)
