"""Cost in USD from genai-prices, fast enough to run on every call (public: the collector prices with it too).

>>> from callscope.instrumentation.pricing import PriceBook
>>> PriceBook().cost("gpt-4o-mini", "openai", service_tier=None, when_ns=1_764_460_800 * 10**9,
...                  input_tokens=2000, cached_tokens=1024, output_tokens=500).total
0.0005232

``genai_prices.calc_price`` costs ~85 µs a call, most of the overhead budget. Within
one (model, provider, service tier, day) the price of a call is a linear function
of its token counts, possibly piecewise on total input tokens (tiered "cliff"
prices). So the first call for a key resolves genai-prices' model price once,
measures the coefficients by calling genai-prices itself on a few probe usages,
checks the linear model against genai-prices on another probe, and every later
call is a handful of ``Decimal`` multiplications. A model whose price is not
linear in this sense (anything the check rejects) falls back to genai-prices per
call, so the result is always genai-prices' own answer.

Semantics (genai-prices'): ``input_tokens`` includes cached reads and cache writes;
reasoning tokens are part of ``output_tokens``. An unknown model has no cost
(``None``), never 0.
"""

from __future__ import annotations

import bisect
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, NamedTuple

from callscope.instrumentation._internal_errors import log

__all__ = ["Cost", "PriceBook"]

_ZERO = Decimal(0)


class Cost(NamedTuple):  # a tuple: cheaper to build than a frozen dataclass, once per call
    total: float
    input: float
    output: float
    model_id: str  # genai-prices' model id, e.g. "gpt-4o-mini"
    provider_id: str


_Coefficients = tuple[Decimal, Decimal, Decimal, Decimal, Decimal]
_IntCoefficients = tuple[int, int, int, int, int]


@dataclass(frozen=True, slots=True)
class _Linear:
    """Coefficients (constant, input, cache read, cache write, output) for total, input and output
    USD, as integers in units of ``1 / scale`` dollars: exact, and fast to evaluate. ``int / int``
    is correctly rounded, so the float is the same as ``float()`` of the exact ``Decimal``."""

    scale: int
    total: _IntCoefficients
    input: _IntCoefficients
    output: _IntCoefficients

    @classmethod
    def from_decimals(cls, total: _Coefficients, inp: _Coefficients, out: _Coefficients) -> _Linear | None:
        values = (*total, *inp, *out)
        exponent = min(int(v.as_tuple().exponent) for v in values)
        digits = max(0, -exponent)
        if digits > 40:
            return None
        scale = 10**digits

        def scaled(c: _Coefficients) -> _IntCoefficients:
            a, b, d, e, f = (int(v.scaleb(digits)) for v in c)
            return (a, b, d, e, f)

        return cls(scale, scaled(total), scaled(inp), scaled(out))


@dataclass(frozen=True, slots=True)
class _Priced:
    model_id: str
    provider_id: str
    bounds: tuple[int, ...]  # tier starts: region i covers (bounds[i-1], bounds[i]]
    regions: tuple[_Linear, ...] | None  # None: not linear, ask genai-prices each time
    model: Any
    provider: Any


def _usage(inp: int, cache_read: int, cache_write: int, out: int) -> Any:
    from genai_prices import Usage

    kwargs: dict[str, int] = {"input_tokens": inp, "output_tokens": out}
    if cache_read:
        kwargs["cache_read_tokens"] = cache_read
    if cache_write:
        kwargs["cache_write_tokens"] = cache_write
    return Usage(**kwargs)


def _apply(c: tuple[Any, Any, Any, Any, Any], n: tuple[int, int, int, int]) -> Any:
    return c[0] + c[1] * n[0] + c[2] * n[1] + c[3] * n[2] + c[4] * n[3]


