"""How numbers are written: exact strings for known inputs."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from callscope.dashboard import formatting


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0, "$0"),
        (0.000799, "$0.000799"),
        (0.00208, "$0.00208"),
        (0.142, "$0.142"),
        (1.5, "$1.50"),
        (866.036, "$866.04"),
        (12_345.6, "$12,346"),
        (-0.5, "-$0.500"),
        (3e-10, "<$0.00000001"),
        (None, "—"),
        (float("nan"), "—"),
    ],
)
def test_usd(value: float | None, text: str) -> None:
    assert formatting.usd(value) == text


@pytest.mark.parametrize(
    ("ms", "text"),
    [(0.5, "0.5 ms"), (850, "850 ms"), (2104.4, "2.10 s"), (37_067, "37.1 s"), (210_000, "3.5 min"),
     (59_643_939, "16.6 h"), (3e8, "3.5 days"), (None, "—")],
)  # fmt: skip
def test_duration(ms: float | None, text: str) -> None:
    assert formatting.duration(ms) == text


def test_counts_tokens_and_shares() -> None:
    assert formatting.count(447_928) == "447,928"
    assert [formatting.tokens(n) for n in (999, 20_043, 124_371_081, 1_020_330_113)] == [
        "999",
        "20.0 k",
        "124 M",
        "1.02 B",
    ]
    assert [formatting.percent(x) for x in (0.0299, 0.0004, 0, None)] == ["3.0 %", "0.04 %", "0.0 %", "—"]


def test_changes_against_the_previous_period() -> None:
    assert formatting.change(194, 40) == "+385.0 %"
    assert formatting.change(90, 100) == "-10.0 %"
    assert formatting.change(5, 0) is None  # nothing to compare with
    assert formatting.change(None, 5) is None
    assert formatting.point_change(0.0567, 0.0) == "+5.67 pp"
    assert formatting.point_change(0.03, 0.03) == "0.00 pp"


def test_moment_is_utc() -> None:
    assert formatting.moment(datetime(2026, 11, 28, 23, 59, 47, tzinfo=UTC)) == "2026-11-28 23:59 UTC"
    assert formatting.moment(None) == "—"


def test_the_suggestions_page_says_how_savings_were_extrapolated() -> None:
    from callscope.dashboard.views.suggestions import _extrapolation_text

    assert _extrapolation_text(7.2) == "Savings per 30 days are extrapolated from 7.2 days of calls."
    # The demo's half minute of calls is scaled as one day, and the page must not claim "0.0 days".
    assert _extrapolation_text(30 / 86_400) == (
        "Savings per 30 days are extrapolated from 30.0 s of calls "
        "(counted as 1 day, the shortest period callscope extrapolates from)."
    )
