"""A strict parser of the Prometheus text exposition format 0.0.4, for checking ``/metrics``.

Stricter than Prometheus itself where it matters for correctness: every sample
belongs to a family announced by ``# HELP`` and ``# TYPE`` lines, counters end in
``_total``, histogram buckets are cumulative and end with ``le="+Inf"`` equal to
``_count``, and no label set repeats.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_HELP = re.compile(rf"^# HELP ({_NAME}) (.*)$")
_TYPE = re.compile(rf"^# TYPE ({_NAME}) (counter|gauge|histogram|summary|untyped)$")
_SAMPLE = re.compile(rf"^({_NAME})(\{{.*\}})? (\S+)$")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\[\\"n])*)"(,|$)')

Labels = tuple[tuple[str, str], ...]


@dataclass
class Family:
    name: str
    help: str = ""
    type: str = ""
    samples: dict[tuple[str, Labels], float] = field(default_factory=dict)


def _unescape(value: str) -> str:
    return re.sub(r"\\(.)", lambda m: "\n" if m[1] == "n" else m[1], value)


def _labels(text: str | None) -> Labels:
    if not text:
        return ()
    body = text[1:-1]
    labels: list[tuple[str, str]] = []
    position = 0
    while position < len(body):
        match = _LABEL.match(body, position)
        if match is None:
            raise ValueError(f"bad labels {text!r}")
        labels.append((match[1], _unescape(match[2])))
        position = match.end()
    names = [name for name, _ in labels]
    if len(set(names)) != len(names):
        raise ValueError(f"repeated label in {text!r}")
    return tuple(labels)


def _value(text: str) -> float:
    if text in ("+Inf", "-Inf", "NaN"):
        return float(text.replace("Inf", "inf"))
    if not re.fullmatch(r"-?\d+(\.\d+)?([eE][-+]?\d+)?", text):
        raise ValueError(f"bad sample value {text!r}")
    return float(text)


def parse(text: str) -> dict[str, Family]:
    """Parse ``text``; raises ValueError at the first violation."""
    if not text.endswith("\n"):
        raise ValueError("the exposition must end with a newline")
    families: dict[str, Family] = {}
    current: Family | None = None
    for number, line in enumerate(text.splitlines(), 1):
        if line.startswith("# HELP "):
            match = _HELP.match(line)
            if match is None or match[1] in families:
                raise ValueError(f"line {number}: bad or repeated HELP: {line!r}")
            current = families[match[1]] = Family(match[1], _unescape(match[2]))
            continue
        if line.startswith("# TYPE "):
            match = _TYPE.match(line)
            if match is None or current is None or current.name != match[1] or current.type:
                raise ValueError(f"line {number}: TYPE must follow its HELP: {line!r}")
            current.type = match[2]
            if current.type == "counter" and not current.name.endswith("_total"):
                raise ValueError(f"line {number}: counter {current.name} must end in _total")
            continue
        match = _SAMPLE.match(line)
        if match is None:
            raise ValueError(f"line {number}: not a sample: {line!r}")
        name, labels, value = match[1], _labels(match[2]), _value(match[3])
        if current is None or not current.type:
            raise ValueError(f"line {number}: sample before HELP/TYPE: {line!r}")
        suffixes = ("_bucket", "_sum", "_count") if current.type == "histogram" else ("",)
        if name not in {current.name + suffix for suffix in suffixes}:
            raise ValueError(f"line {number}: {name} does not belong to family {current.name}")
        key = (name, labels)
        if key in current.samples:
            raise ValueError(f"line {number}: repeated sample {line!r}")
        if current.type == "counter" and (value < 0 or math.isnan(value)):
            raise ValueError(f"line {number}: counters cannot be negative or NaN")
        current.samples[key] = value
    for family in families.values():
        if not family.type:
            raise ValueError(f"{family.name} has HELP but no TYPE")
        if family.type == "histogram":
            _check_histogram(family)
    return families


def _check_histogram(family: Family) -> None:
    series: dict[Labels, list[tuple[float, float]]] = {}
    counts: dict[Labels, float] = {}
    sums: set[Labels] = set()
    for (name, labels), value in family.samples.items():
        if name.endswith("_bucket"):
            le = dict(labels).get("le")
            if le is None:
                raise ValueError(f"{name} without le")
            rest = tuple(item for item in labels if item[0] != "le")
            series.setdefault(rest, []).append((_value(le), value))
        elif name.endswith("_count"):
            counts[labels] = value
        else:
            sums.add(labels)
    for labels, buckets in series.items():
        bounds = [bound for bound, _ in buckets]
        if bounds != sorted(bounds) or bounds[-1] != math.inf:
            raise ValueError(f"{family.name}{labels}: buckets must be in order and end with +Inf")
        values = [value for _, value in buckets]
        if values != sorted(values):
            raise ValueError(f"{family.name}{labels}: buckets must be cumulative")
        if counts.get(labels) != values[-1] or labels not in sums:
            raise ValueError(f"{family.name}{labels}: _count must equal the +Inf bucket, and _sum must exist")


def value(families: dict[str, Family], name: str, **labels: str) -> float:
    """The sample ``name{labels}`` (labels in any order); 0 when absent, like a counter never incremented."""
    family = families.get(name) or families[re.sub(r"_(bucket|sum|count)$", "", name)]
    for (sample, sample_labels), number in family.samples.items():
        if sample == name and dict(sample_labels) == labels:
            return number
    return 0.0
