"""Which calls a figure is about: a time range plus service, model, operation, tag and status filters.

:class:`Filters` is what a user or the dashboard states (``since="7d"``);
:meth:`Filters.resolve` pins relative times to absolute UTC instants once, so every
query of one report (and its previous-period comparison) sees the same window.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final

from callscope.analytics.errors import FilterError

__all__ = ["Filters", "ResolvedFilters", "parse_tag", "parse_time"]

_UNITS: Final[dict[str, timedelta]] = {
    "s": timedelta(seconds=1),
    "m": timedelta(minutes=1),
    "min": timedelta(minutes=1),
    "h": timedelta(hours=1),
    "d": timedelta(days=1),
    "w": timedelta(weeks=1),
}
_RELATIVE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|min|m|h|d|w)\s*$", re.IGNORECASE)

STATUSES: Final = ("ok", "error", "incomplete")

TimeLike = datetime | date | str | None
TagValues = str | Sequence[str] | None


def parse_time(value: TimeLike, now: datetime) -> datetime | None:  # noqa: PLR0911 - one return per form
    """An absolute UTC instant from a datetime, a date, ``"now"``, a relative ``"7d"``/``"12h"``/
    ``"30m"``/``"2w"`` (that long before ``now``) or an ISO 8601 date or time (UTC unless it says)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return _utc(value)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    text = value.strip()
    if text == "":
        return None
    if text.lower() == "now":
        return _utc(now)
    match = _RELATIVE.match(text)
    if match:
        return _utc(now) - float(match.group(1)) * _UNITS[match.group(2).lower()]
    try:
        return _utc(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        raise FilterError(
            f"cannot read the time {value!r}: use a duration before now like 7d, 24h, 30m, 2w, "
            "or an ISO date/time like 2026-01-31 or 2026-01-31T12:00"
        ) from None


def parse_tag(text: str) -> tuple[str, str | None]:
    """``"feature=search"`` -> ``("feature", "search")``; ``"feature"`` -> ``("feature", None)``."""
    key, sep, value = text.partition("=")
    if not key.strip():
        raise FilterError(f"cannot read the tag filter {text!r}: use key=value, or key for any value")
    return key.strip(), (value if sep else None)


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _strings(value: str | Iterable[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(item) for item in value)


TagFilters = tuple[tuple[str, tuple[str, ...]], ...]


def _tag_filters(tags: Mapping[str, TagValues] | Iterable[str | tuple[str, TagValues]] | None) -> TagFilters:
    """Normalize tags to ``((key, values), ...)``; empty values mean "the key is present"."""
    if tags is None:
        return ()
    merged: dict[str, list[str]] = {}
    pairs: Iterable[tuple[str, TagValues]]
    if isinstance(tags, Mapping):
        pairs = tags.items()
    else:
        pairs = (parse_tag(item) if isinstance(item, str) else item for item in tags)
    for key, values in pairs:
        merged.setdefault(str(key), []).extend(_strings(values))
    return tuple((key, tuple(dict.fromkeys(values))) for key, values in sorted(merged.items()))


@dataclass(frozen=True, init=False)
class Filters:
    """The calls a query is about. Every field is optional; empty means "no filter".

    ``since``/``until`` take a datetime, a date, ``"now"``, a duration before now (``"7d"``,
    ``"24h"``, ``"30m"``, ``"2w"``) or an ISO date/time; ``since`` is inclusive, ``until``
    exclusive. A call's model matches ``models`` by the model it asked for or the one that
    answered. ``tags`` maps a key to a value, a list of values (any of them), or ``None``
    (the key is present with any value); a list of ``"key=value"`` strings works too.
    """

    since: TimeLike = None
    until: TimeLike = None
    services: tuple[str, ...] = ()
    models: tuple[str, ...] = ()
    operations: tuple[str, ...] = ()
    environments: tuple[str, ...] = ()
    status: tuple[str, ...] = ()
    tags: TagFilters = ()

    def __init__(
        self,
        since: TimeLike = None,
        until: TimeLike = None,
        *,
        services: str | Iterable[str] | None = None,
        models: str | Iterable[str] | None = None,
        operations: str | Iterable[str] | None = None,
        environments: str | Iterable[str] | None = None,
        status: str | Iterable[str] | None = None,
        tags: Mapping[str, TagValues] | Iterable[str | tuple[str, TagValues]] | None = None,
    ) -> None:
        statuses = _strings(status)
        unknown = [s for s in statuses if s not in STATUSES]
        if unknown:
            raise FilterError(f"unknown status {unknown[0]!r}; use one of {', '.join(STATUSES)}")
        values: dict[str, Any] = {
            "since": since,
            "until": until,
            "services": _strings(services),
            "models": _strings(models),
            "operations": _strings(operations),
            "environments": _strings(environments),
            "status": statuses,
            "tags": _tag_filters(tags),
        }
        for name, value in values.items():
            object.__setattr__(self, name, value)

    def resolve(self, now: datetime | None = None) -> ResolvedFilters:
        """Pin relative times to absolute UTC instants (``now`` defaults to the current time)."""
        moment = _utc(now) if now is not None else datetime.now(UTC)
        since = parse_time(self.since, moment)
        until = parse_time(self.until, moment)
        if since is not None and until is not None and since >= until:
            raise FilterError(f"the time range is empty: since {since:%Y-%m-%d %H:%M} is not before until")
        return ResolvedFilters(
            since=since,
            until=until,
            services=self.services,
            models=self.models,
            operations=self.operations,
            environments=self.environments,
            status=self.status,
            tags=self.tags,
            now=moment,
        )


@dataclass(frozen=True)
class ResolvedFilters:
    """:class:`Filters` with absolute UTC times; what a scoped connection is built from."""

    since: datetime | None = None
    until: datetime | None = None
    services: tuple[str, ...] = ()
    models: tuple[str, ...] = ()
    operations: tuple[str, ...] = ()
    environments: tuple[str, ...] = ()
    status: tuple[str, ...] = ()
    tags: TagFilters = ()
    #: The instant relative times were measured from; the end of an open-ended window.
    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def end(self) -> datetime:
        """The end of the window: ``until``, else ``now``."""
        return self.until or self.now

    @property
    def period(self) -> timedelta | None:
        """The window's length, or ``None`` when it has no start."""
        return None if self.since is None else self.end - self.since

    def previous(self) -> ResolvedFilters | None:
        """The same filters over the window of equal length just before this one (``None`` if open)."""
        period = self.period
        if self.since is None or period is None:
            return None
        return replace(self, since=self.since - period, until=self.since)

    def with_time(self, since: datetime | None, until: datetime | None) -> ResolvedFilters:
        """The same filters over another window."""
        return replace(self, since=since, until=until)

    def describe(self) -> dict[str, Any]:
        """A JSON-ready description (ISO times, lists), as printed in a report."""
        return {
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "services": list(self.services),
            "models": list(self.models),
            "operations": list(self.operations),
            "environments": list(self.environments),
            "status": list(self.status),
            "tags": {key: list(values) for key, values in self.tags},
        }
