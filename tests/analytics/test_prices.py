"""The price book against genai-prices' own arithmetic, and the user overrides file."""

from __future__ import annotations

import json
import warnings
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from callscope.analytics.errors import AnalyticsError
from callscope.analytics.prices import PRICE_COLUMNS, ModelPrice, PriceBook, load_overrides
from genai_prices import Usage, calc_price

from callscope.config import ENV_PRICES_FILE

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)  # after the batch/priority variants' start dates


@pytest.fixture
def book(monkeypatch: pytest.MonkeyPatch) -> PriceBook:
    monkeypatch.delenv(ENV_PRICES_FILE, raising=False)
    return PriceBook.default()


def test_known_prices_and_snapshot_resolution(book: PriceBook) -> None:
    mini = book.lookup("gpt-4o-mini-2024-07-18", NOW)
    assert mini is not None
    assert (mini.model, mini.provider, mini.source) == ("gpt-4o-mini", "openai", "genai-prices")
    assert (mini.input_mtok, mini.cached_input_mtok, mini.output_mtok) == (0.15, 0.075, 0.6)
    assert (mini.batch_input_mtok, mini.batch_output_mtok) == (0.075, 0.3)
    assert (mini.priority_input_mtok, mini.priority_output_mtok) == (0.25, 1.0)
    assert mini.flex_input_mtok is None  # genai-prices has no flex price for gpt-4o-mini
    assert book.lookup("GPT-4O-MINI", NOW) == mini
    # gpt-4o-2024-05-13 is a different price from gpt-4o, with no cache discount.
    old = book.lookup("gpt-4o-2024-05-13", NOW)
    assert old is not None
    assert (old.input_mtok, old.cached_input_mtok, old.output_mtok) == (5.0, None, 15.0)
    assert book.lookup("no-such-model", NOW) is None
    assert book.lookup("openai/gpt-4o", NOW) == book.lookup("gpt-4o", NOW)


def test_worked_example_from_genai_facts(book: PriceBook) -> None:
    mini = book.lookup("gpt-4o-mini", NOW)
    assert mini is not None
    assert mini.cost(2000, 1024, 500) == pytest.approx(0.0005232, abs=1e-12)
    assert mini.cost(2000, 1024, 500, batch=True) == pytest.approx(0.0003, abs=1e-12)


def test_dates_are_honoured(book: PriceBook) -> None:
    # o3's price dropped on 2025-06-10; batch variants start on 2026-10-14 in genai-prices' data.
    o3_before = book.lookup("o3", datetime(2025, 1, 1, tzinfo=UTC))
    o3_after = book.lookup("o3", NOW)
    assert o3_before is not None
    assert o3_after is not None
    assert (o3_before.input_mtok, o3_after.input_mtok) == (10.0, 2.0)
    early = book.lookup("gpt-4o", datetime(2026, 1, 1))  # naive means UTC
    assert early is not None
    assert early.batch_input_mtok is None
    assert early.cost(1000, 0, 10, batch=True) is None


def test_unknown_prices_are_none_never_zero(book: PriceBook) -> None:
    embedding = book.lookup("text-embedding-3-small", NOW)
    assert embedding is not None
    assert embedding.output_mtok is None
    assert embedding.cost(1_000_000, 0, 0) == pytest.approx(0.02)
    assert embedding.cost(10, 0, 5) is None
    # A batch variant that exists but has no prices leaves the batch price unknown.
    turbo = book.lookup("gpt-3.5-turbo-1106", NOW)
    assert turbo is not None
    assert turbo.batch_input_mtok is None


def _genai_total(price: ModelPrice, usage: dict[str, int], context: dict[str, str] | None) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = calc_price(Usage(**usage), price.model, provider_id="openai", price_context=context)
    return float(result.total_price)


USAGES = [
    {"input_tokens": 2000, "cache_read_tokens": 1024, "output_tokens": 500},
    {"input_tokens": 300_000, "cache_read_tokens": 2048, "output_tokens": 1000},  # above long-context tiers
    {"input_tokens": 5000, "cache_read_tokens": 0, "output_tokens": 0},
    {"input_tokens": 4096, "cache_read_tokens": 1024, "cache_write_tokens": 2048, "output_tokens": 7},
]


@pytest.mark.parametrize("usage", USAGES, ids=["small", "long-context", "input-only", "cache-write"])
def test_cost_matches_genai_prices_for_every_openai_model(usage: dict[str, int]) -> None:
    book = PriceBook()
    compared = 0
    for price in book.rows():  # today's prices; genai-prices' bundled data has nothing dated later
        for batch, tier, context in [
            (False, None, None),
            (True, None, {"processing": "batch"}),
            (False, "priority", {"service_tier": "priority"}),
            (False, "flex", {"service_tier": "flex"}),
        ]:
            ours = price.cost(
                usage["input_tokens"],
                usage["cache_read_tokens"],
                usage["output_tokens"],
                batch=batch,
                cache_write_tokens=usage.get("cache_write_tokens", 0),
                service_tier=tier,
            )
            if ours is None:
                continue
            try:
                theirs = _genai_total(price, usage, context)
            except (LookupError, ValueError):
                continue  # e.g. per-character models genai-prices cannot price from tokens either
            assert ours == pytest.approx(theirs, rel=1e-9, abs=1e-12), (price.model, batch, tier)
            compared += 1
    assert compared > 150


def test_rows_cover_openai_models(book: PriceBook) -> None:
    rows = book.rows()
    names = [row.model for row in rows]
    assert names == sorted(names)
    assert {"gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-4.1-mini", "o3", "text-embedding-3-small"} <= set(names)
    assert len(rows) > 100
    row = next(r for r in rows if r.model == "gpt-5.4").as_row()
    assert list(row) == [name for name, _ in PRICE_COLUMNS]
    assert row["long_context_threshold"] == 272_000
    assert row["input_mtok"] == 2.5


