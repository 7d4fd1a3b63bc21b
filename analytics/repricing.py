"""The price tables DuckDB re-prices history with: ``prices`` and ``_model_prices``.

``prices`` is the price book as users see it (:meth:`PriceBook.rows`). ``_model_prices``
is what the ``priced_calls`` macro joins: for every model *name* in the calls (a dated
snapshot such as ``gpt-4o-mini-2024-07-18`` resolves to ``gpt-4o-mini``), for each way
of processing a request (``standard``, ``batch``, ``flex``, ``priority``), one row per
long-context tier: the rates that apply to a call whose input is in
``(above_input_tokens, up_to_input_tokens]``. A tier crossed bills the whole request at
its rates, which is how genai-prices prices long contexts.

When the book has no Batch price for a model, the Batch API's published 50 % discount
is applied to the standard rates (``source`` says so); flex falls back to the batch
rates and priority to the standard ones likewise.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

from callscope.analytics.prices import PRICE_COLUMNS, ModelPrice, PriceBook

__all__ = [
    "MODEL_PRICE_COLUMNS",
    "MODES",
    "PRICE_COLUMNS",
    "model_price_rows",
    "model_prices_rows",
    "prices_rows",
]

MODES: Final = ("standard", "batch", "flex", "priority")
_KINDS: Final = ("input", "cached_input", "cache_write", "output")
#: The upper bound of the last tier (no upper bound).
NO_LIMIT: Final = 2**63 - 1
BATCH_DISCOUNT: Final = 0.5

MODEL_PRICE_COLUMNS: Final[tuple[tuple[str, str], ...]] = (
    ("model", "VARCHAR"),
    ("mode", "VARCHAR"),
    ("above_input_tokens", "BIGINT"),
    ("up_to_input_tokens", "BIGINT"),
    ("price_model", "VARCHAR"),
    ("provider", "VARCHAR"),
    ("input_mtok", "DOUBLE"),
    ("cached_input_mtok", "DOUBLE"),
    ("cache_write_mtok", "DOUBLE"),
    ("output_mtok", "DOUBLE"),
    ("source", "VARCHAR"),
)


Rows = list[tuple[Any, ...]]


def prices_rows(book: PriceBook) -> Rows:
    """The ``prices`` table (columns :data:`PRICE_COLUMNS`): today's price book, one row per model."""
    names = [name for name, _ in PRICE_COLUMNS]
    return [tuple(price.as_row()[name] for name in names) for price in book.rows()]


def model_prices_rows(book: PriceBook, names: Iterable[str]) -> Rows:
    """The ``_model_prices`` table (columns :data:`MODEL_PRICE_COLUMNS`) for these model names.

    Models without a known price get no rows, so a join leaves their cost NULL.
    """
    columns = [name for name, _ in MODEL_PRICE_COLUMNS]
    return [
        tuple(row[column] for column in columns)
        for name in sorted(set(names))
        for row in model_price_rows(name, book.lookup(name))
    ]


def model_price_rows(name: str, price: ModelPrice | None) -> list[dict[str, Any]]:
    """The ``_model_prices`` rows of one model name: each mode, each long-context tier."""
    if price is None or price.input_mtok is None:
        return []
    starts = sorted({start for _, start, _ in price.long_context})
    bounds = list(zip([-1, *starts], [*starts, NO_LIMIT], strict=True))
    rows = []
    for mode in MODES:
        for above, up_to in bounds:
            rates, source = _rates(price, mode, above + 1)
            rows.append(
                {
                    "model": name,
                    "mode": mode,
                    "above_input_tokens": above,
                    "up_to_input_tokens": up_to,
                    "price_model": price.model,
                    "provider": price.provider,
                    **{f"{kind}_mtok": rate for kind, rate in rates.items()},
                    "source": source,
                }
            )
    return rows


def _rates(price: ModelPrice, mode: str, input_tokens: int) -> tuple[dict[str, float | None], str]:
    """The rates of ``mode`` for a request of ``input_tokens``, falling back as the module says."""

    def rates_of(of_mode: Any) -> dict[str, float | None]:
        return {kind: price.rate(kind, mode=of_mode, input_tokens=input_tokens) for kind in _KINDS}

    rates = rates_of(mode)
    if rates["input"] is not None:
        return rates, price.source
    if mode == "priority":
        return rates_of("standard"), f"{price.source} (no priority price: standard)"
    if mode == "flex":
        batch = rates_of("batch")
        if batch["input"] is not None:
            return batch, f"{price.source} (no flex price: batch)"
    standard = rates_of("standard")
    halved = {
        kind: None if rate is None else rate * BATCH_DISCOUNT
        for kind, rate in standard.items()
        if kind != "cached_input"
    }
    # The Batch API publishes no cached-input rate: cached input keeps the standard cached rate.
    halved["cached_input"] = standard["cached_input"]
    return halved, f"{price.source} (no {mode} price: standard -50%)"