class PriceBook:
    """Prices calls; thread-safe; caches per (model, provider, tier, day)."""

    def __init__(self) -> None:
        self._priced: dict[tuple[str, str, str | None, Any], _Priced | None] = {}
        self._lock = threading.Lock()

    def cost(
        self,
        model: str,
        provider_id: str,
        *,
        service_tier: str | None,
        when_ns: int,
        input_tokens: int,
        cached_tokens: int = 0,
        cache_write_tokens: int = 0,
        output_tokens: int = 0,
    ) -> Cost | None:
        """USD for one call, or None when genai-prices does not know the model."""
        day = when_ns // 86_400_000_000_000
        key = (model, provider_id, service_tier, day)
        priced = self._priced.get(key, _MISSING)
        if priced is _MISSING:
            priced = self._resolve(model, provider_id, service_tier, when_ns)
            with self._lock:
                if len(self._priced) > 4096:  # bounded: one entry per model/tier/day in practice
                    self._priced.clear()
                self._priced[key] = priced
        if priced is None:
            return None
        counts = (input_tokens, cached_tokens, cache_write_tokens, output_tokens)
        if priced.regions is None:
            return self._slow(priced, service_tier, when_ns, counts)
        region = (
            priced.regions[bisect.bisect_left(priced.bounds, input_tokens)]
            if priced.bounds
            else priced.regions[0]
        )
        scale = region.scale
        return Cost(
            _apply(region.total, counts) / scale,
            _apply(region.input, counts) / scale,
            _apply(region.output, counts) / scale,
            priced.model_id,
            priced.provider_id,
        )

    def _resolve(self, model: str, provider_id: str, tier: str | None, when_ns: int) -> _Priced | None:
        from genai_prices import calc_price

        when = datetime.fromtimestamp(when_ns / 1e9, tz=UTC)
        context = {"service_tier": tier} if tier else None
        try:
            probe = calc_price(
                _usage(0, 0, 0, 0),
                model,
                provider_id=provider_id,
                genai_request_timestamp=when,
                price_context=context,
            )
        except LookupError:
            if provider_id == "openai":
                return None
            return self._resolve(model, "openai", tier, when_ns) if provider_id == "azure" else None
        model_info, provider = probe.model, probe.provider
        if _has_time_of_day_prices(model_info):
            regions = None  # price changes within the day (off-peak hours): no per-day cache
            bounds: tuple[int, ...] = ()
        else:
            bounds = _tier_starts(probe.model_price)
            regions = self._linearize(model_info, provider, when, context, bounds)
        return _Priced(model_info.id, provider.id, bounds, regions, model_info, provider)

    @staticmethod
    def _linearize(
        model_info: Any, provider: Any, when: datetime, context: Any, bounds: tuple[int, ...]
    ) -> tuple[_Linear, ...] | None:
        def calc(n: tuple[int, int, int, int]) -> tuple[Decimal, Decimal, Decimal]:
            r = model_info.calc_price(
                _usage(*n), provider, genai_request_timestamp=when, price_context=context
            )
            return r.total_price, r.input_price, r.output_price

        regions = []
        lows = (0, *bounds)
        highs = (*bounds, 10**12)
        for low, high in zip(lows, highs, strict=True):
            p = low + 1
            if p + 2 > high:
                return None  # a region too narrow to probe: leave it to genai-prices
            base = calc((p, 0, 0, 0))
            d_in = calc((p + 1, 0, 0, 0))
            d_read = calc((p, 1, 0, 0))
            d_write = calc((p, 0, 1, 0))
            d_out = calc((p, 0, 0, 1))
            coeffs = []
            for i in range(3):
                a_in = d_in[i] - base[i]
                coeffs.append(
                    (
                        base[i] - a_in * p,
                        a_in,
                        d_read[i] - base[i],
                        d_write[i] - base[i],
                        d_out[i] - base[i],
                    )
                )
            linear = _Linear.from_decimals(coeffs[0], coeffs[1], coeffs[2])
            check = (p + 2, 1, 1, 7)
            expected = tuple(float(v) for v in calc(check))
            if (
                linear is None
                or (
                    _apply(linear.total, check) / linear.scale,
                    _apply(linear.input, check) / linear.scale,
                    _apply(linear.output, check) / linear.scale,
                )
                != expected
            ):
                log.debug("callscope: price is not linear, using genai-prices per call", model=model_info.id)
                return None
            regions.append(linear)
        return tuple(regions)

    @staticmethod
    def _slow(priced: _Priced, tier: str | None, when_ns: int, n: tuple[int, int, int, int]) -> Cost:
        when = datetime.fromtimestamp(when_ns / 1e9, tz=UTC)
        context = {"service_tier": tier} if tier else None
        r = priced.model.calc_price(
            _usage(*n), priced.provider, genai_request_timestamp=when, price_context=context
        )
        return Cost(
            float(r.total_price),
            float(r.input_price),
            float(r.output_price),
            priced.model_id,
            priced.provider_id,
        )


_MISSING: Any = object()


def _tier_starts(model_price: Any) -> tuple[int, ...]:
    from genai_prices.types import TieredPrices

    starts: set[int] = set()
    for value in vars(model_price).values():
        if isinstance(value, TieredPrices):
            starts.update(int(tier.start) for tier in value.tiers)
    return tuple(sorted(starts))


def _has_time_of_day_prices(model_info: Any) -> bool:
    from genai_prices.types import ModelPrice, TimeOfDateConstraint

    prices = model_info.prices
    conditional = [] if isinstance(prices, ModelPrice) else list(prices or ())
    constraints = [getattr(p, "constraint", None) for p in conditional]
    constraints += [getattr(v, "constraint", None) for v in (model_info.price_variants or ())]
    return any(isinstance(c, TimeOfDateConstraint) for c in constraints)
