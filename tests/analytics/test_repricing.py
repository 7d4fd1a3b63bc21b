"""Re-pricing history with today's price book, and what-if prices (another model, the Batch API)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from callscope.analytics import Analytics, UnknownQuery, connect

from tests.analytics.builders import at, call, write_calls
from tests.analytics.known import MINI, UNPRICED, WINDOW

OVERRIDES = """
[models."acme-ft"]
input = 1.0
cached_input = 0.5
output = 2.0
batch_input = 0.5
batch_output = 1.0
"""

LONG = [  # gpt-5.5 bills the whole request at higher rates above 272k input tokens
    call(
        start_time=at(6),
        request_model="gpt-5.5",
        input_tokens=100_000,
        output_tokens=1000,
        cached_input_tokens=0,
    ),
    call(
        start_time=at(6.1),
        request_model="gpt-5.5",
        input_tokens=300_000,
        output_tokens=1000,
        cached_input_tokens=10_000,
    ),
]
TIERED = [  # the service tier the call ran on
    call(
        start_time=at(7),
        request_model="gpt-5-mini",
        response_model="gpt-5-mini-2025-08-07",
        response_service_tier="flex",
        input_tokens=10_000,
        output_tokens=2000,
    ),
    call(
        start_time=at(7.1),
        request_model="gpt-5-mini",
        response_service_tier="default",
        input_tokens=10_000,
        output_tokens=2000,
    ),
]


@pytest.fixture(scope="module")
def analytics(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Analytics]:
    root = tmp_path_factory.mktemp("reprice")
    write_calls(root / "data", [*MINI, *UNPRICED, *LONG, *TIERED])
    prices = root / "prices.toml"
    prices.write_text(OVERRIDES)
    with connect(str(root / "data"), prices_path=str(prices)) as opened:
        yield opened


def _mini_cost(rates: tuple[float, float, float]) -> float:
    input_rate, cached_rate, output_rate = rates
    return float(
        sum(
            (
                (row["input_tokens"] - row["cached_input_tokens"]) * input_rate
                + row["cached_input_tokens"] * cached_rate
                + row["output_tokens"] * output_rate
            )
            / 1e6
            for row in MINI
        )
    )


def test_reprice_prices_unknown_models_from_the_overrides(analytics: Analytics) -> None:
    rows = {row["key"]: row for row in analytics.run_query("reprice", WINDOW).rows()}
    acme = rows["acme-ft"]
    assert acme["recorded_cost_usd"] == 0  # genai-prices did not know it when it was called
    assert acme["unpriced_recorded_calls"] == 1
    assert acme["repriced_cost_usd"] == pytest.approx((300 * 1.0 + 30 * 2.0) / 1e6)
    assert acme["unpriced_calls"] == 0
    assert acme["price_sources"] == ["override"]


def test_reprice_resolves_snapshots_to_the_book(analytics: Analytics) -> None:
    book = analytics.prices.lookup("gpt-4o-mini")
    assert book is not None
    rows = {row["key"]: row for row in analytics.run_query("reprice", WINDOW).rows()}
    mini = rows["gpt-4o-mini"]
    assert mini["price_models"] == ["gpt-4o-mini"]
    expected = _mini_cost((book.input_mtok, book.cached_input_mtok, book.output_mtok))  # type: ignore[arg-type]
    assert mini["repriced_cost_usd"] == pytest.approx(expected, rel=1e-12)
    assert mini["recorded_cost_usd"] == pytest.approx(0.15)
    assert mini["change_usd"] == pytest.approx(expected - 0.15)
    resolved = {row["model_name"]: row for row in analytics.run_query("model_prices", WINDOW).rows()}
    assert resolved["gpt-4o-mini-2024-07-18"]["price_model"] == "gpt-4o-mini"
    assert resolved["gpt-4o-mini-2024-07-18"]["input_mtok"] == book.input_mtok


def test_sql_pricing_agrees_with_the_price_book(analytics: Analytics) -> None:
    """Every call priced in SQL (tiers, service tiers, cache) costs what ModelPrice.cost() says."""
    analytics.ensure_prices()
    rows = analytics.sql(
        "SELECT request_model, response_model, input_tokens, cached_input_tokens, output_tokens, "
        "response_service_tier, priced_usd FROM priced_calls('none', 'as_called')"
    ).rows()
    assert len(rows) == 10
    for row in rows:
        price = analytics.prices.lookup(row["response_model"] or row["request_model"])
        assert price is not None
        tier = row["response_service_tier"] if row["response_service_tier"] in ("flex", "priority") else None
        expected = price.cost(
            row["input_tokens"], row["cached_input_tokens"] or 0, row["output_tokens"], service_tier=tier
        )
        assert row["priced_usd"] == pytest.approx(expected, rel=1e-12), row


def test_long_context_and_service_tiers_are_priced(analytics: Analytics) -> None:
    rows = {
        row["input_tokens"]: row["priced_usd"]
        for row in analytics.sql(
            "SELECT input_tokens, priced_usd FROM priced_calls('none', 'as_called') "
            "WHERE request_model = 'gpt-5.5'"
        ).rows()
    }
    price = analytics.prices.lookup("gpt-5.5")
    assert price is not None
    assert price.long_context_threshold is not None
    # Above the threshold the whole request costs more per token, not just the tokens above it.
    assert rows[300_000] / 300_000 > rows[100_000] / 100_000
    flex, default = analytics.sql(
        "SELECT priced_usd FROM priced_calls('none', 'as_called') WHERE request_model = 'gpt-5-mini' "
        "ORDER BY start_time"
    ).rows()
    assert flex["priced_usd"] < default["priced_usd"]


def test_whatif_model(analytics: Analytics) -> None:
    rows = {row["key"]: row for row in analytics.run_query("whatif_model", WINDOW, target="acme-ft").rows()}
    book = analytics.prices.lookup("gpt-4o-mini")
    assert book is not None
    mini = rows["gpt-4o-mini"]
    assert mini["target_model"] == "acme-ft"
    assert mini["target_cost_usd"] == pytest.approx(_mini_cost((1.0, 0.5, 2.0)))
    current = _mini_cost((book.input_mtok, book.cached_input_mtok, book.output_mtok))  # type: ignore[arg-type]
    assert mini["current_cost_usd"] == pytest.approx(current)
    assert mini["saving_usd"] == pytest.approx(current - _mini_cost((1.0, 0.5, 2.0)))
    with pytest.raises(UnknownQuery, match="no price known for the model 'no-such-model'"):
        analytics.run_query("whatif_model", target="no-such-model")


def test_whatif_batch(analytics: Analytics) -> None:
    rows = {row["key"]: row for row in analytics.run_query("whatif_batch", WINDOW, by="model").rows()}
    acme = rows["acme-ft"]
    assert acme["standard_cost_usd"] == pytest.approx(360 / 1e6)
    assert acme["batch_cost_usd"] == pytest.approx((300 * 0.5 + 30 * 1.0) / 1e6)
    assert acme["saving_usd"] == pytest.approx(180 / 1e6)
    assert acme["non_streamed_saving_usd"] == pytest.approx(180 / 1e6)
    mini = rows["gpt-4o-mini"]
    assert mini["batch_cost_usd"] < mini["standard_cost_usd"]


def test_prices_table(analytics: Analytics) -> None:
    rows = {row["model"]: row for row in analytics.run_query("prices").rows()}
    assert rows["acme-ft"]["source"] == "override"
    assert rows["acme-ft"]["batch_input_mtok"] == 0.5
    assert rows["gpt-4o-mini"]["source"] == "genai-prices"
    assert len(rows) > 50


def test_a_bad_prices_file_is_a_clear_error(tmp_path: Path) -> None:
    from callscope.analytics import AnalyticsError

    bad = tmp_path / "prices.toml"
    bad.write_text("[models.x]\ninput = 'cheap'\n")
    with (
        connect(str(tmp_path), prices_path=str(bad)) as analytics,
        pytest.raises(AnalyticsError, match="non-negative"),
    ):
        analytics.run_query("prices")
