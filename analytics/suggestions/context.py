"""What every rule is given: the connection, the price book, the window and the thresholds."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from callscope.analytics.suggestions.thresholds import Thresholds

if TYPE_CHECKING:
    import duckdb
    from callscope.analytics.prices import PriceBook

__all__ = ["RuleContext"]


@dataclass(frozen=True)
class RuleContext:
    """The inputs of a rule.

    ``con`` has the views ``calls`` (already scoped to the report's filters), ``prices``
    and, when the dataset has them, ``spans``. ``period_days`` is the length of the
    observed window; savings are extrapolated from it to 30 days.
    """

    con: duckdb.DuckDBPyConnection
    prices: PriceBook
    period_days: float
    thresholds: Thresholds = field(default_factory=Thresholds)

    def __post_init__(self) -> None:
        if not self.period_days >= 0:  # also refuses NaN
            raise ValueError(f"period_days must be >= 0, not {self.period_days!r}")
