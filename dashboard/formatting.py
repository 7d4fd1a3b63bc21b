"""How the dashboard writes numbers: dollars, durations, counts, token amounts, shares and changes.

Pure functions (no Streamlit), so they are tested on their own and the pages stay short.
``None`` and NaN always read as an em dash: a missing figure must never look like a zero.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any, Final

__all__ = [
    "MISSING",
    "change",
    "count",
    "duration",
    "moment",
    "percent",
    "point_change",
    "tokens",
    "usd",
]

MISSING: Final = "—"


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _decimals(amount: float, significant: int, *, most: int) -> int:
    """Decimals that show ``significant`` digits of ``amount`` (at least 0, at most ``most``)."""
    return max(0, min(most, significant - 1 - math.floor(math.log10(amount))))


def usd(value: Any) -> str:
    """Dollars with sensible precision: ``$12,345``, ``$866.04``, ``$0.00208``, ``$0``."""
    number = _number(value)
    if number is None:
        return MISSING
    sign = "-" if number < 0 else ""
    amount = abs(number)
    if amount == 0:
        return "$0"
    if amount >= 10_000:
        return f"{sign}${amount:,.0f}"
    if amount >= 0.995:
        return f"{sign}${amount:,.2f}"
    if amount < 1e-8:
        return f"{sign}<$0.00000001"
    # Below a dollar (a call's cost): three significant digits, never rounded to $0.00.
    return f"{sign}${amount:.{_decimals(amount, 3, most=8)}f}"


def duration(ms: Any) -> str:
    """Milliseconds as people read them: ``850 ms``, ``2.10 s``, ``3.5 min``, ``16.6 h``, ``4.2 days``."""
    number = _number(ms)
    if number is None:
        return MISSING
    sign = "-" if number < 0 else ""
    value = abs(number)
    if value < 10:
        text = f"{value:.1f} ms"
    elif value < 1000:
        text = f"{value:.0f} ms"
    elif value < 10_000:
        text = f"{value / 1000:.2f} s"
    elif value < 60_000:
        text = f"{value / 1000:.1f} s"
    elif value < 3_600_000:
        text = f"{value / 60_000:.1f} min"
    elif value < 86_400_000 * 2:
        text = f"{value / 3_600_000:.1f} h"
    else:
        text = f"{value / 86_400_000:.1f} days"
    return sign + text


def count(value: Any) -> str:
    """A whole number with thousands separators: ``447,928``."""
    number = _number(value)
    return MISSING if number is None else f"{round(number):,}"


def tokens(value: Any) -> str:
    """A token amount, compact above ten thousand: ``9,876``, ``124.4 M``, ``1.02 B``."""
    number = _number(value)
    if number is None:
        return MISSING
    amount = abs(number)
    for limit, unit, scale in ((1e9, "B", 1e9), (1e6, "M", 1e6), (1e4, "k", 1e3)):
        if amount >= limit:
            scaled = number / scale
            return f"{scaled:,.{_decimals(abs(scaled), 3, most=2)}f} {unit}"
    return f"{round(number):,}"


def percent(share: Any) -> str:
    """A share (0.0299) as ``3.0 %``; small shares keep two decimals (``0.04 %``)."""
    number = _number(share)
    if number is None:
        return MISSING
    value = number * 100
    if value != 0 and abs(value) < 1:
        return f"{value:.2f} %"
    return f"{value:.1f} %"


def change(current: Any, previous: Any) -> str | None:
    """The relative change from ``previous`` to ``current`` (``+12.3 %``), ``None`` when not comparable."""
    now, before = _number(current), _number(previous)
    if now is None or before is None or before == 0:
        return None
    ratio = (now - before) / before * 100
    if abs(ratio) < 0.05:
        return "0.0 %"
    return f"{ratio:+.1f} %"


def point_change(current: Any, previous: Any) -> str | None:
    """The change of a rate in percentage points (``+0.4 pp``), ``None`` when not comparable."""
    now, before = _number(current), _number(previous)
    if now is None or before is None:
        return None
    points = (now - before) * 100
    if abs(points) < 0.005:
        return "0.00 pp"
    return f"{points:+.2f} pp"


def moment(value: datetime | None, *, seconds: bool = False) -> str:
    """A UTC time as ``2026-11-28 23:59 UTC``."""
    if value is None:
        return MISSING
    pattern = "%Y-%m-%d %H:%M:%S UTC" if seconds else "%Y-%m-%d %H:%M UTC"
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime(pattern)
