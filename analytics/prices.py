"""The price book: USD per million tokens for every OpenAI model, plus the user's own prices.

Prices come from genai-prices' bundled data (offline; or the snapshot installed by its
opt-in ``UpdatePrices``), resolved the way genai-prices resolves them: a dated snapshot
such as ``gpt-4o-mini-2024-07-18`` maps to ``gpt-4o-mini``, a price change on a date
applies from that date, and the Batch API / flex / priority variants apply from the
date genai-prices' data gives them. A user overrides file adds negotiated prices or
prices for fine-tuned and custom models (see :func:`load_overrides`).

Prices are floats in USD per 1M tokens, ``None`` when unknown: an unknown price never
becomes zero. :meth:`ModelPrice.cost` reproduces genai-prices' arithmetic, including
long-context tiers where crossing a threshold bills the *whole* request at the higher rate.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import json
import os
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal

from callscope.analytics.errors import AnalyticsError

from callscope.config import ENV_PRICES_FILE

if TYPE_CHECKING:
    from genai_prices.data_snapshot import DataSnapshot
    from genai_prices.types import ModelInfo, Provider

__all__ = ["PRICE_COLUMNS", "ModelPrice", "PriceBook", "load_overrides", "pricing_mode"]

Mode = Literal["standard", "batch", "flex", "priority"]

#: genai-prices' ``price_context`` for each non-standard way of processing a request.
_MODE_CONTEXTS: Final[dict[str, dict[str, str]]] = {
    "batch": {"processing": "batch"},
    "flex": {"service_tier": "flex"},
    "priority": {"service_tier": "priority"},
}
#: Our price kinds and genai-prices' price keys for them.
_KINDS: Final[dict[str, str]] = {
    "input": "input_mtok",
    "cached_input": "cache_read_mtok",
    "output": "output_mtok",
    "cache_write": "cache_write_mtok",
}
_PREFIXES: Final[dict[str, str]] = {
    "standard": "",
    "batch": "batch_",
    "flex": "flex_",
    "priority": "priority_",
}

#: Every price column of :class:`ModelPrice`: ``input_mtok``, ``batch_input_mtok``, ...
_PRICE_FIELDS: Final[tuple[str, ...]] = tuple(
    f"{prefix}{kind}_mtok" for prefix in _PREFIXES.values() for kind in _KINDS
)

#: The columns of :meth:`ModelPrice.as_row` with their DuckDB types (for the ``prices`` view).
PRICE_COLUMNS: Final[tuple[tuple[str, str], ...]] = (
    ("model", "VARCHAR"),
    ("provider", "VARCHAR"),
    *((name, "DOUBLE") for name in _PRICE_FIELDS),
    ("long_context_threshold", "BIGINT"),
    ("source", "VARCHAR"),
)

GENAI_PRICES: Final = "genai-prices"
OVERRIDE: Final = "override"
_PROVIDER: Final = "openai"


@dataclass(frozen=True, kw_only=True)
class ModelPrice:
    """One model's prices in USD per 1M tokens; ``None`` means unknown (never zero).

    ``cached_input`` is the prompt-cache read rate, ``cache_write`` the cache write rate
    of models that bill writes. The ``batch_``, ``flex_`` and ``priority_`` columns are the
    Batch API and service-tier prices; a tier's cached rate falls back to the standard
    cached rate when the tier publishes none (genai-prices' rule). When
    ``long_context_threshold`` is set, a request with more input tokens than that is
    billed entirely at higher rates, which :meth:`cost` applies; the columns hold the base rates.
    """

    model: str
    provider: str = _PROVIDER
    input_mtok: float | None = None
    cached_input_mtok: float | None = None
    output_mtok: float | None = None
    cache_write_mtok: float | None = None
    batch_input_mtok: float | None = None
    batch_cached_input_mtok: float | None = None
    batch_output_mtok: float | None = None
    batch_cache_write_mtok: float | None = None
    flex_input_mtok: float | None = None
    flex_cached_input_mtok: float | None = None
    flex_output_mtok: float | None = None
    flex_cache_write_mtok: float | None = None
    priority_input_mtok: float | None = None
    priority_cached_input_mtok: float | None = None
    priority_output_mtok: float | None = None
    priority_cache_write_mtok: float | None = None
    source: str = GENAI_PRICES
    #: ``(column, start, price)``: above ``start`` input tokens, ``column`` costs ``price``.
    long_context: tuple[tuple[str, int, float], ...] = field(default=(), repr=False)

    @property
    def long_context_threshold(self) -> int | None:
        """Input tokens above which the long-context rates apply, if the model has them."""
        return min((start for _, start, _ in self.long_context), default=None)

    def rate(self, kind: str, *, mode: Mode = "standard", input_tokens: float = 0) -> float | None:
        """The price per 1M tokens of ``kind`` (``input``, ``cached_input``, ``output``,
        ``cache_write``) for a request of ``input_tokens`` processed in ``mode``."""
        column = f"{_PREFIXES[mode]}{kind}_mtok"
        price: float | None = getattr(self, column)
        best_start = -1
        for tier_column, start, tier_price in self.long_context:
            if tier_column == column and input_tokens > start > best_start:
                price, best_start = tier_price, start
        return price

    def cost(
        self,
        input_tokens: float,
        cached_input_tokens: float = 0,
        output_tokens: float = 0,
        *,
        batch: bool = False,
        cache_write_tokens: float = 0,
        service_tier: str | None = None,
    ) -> float | None:
        """USD for one request, or ``None`` when a needed price is unknown.

        ``input_tokens`` includes the cached and cache-write tokens (as the API bills
        them). Cached tokens without a cached rate, and cache writes without a write
        rate, cost the input rate. ``batch`` prices the request on the Batch API;
        ``service_tier`` (``flex``, ``priority``/``fast``) on that tier, or at the standard
        rates when the book has no price for that tier.
        """
        tokens = (input_tokens, cached_input_tokens, output_tokens, cache_write_tokens)
        return self._cost(tokens, batch=batch, service_tier=service_tier, request_input_tokens=input_tokens)

    def cost_of_totals(
        self,
        input_tokens: float,
        cached_input_tokens: float = 0,
        output_tokens: float = 0,
        *,
        batch: bool = False,
        cache_write_tokens: float = 0,
        service_tier: str | None = None,
    ) -> float | None:
        """:meth:`cost` of token totals summed over many requests, at the base rates.

        Long-context rates depend on each request's size, which a total no longer tells,
        so they are not applied here.
        """
        tokens = (input_tokens, cached_input_tokens, output_tokens, cache_write_tokens)
        return self._cost(tokens, batch=batch, service_tier=service_tier, request_input_tokens=0)

    def _cost(
        self,
        tokens: tuple[float, float, float, float],
        *,
        batch: bool,
        service_tier: str | None,
        request_input_tokens: float,
    ) -> float | None:
        input_tokens, cached_input_tokens, output_tokens, cache_write_tokens = tokens
        mode = pricing_mode(batch, service_tier)
        if mode not in ("standard", "batch") and getattr(self, f"{_PREFIXES[mode]}input_mtok") is None:
            mode = "standard"  # a tier the book has no price for: bill it at the standard rates

        def rate(kind: str) -> float | None:
            return self.rate(kind, mode=mode, input_tokens=request_input_tokens)

        input_rate, output_rate = rate("input"), rate("output")
        if input_rate is None or (output_tokens > 0 and output_rate is None):
            return None
        cached = min(max(cached_input_tokens, 0), input_tokens)
        written = min(max(cache_write_tokens, 0), input_tokens - cached)
        cached_rate, write_rate = rate("cached_input"), rate("cache_write")
        total = (
            (input_tokens - cached - written) * input_rate
            + cached * (input_rate if cached_rate is None else cached_rate)
            + written * (input_rate if write_rate is None else write_rate)
            + output_tokens * (output_rate or 0.0)
        )
        return total / 1_000_000

    def as_row(self) -> dict[str, Any]:
        """A flat row with the :data:`PRICE_COLUMNS`, for the ``prices`` view."""
        row: dict[str, Any] = {"model": self.model, "provider": self.provider}
        row.update({name: getattr(self, name) for name in _PRICE_FIELDS})
        row["long_context_threshold"] = self.long_context_threshold
        row["source"] = self.source
        return row

    def per_mtok(self) -> dict[str, float]:
        """The known prices (USD per 1M tokens) by column, for a suggestion's arithmetic."""
        return {name: value for name in _PRICE_FIELDS if (value := getattr(self, name)) is not None}


def pricing_mode(batch: bool, service_tier: str | None) -> Mode:
    """Which of a model's price sets a request uses: the Batch API, or its service tier."""
    if batch:
        return "batch"
    tier = (service_tier or "").lower()
    if tier in ("priority", "fast"):
        return "priority"
    if tier == "flex":
        return "flex"
    return "standard"


class PriceBook:
    """Resolves a model name to its :class:`ModelPrice`: user overrides first, then genai-prices.

    Lookups are cached per model name and UTC day (genai-prices' price changes are by date).
    """

    def __init__(
        self,
        overrides: Mapping[str, Mapping[str, Any]] | None = None,
        *,
        overrides_source: str | None = None,
        snapshot: DataSnapshot | None = None,
    ) -> None:
        self._overrides = _parse_overrides(overrides or {}, overrides_source or "overrides")
        self._overrides_source = overrides_source
        self._snapshot = snapshot
        self._cache: dict[tuple[str, date], ModelPrice | None] = {}
        self._rows: list[ModelPrice] | None = None

    @classmethod
    def default(cls, overrides_path: str | None = None) -> PriceBook:
        """genai-prices' data plus the overrides file at ``overrides_path``, else ``$CALLSCOPE_PRICES``."""
        path = overrides_path or os.environ.get(ENV_PRICES_FILE) or None
        if path is None:
            return cls()
        return cls(load_overrides(path), overrides_source=str(path))

    @property
    def source(self) -> str:
        """Where the prices come from, in words (shown next to every suggestion's arithmetic)."""
        import genai_prices

        snapshot = self._genai_snapshot()
        data = "auto-updated data" if snapshot.from_auto_update else "bundled data"
        text = f"{GENAI_PRICES} {genai_prices.__version__} ({data})"
        if self._overrides_source:
            text += f" + overrides from {self._overrides_source}"
        elif self._overrides:
            text += " + overrides"
        return text

    def lookup(self, model: str, at: datetime | None = None) -> ModelPrice | None:
        """Prices of ``model`` (a name as requested or answered) at ``at`` (default: now), or ``None``."""
        moment = _utc(at)
        key = (model.strip().lower(), moment.date())
        if key not in self._cache:
            self._cache[key] = self._resolve(key[0], moment)
        return self._cache[key]

    def rows(self) -> list[ModelPrice]:
        """Today's prices: one row per OpenAI model genai-prices knows, plus each override."""
        if self._rows is None:
            now = _utc(None)
            by_name: dict[str, ModelPrice] = {}
            for info in self._openai().models:
                by_name[info.id] = self._with_override(info.id, _from_model_info(info, now))
            for name, fields in self._overrides.items():
                if name not in by_name:
                    by_name[name] = self._resolve(name, now) or _override_only(name, fields)
            self._rows = [by_name[name] for name in sorted(by_name)]
        return list(self._rows)

    def _resolve(self, name: str, moment: datetime) -> ModelPrice | None:
        base = self._genai_price(name, moment)
        if name in self._overrides:
            return _merge(name, base, self._overrides[name])
        for pattern, fields in self._overrides.items():
            if _is_pattern(pattern) and fnmatch.fnmatchcase(name, pattern):
                return _merge(name, base, fields)
        return None if base is None else self._with_override(base.model, base)

    def _with_override(self, model_id: str, price: ModelPrice) -> ModelPrice:
        fields = self._overrides.get(model_id)
        return price if fields is None else _merge(model_id, price, fields)

    def _genai_price(self, name: str, moment: datetime) -> ModelPrice | None:
        ref = name.removeprefix("openai/")
        info = self._openai().find_model(ref, all_providers=self._genai_snapshot().providers)
        return None if info is None else _from_model_info(info, moment)

    def _genai_snapshot(self) -> DataSnapshot:
        from genai_prices.data_snapshot import get_snapshot

        return self._snapshot or get_snapshot()

    def _openai(self) -> Provider:
        return self._genai_snapshot().find_provider(None, _PROVIDER, None)


def _utc(at: datetime | None) -> datetime:
    if at is None:
        return datetime.now(UTC)
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _from_model_info(info: ModelInfo, moment: datetime) -> ModelPrice:
    standard = _price_keys(info.get_prices(moment).__dict__)
    values: dict[str, Any] = {}
    tiers: list[tuple[str, int, float]] = []
    _put(values, tiers, "", standard)
    for mode, context in _MODE_CONTEXTS.items():
        variant = _variant_prices(info, context, moment)
        if variant.get("input_mtok") is None:
            continue  # no price for this tier (or not yet at ``moment``): leave it unknown
        _put(values, tiers, _PREFIXES[mode], {**standard, **variant})
    return ModelPrice(model=info.id, **values, long_context=tuple(tiers))


def _price_keys(prices: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in prices.items() if key in _KINDS.values() and value is not None}


def _variant_prices(info: ModelInfo, context: Mapping[str, str], moment: datetime) -> dict[str, Any]:
    """genai-prices' variant resolution, without falling back to the standard prices."""
    found: dict[str, Any] = {}
    for variant in info.price_variants or ():
        if variant.constraint is not None and not variant.constraint.active(moment):
            continue
        if all(context.get(key) == value for key, value in variant.when.items()):
            for key, value in _price_keys(variant.prices.__dict__).items():
                found.setdefault(key, value)
    return found


def _put(
    values: dict[str, Any],
    tiers: list[tuple[str, int, float]],
    prefix: str,
    prices: Mapping[str, Any],
) -> None:
    from genai_prices.types import TieredPrices

    for kind, genai_key in _KINDS.items():
        column = f"{prefix}{kind}_mtok"
        price = prices.get(genai_key)
        if isinstance(price, TieredPrices):
            values[column] = float(price.base)
            tiers.extend((column, tier.start, float(tier.price)) for tier in price.tiers)
        elif isinstance(price, Decimal):
            values[column] = float(price)


def _merge(name: str, base: ModelPrice | None, fields: Mapping[str, Any]) -> ModelPrice:
    """``base`` (genai-prices' row, if any) with the user's prices on top."""
    if base is None:
        return _override_only(name, fields)
    kept_tiers = tuple(tier for tier in base.long_context if tier[0] not in fields)
    merged = dataclasses.replace(base, model=name, **fields, source=OVERRIDE, long_context=kept_tiers)
    return _fill_tier_cached_rates(merged, fields)


def _override_only(name: str, fields: Mapping[str, Any]) -> ModelPrice:
    return _fill_tier_cached_rates(ModelPrice(model=name, source=OVERRIDE, **fields), fields)


def _fill_tier_cached_rates(price: ModelPrice, fields: Mapping[str, Any]) -> ModelPrice:
    """A tier the user priced without a cached rate keeps the standard cached rate (genai-prices' rule)."""
    filled: dict[str, Any] = {}
    for prefix in ("batch_", "flex_", "priority_"):
        if f"{prefix}input_mtok" in fields and f"{prefix}cached_input_mtok" not in fields:
            filled[f"{prefix}cached_input_mtok"] = price.cached_input_mtok
    return dataclasses.replace(price, **filled) if filled else price


def _is_pattern(name: str) -> bool:
    return any(char in name for char in "*?[")


# --- the overrides file -------------------------------------------------------------------------

_OVERRIDE_KEYS: Final[frozenset[str]] = frozenset(_PRICE_FIELDS)


def load_overrides(path: str | os.PathLike[str]) -> dict[str, dict[str, Any]]:
    """Read a prices overrides file (TOML or JSON) into ``{model: {column: price}}``.

    The file has one table per model (exact name, or a glob like ``ft:gpt-4o-mini:acme:*``)
    under ``models``, with prices in USD per 1M tokens::

        [models."gpt-4o"]              # a negotiated price: replaces only what is given
        input = 2.00
        cached_input = 1.00
        output = 8.00

        [models."ft:gpt-4o-mini:acme:*"]
        input = 0.30
        output = 1.20
        batch_input = 0.15
        batch_output = 0.60

    Keys: ``input``, ``cached_input``, ``output``, ``cache_write``, and each of these with a
    ``batch_``, ``flex_`` or ``priority_`` prefix; an ``_mtok`` suffix is accepted; ``provider``.
    """
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as err:
        raise AnalyticsError(f"cannot read the prices file {file}: {err.strerror or err}") from err
    is_json = file.suffix.lower() == ".json"
    try:
        data: Any = json.loads(text) if is_json else tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as err:
        raise AnalyticsError(
            f"the prices file {file} is not valid {'JSON' if is_json else 'TOML'}: {err}"
        ) from err
    if not isinstance(data, dict) or not isinstance(data.get("models"), dict):
        raise AnalyticsError(
            f'the prices file {file} needs a `models` table: [models."gpt-4o"] input = 2.5 ...'
        )
    return _parse_overrides(data["models"], str(file))


def _parse_overrides(models: Mapping[str, Any], where: str) -> dict[str, dict[str, Any]]:
    parsed: dict[str, dict[str, Any]] = {}
    for name, entry in models.items():
        if not isinstance(entry, Mapping):
            raise AnalyticsError(f"{where}: the prices of {name!r} must be a table of numbers")
        parsed[str(name).strip().lower()] = dict(_parse_entry(str(name), entry, where))
    return parsed


def _parse_entry(name: str, entry: Mapping[str, Any], where: str) -> Iterable[tuple[str, Any]]:
    for key, value in entry.items():
        if key == "provider":
            yield "provider", str(value)
            continue
        column = key if key.endswith("_mtok") else f"{key}_mtok"
        if column not in _OVERRIDE_KEYS:
            known = ", ".join(sorted(k.removesuffix("_mtok") for k in _OVERRIDE_KEYS))
            raise AnalyticsError(f"{where}: unknown price {key!r} for {name!r}; known: {known}, provider")
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise AnalyticsError(f"{where}: {name!r} {key} must be a non-negative number (USD per 1M tokens)")
        yield column, float(value)