def test_long_context_bills_the_whole_request_at_the_higher_rate(book: PriceBook) -> None:
    price = book.lookup("gpt-5.4", NOW)
    assert price is not None
    assert price.cost(272_000, 0, 0) == pytest.approx(272_000 * 2.5 / 1e6)
    assert price.cost(300_000, 0, 1000) == pytest.approx((300_000 * 5 + 1000 * 22.5) / 1e6)


TOML = """
[models."gpt-4o"]
input = 2.0
cached_input_mtok = 1.0

[models."ft:gpt-4o-mini:acme:*"]
input = 0.3
output = 1.2
batch_input = 0.15
batch_output = 0.6

[models."my-llama"]
provider = "self-hosted"
input = 0.1
output = 0.2
"""


def test_overrides_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "prices.toml"
    path.write_text(TOML)
    monkeypatch.setenv(ENV_PRICES_FILE, str(path))
    book = PriceBook.default()  # found through $CALLSCOPE_PRICES
    assert book.source.endswith(f"+ overrides from {path}")

    negotiated = book.lookup("gpt-4o-2024-08-06", NOW)  # resolved to gpt-4o, then overridden
    assert negotiated is not None
    assert (negotiated.model, negotiated.source) == ("gpt-4o", "override")
    assert (negotiated.input_mtok, negotiated.cached_input_mtok) == (2.0, 1.0)
    assert (negotiated.output_mtok, negotiated.batch_input_mtok) == (10.0, 1.25)  # kept from genai-prices

    tuned = book.lookup("ft:gpt-4o-mini:acme::abc123", NOW)
    assert tuned is not None
    assert (tuned.model, tuned.input_mtok, tuned.batch_output_mtok) == (
        "ft:gpt-4o-mini:acme::abc123",
        0.3,
        0.6,
    )
    assert tuned.cost(1000, 0, 1000, batch=True) == pytest.approx(0.00075)

    custom = book.lookup("my-llama", NOW)
    assert custom is not None
    assert custom.provider == "self-hosted"
    assert custom.cost(10**6, 0, 10**6) == pytest.approx(0.3)
    names = {row.model: row for row in book.rows()}
    assert names["my-llama"].source == "override"
    assert names["gpt-4o"].input_mtok == 2.0
    assert "ft:gpt-4o-mini:acme:*" in names


def test_overrides_json_and_explicit_path_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_PRICES_FILE, str(tmp_path / "missing.toml"))
    path = tmp_path / "prices.json"
    path.write_text(json.dumps({"models": {"gpt-4o-mini": {"output": 0.5}}}))
    price = PriceBook.default(str(path)).lookup("gpt-4o-mini", NOW)
    assert price is not None
    assert (price.input_mtok, price.output_mtok) == (0.15, 0.5)


@pytest.mark.parametrize(
    ("text", "suffix", "message"),
    [
        ("[models.x]\ninptu = 1\n", ".toml", "unknown price 'inptu'"),
        ("[models.x]\ninput = -1\n", ".toml", "non-negative number"),
        ('[models.x]\ninput = "cheap"\n', ".toml", "non-negative number"),
        ("[prices]\n", ".toml", "needs a `models` table"),
        ("models = 3", ".toml", "needs a `models` table"),
        ("{nope", ".json", "not valid JSON"),
        ("[models", ".toml", "not valid TOML"),
        ("[models]\nx = 1\n", ".toml", "must be a table"),
    ],
)
def test_bad_overrides_file_is_a_clear_error(tmp_path: Path, text: str, suffix: str, message: str) -> None:
    path = tmp_path / f"prices{suffix}"
    path.write_text(text)
    with pytest.raises(AnalyticsError, match=message):
        load_overrides(path)


def test_missing_overrides_file(tmp_path: Path) -> None:
    with pytest.raises(AnalyticsError, match="cannot read the prices file"):
        PriceBook.default(str(tmp_path / "nope.toml"))


def test_lookups_are_cached(book: PriceBook) -> None:
    first = book.lookup("gpt-4.1-mini", NOW)
    assert book.lookup(" gpt-4.1-mini ", NOW) is first
    assert Decimal(str(first.input_mtok if first else 0)) == Decimal("0.4")


def test_totals_use_base_rates_and_unknown_tiers_fall_back(book: PriceBook) -> None:
    price = book.lookup("gpt-5.4", NOW)
    assert price is not None
    # Two requests of 150k input tokens each: neither crosses the 272k long-context threshold.
    assert price.cost_of_totals(300_000, 0, 0) == pytest.approx(300_000 * 2.5 / 1e6)
    assert price.cost(300_000, 0, 0) == pytest.approx(300_000 * 5.0 / 1e6)
    mini = book.lookup("gpt-4o-mini", NOW)
    assert mini is not None
    assert mini.cost(1000, 0, 1000, service_tier="priority") == pytest.approx(
        (1000 * 0.25 + 1000 * 1.0) / 1e6
    )
    assert mini.cost(1000, 0, 1000, service_tier="fast") == mini.cost(1000, 0, 1000, service_tier="priority")
    # No flex price for gpt-4o-mini, and "scale" is unknown: both bill at the standard rates.
    standard = mini.cost(1000, 0, 1000)
    assert mini.cost(1000, 0, 1000, service_tier="flex") == standard
    assert mini.cost(1000, 0, 1000, service_tier="scale") == standard
    assert mini.rate("input", mode="batch") == 0.075
