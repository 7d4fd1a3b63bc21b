"""The hand-rolled Prometheus text format, checked by a strict parser and by exact expected text."""

from __future__ import annotations

import math

import pytest
from callscope.collector.service.prometheus import Counter, Gauge, Histogram, Registry, format_value

from tests.collector.service import promtext


def test_exact_exposition_with_escaping_and_cumulative_buckets() -> None:
    registry = Registry()
    calls = registry.register(Counter("demo_calls_total", 'Calls\nwith "quotes" and \\.', ("model",)))
    depth = registry.register(Gauge("demo_depth", "Queue depth.", read=lambda: 3))
    latency = registry.register(Histogram("demo_seconds", "Latency.", (0.5, 1.0), ("model",)))
    calls.inc('gpt"4o\\mini\n')
    calls.inc("b", amount=2.5)
    for seconds in (0.25, 0.5, 0.75, 3.0):
        latency.observe(seconds, "m")
    assert depth.value() == 3
    assert registry.render() == (
        '# HELP demo_calls_total Calls\\nwith "quotes" and \\\\.\n'
        "# TYPE demo_calls_total counter\n"
        'demo_calls_total{model="b"} 2.5\n'
        'demo_calls_total{model="gpt\\"4o\\\\mini\\n"} 1\n'
        "# HELP demo_depth Queue depth.\n"
        "# TYPE demo_depth gauge\n"
        "demo_depth 3\n"
        "# HELP demo_seconds Latency.\n"
        "# TYPE demo_seconds histogram\n"
        'demo_seconds_bucket{model="m",le="0.5"} 2\n'  # 0.5 is inside le="0.5"
        'demo_seconds_bucket{model="m",le="1"} 3\n'
        'demo_seconds_bucket{model="m",le="+Inf"} 4\n'
        'demo_seconds_sum{model="m"} 4.5\n'
        'demo_seconds_count{model="m"} 4\n'
    )
    families = promtext.parse(registry.render())
    assert promtext.value(families, "demo_calls_total", model='gpt"4o\\mini\n') == 1
    assert promtext.value(families, "demo_seconds_bucket", model="m", le="1") == 3


def test_label_sets_are_capped_so_memory_stays_bounded() -> None:
    counter = Counter("capped_total", "Capped.", ("model",), max_series=3)
    for i in range(10):
        counter.inc(f"model-{i}")
    assert counter.value("model-2") == 1
    assert counter.value("other") == 7
    assert len(counter.render()) == 2 + 4


def test_misuse_is_refused() -> None:
    counter = Counter("x_total", "X.", ("a",))
    with pytest.raises(ValueError, match="only goes up"):
        counter.inc("v", amount=-1)
    with pytest.raises(ValueError, match="takes labels"):
        counter.inc()
    with pytest.raises(ValueError, match="reserved"):
        Histogram("h", "H.", (1.0,), ("le",))
    registry = Registry()
    registry.register(counter)
    with pytest.raises(ValueError, match="already registered"):
        registry.register(Counter("x_total", "again"))


def test_values_are_formatted_as_prometheus_reads_them() -> None:
    assert [format_value(v) for v in (0, 3.0, 0.25, math.inf, -math.inf, 1e20)] == [
        "0",
        "3",
        "0.25",
        "+Inf",
        "-Inf",
        "1e+20",
    ]
    assert format_value(math.nan) == "NaN"


@pytest.mark.parametrize(
    "bad",
    [
        "x 1\n",  # no HELP/TYPE
        "# HELP c_total C.\n# TYPE c_total counter\nc_total -1\n",
        "# HELP c C.\n# TYPE c counter\nc 1\n",  # counter without _total
        '# HELP h H.\n# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n',
        '# HELP h H.\n# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n',  # no +Inf
        '# HELP g G.\n# TYPE g gauge\ng{a="1} 1\n',
    ],
)
def test_the_strict_parser_catches_malformed_expositions(bad: str) -> None:
    with pytest.raises(ValueError, match=r"."):  # any violation; the messages are for humans
        promtext.parse(bad)
