"""A minimal, thread-safe Prometheus registry rendering the text exposition format 0.0.4.

Counters, gauges and histograms with labels; that is all ``/metrics`` needs,
so no client library is pulled in. The format details that scrapers are strict
about are handled here once: ``# HELP`` / ``# TYPE`` lines, escaping of help
text and label values, cumulative ``le`` buckets ending in ``+Inf``, ``_sum``
and ``_count``. Each family caps its number of label sets so a client sending
endless model names cannot grow memory: past the cap, new label sets are
counted under ``"other"``.
"""

from __future__ import annotations

import math
import threading
from bisect import bisect_left
from collections.abc import Callable, Mapping, Sequence
from typing import Final, TypeVar

CONTENT_TYPE: Final = "text/plain; version=0.0.4; charset=utf-8"
OVERFLOW_LABEL: Final = "other"

LabelValues = tuple[str, ...]


def escape_label_value(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def format_value(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if math.isnan(value):
        return "NaN"
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


class _Family:
    kind: str = "untyped"

    def __init__(self, name: str, help_text: str, labels: Sequence[str], max_series: int) -> None:
        self.name = name
        self.help = help_text
        self.label_names = tuple(labels)
        self.max_series = max_series
        self._lock = threading.Lock()

    def _key(self, values: Sequence[str], known: Mapping[LabelValues, object]) -> LabelValues:
        key = tuple(values)
        if len(key) != len(self.label_names):
            raise ValueError(f"{self.name} takes labels {self.label_names}, got {key}")
        if key not in known and len(known) >= self.max_series:
            return (OVERFLOW_LABEL,) * len(key)
        return key

    def _labels(self, key: LabelValues, extra: str = "") -> str:
        pairs = [f'{n}="{escape_label_value(v)}"' for n, v in zip(self.label_names, key, strict=True)]
        if extra:
            pairs.append(extra)
        return "{" + ",".join(pairs) + "}" if pairs else ""

    def header(self) -> list[str]:
        return [f"# HELP {self.name} {escape_help(self.help)}", f"# TYPE {self.name} {self.kind}"]

    def render(self) -> list[str]:
        raise NotImplementedError


class Counter(_Family):
    """A monotonically increasing value per label set; the name should end in ``_total``."""

    kind = "counter"

    def __init__(self, name: str, help_text: str, labels: Sequence[str] = (), max_series: int = 1000) -> None:
        super().__init__(name, help_text, labels, max_series)
        self._values: dict[LabelValues, float] = {}

    def inc(self, *labels: str, amount: float = 1.0) -> None:
        if amount < 0:
            raise ValueError("a counter only goes up")
        with self._lock:
            key = self._key(labels, self._values)
            self._values[key] = self._values.get(key, 0.0) + amount

    def value(self, *labels: str) -> float:
        with self._lock:
            return self._values.get(tuple(labels), 0.0)

    def render(self) -> list[str]:
        with self._lock:
            items = sorted(self._values.items())
        return self.header() + [f"{self.name}{self._labels(k)} {format_value(v)}" for k, v in items]


class Gauge(_Family):
    """A value that goes up and down, set directly or read from a callback at scrape time."""

    kind = "gauge"

    def __init__(
        self,
        name: str,
        help_text: str,
        labels: Sequence[str] = (),
        max_series: int = 1000,
        read: Callable[[], float] | None = None,
    ) -> None:
        super().__init__(name, help_text, labels, max_series)
        self._values: dict[LabelValues, float] = {}
        self._read = read

    def set(self, value: float, *labels: str) -> None:
        with self._lock:
            self._values[self._key(labels, self._values)] = float(value)

    def value(self, *labels: str) -> float:
        if self._read is not None and not labels:
            return float(self._read())
        with self._lock:
            return self._values.get(tuple(labels), 0.0)

    def render(self) -> list[str]:
        if self._read is not None:
            return [*self.header(), f"{self.name} {format_value(float(self._read()))}"]
        with self._lock:
            items = sorted(self._values.items())
        return self.header() + [f"{self.name}{self._labels(k)} {format_value(v)}" for k, v in items]


class Histogram(_Family):
    """Observations counted into cumulative buckets, with their sum and count."""

    kind = "histogram"

    def __init__(
        self,
        name: str,
        help_text: str,
        buckets: Sequence[float],
        labels: Sequence[str] = (),
        max_series: int = 500,
    ) -> None:
        super().__init__(name, help_text, labels, max_series)
        if "le" in self.label_names:
            raise ValueError("'le' is reserved for histogram buckets")
        bounds = sorted(float(b) for b in buckets if not math.isinf(b))
        self.bounds: tuple[float, ...] = (*bounds, math.inf)
        # per label set: [count per bucket (not cumulative)..., sum]
        self._series: dict[LabelValues, list[float]] = {}

    def observe(self, value: float, *labels: str) -> None:
        self.observe_many((value,), *labels)

    def observe_many(self, values: Sequence[float], *labels: str) -> None:
        """Observe several values of one label set under a single lock."""
        bounds = self.bounds
        indexes = [bisect_left(bounds, value) for value in values]  # first bound >= value: "le" is inclusive
        with self._lock:
            key = self._key(labels, self._series)
            series = self._series.get(key)
            if series is None:
                series = self._series[key] = [0.0] * (len(bounds) + 1)
            for index in indexes:
                series[index] += 1
            series[-1] += sum(values)

    def merge(self, counts: Sequence[int], total: float, *labels: str) -> None:
        """Add observations already counted per bucket (``counts`` aligned with :attr:`bounds`)."""
        if len(counts) != len(self.bounds):
            raise ValueError(f"{self.name} has {len(self.bounds)} buckets, got {len(counts)} counts")
        with self._lock:
            key = self._key(labels, self._series)
            series = self._series.get(key)
            if series is None:
                series = self._series[key] = [0.0] * (len(self.bounds) + 1)
            for index, count in enumerate(counts):
                series[index] += count
            series[-1] += total

    def render(self) -> list[str]:
        with self._lock:
            items = sorted((k, list(v)) for k, v in self._series.items())
        lines = self.header()
        for key, series in items:
            cumulative = 0.0
            for bound, count in zip(self.bounds, series[:-1], strict=True):
                cumulative += count
                le = 'le="' + format_value(bound) + '"'
                lines.append(f"{self.name}_bucket{self._labels(key, le)} {format_value(cumulative)}")
            lines.append(f"{self.name}_sum{self._labels(key)} {format_value(series[-1])}")
            lines.append(f"{self.name}_count{self._labels(key)} {format_value(cumulative)}")
        return lines


_F = TypeVar("_F", bound=_Family)


class Registry:
    """An ordered set of metric families rendered together."""

    def __init__(self) -> None:
        self._families: dict[str, _Family] = {}

    def register(self, family: _F) -> _F:
        if family.name in self._families:
            raise ValueError(f"metric {family.name} is already registered")
        self._families[family.name] = family
        return family

    def render(self) -> str:
        lines: list[str] = []
        for family in self._families.values():
            lines += family.render()
        return "\n".join(lines) + "\n"
