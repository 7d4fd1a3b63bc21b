"""The global filters (time range, services, models, tags) as one value the pages and the cache share.

The sidebar's widgets are bound to URL query parameters (Streamlit's ``bind="query-params"``), so a
view can be shared by its URL and the filters survive a page switch; :class:`FilterState` is what
those widgets say, turned into the analytics stage's :class:`~callscope.analytics.Filters`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Final

from callscope.analytics import Filters

__all__ = [
    "DEFAULT_RANGE",
    "PARAM_DATES",
    "PARAM_MODEL",
    "PARAM_RANGE",
    "PARAM_SERVICE",
    "PARAM_TAG",
    "RANGES",
    "RANGE_CODES",
    "FilterState",
]

#: URL query parameters (and widget keys) of the global filters.
PARAM_RANGE: Final = "range"
PARAM_DATES: Final = "dates"
PARAM_SERVICE: Final = "service"
PARAM_MODEL: Final = "model"
PARAM_TAG: Final = "tag"

#: Time range choices: code -> label (the label is what the URL holds: ``?range=Last+30+days``).
#: A relative range is measured back from now.
RANGES: Final[dict[str, str]] = {
    "1h": "Last hour",
    "24h": "Last 24 hours",
    "7d": "Last 7 days",
    "30d": "Last 30 days",
    "90d": "Last 90 days",
    "all": "All time",
    "custom": "Custom dates",
}
DEFAULT_RANGE: Final = "7d"
#: Label -> code.
RANGE_CODES: Final = {label: code for code, label in RANGES.items()}


@dataclass(frozen=True)
class FilterState:
    """Which calls every figure is about.

    ``range`` is a key of :data:`RANGES`; for ``custom``, ``dates`` are the first and last day
    (inclusive, UTC). ``status`` is not a sidebar filter: the explorer narrows by it.
    """

    range: str = DEFAULT_RANGE
    dates: tuple[date, date] | None = None
    services: tuple[str, ...] = ()
    models: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    status: tuple[str, ...] = ()

    @property
    def relative(self) -> bool:
        """Whether the window moves with the clock (its figures change as time passes)."""
        return self.range not in ("all", "custom")

    def filters(self) -> Filters:
        """The analytics filters this state stands for."""
        since: str | datetime | None = None
        until: datetime | None = None
        if self.range == "custom" and self.dates is not None:
            first, last = self.dates
            since = datetime(first.year, first.month, first.day, tzinfo=UTC)
            until = datetime(last.year, last.month, last.day, tzinfo=UTC) + timedelta(days=1)
        elif self.range in RANGES and self.range not in ("all", "custom"):
            since = self.range
        return Filters(
            since=since,
            until=until,
            services=self.services,
            models=self.models,
            tags=list(self.tags),
            status=self.status,
        )

    def with_status(self, status: Sequence[str]) -> FilterState:
        return FilterState(self.range, self.dates, self.services, self.models, self.tags, tuple(status))

    def key(self) -> str:
        """A stable text form, for cache keys."""
        return json.dumps(asdict(self), default=str, sort_keys=True)

    def query_params(self) -> dict[str, str | list[str]]:
        """The URL query parameters that reproduce this state (defaults left out)."""
        params: dict[str, str | list[str]] = {}
        if self.range != DEFAULT_RANGE:
            params[PARAM_RANGE] = RANGES[self.range]
        if self.range == "custom" and self.dates is not None:
            params[PARAM_DATES] = [day.isoformat() for day in self.dates]
        for name, values in (
            (PARAM_SERVICE, self.services),
            (PARAM_MODEL, self.models),
            (PARAM_TAG, self.tags),
        ):
            if values:
                params[name] = list(values)
        return params

    def describe(self) -> str:
        """The filters in words, e.g. ``Last 7 days · service api · tag feature=search``."""
        if self.range == "custom" and self.dates is not None:
            first, last = self.dates
            parts = [f"{first:%b %d, %Y} – {last:%b %d, %Y} (UTC)"]
        else:
            parts = [RANGES.get(self.range, self.range)]
        for noun, values in (("service", self.services), ("model", self.models), ("tag", self.tags)):
            if values:
                parts.append(f"{noun}{'s' if len(values) > 1 else ''} {', '.join(values)}")
        return " · ".join(parts)

    @classmethod
    def from_widgets(cls, values: Mapping[str, object]) -> FilterState:
        """The state from the sidebar widgets' values (keyed by the ``PARAM_*`` names; the time range
        by its label or code)."""
        chosen = str(values.get(PARAM_RANGE) or DEFAULT_RANGE)
        range_ = RANGE_CODES.get(chosen, chosen)
        if range_ not in RANGES:
            range_ = DEFAULT_RANGE
        dates = values.get(PARAM_DATES)
        pair: tuple[date, date] | None = None
        if range_ == "custom" and isinstance(dates, Sequence) and dates:
            days = [day for day in dates if isinstance(day, date)]
            if days:  # while the second day is being picked, the range is the first day alone
                pair = (min(days), max(days))
        if range_ == "custom" and pair is None:
            range_ = "all"
        return cls(
            range=range_,
            dates=pair,
            services=_strings(values.get(PARAM_SERVICE)),
            models=_strings(values.get(PARAM_MODEL)),
            tags=_strings(values.get(PARAM_TAG)),
        )


def _strings(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, Sequence):
        return tuple(str(item) for item in value)
    return ()
