"""Property tests: any attributes a span may carry become a well-typed row that Parquet accepts."""

from __future__ import annotations

import tempfile
from typing import Any

from callscope.collector import coerce
from callscope.collector.normalize import CALL_SOURCES, span_to_row
from callscope.collector.writer import DatasetWriter
from callscope.instrumentation import attributes as A
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.collector.readback import count
from tests.collector.spans import callscope_record

KNOWN_NAMES = sorted({name for names in CALL_SOURCES.values() for name in names} | {A.TAG_PREFIX + "k"})
SCALARS = st.one_of(
    st.text(max_size=12),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
)
VALUES = st.one_of(SCALARS, st.lists(st.text(max_size=5), max_size=3), st.lists(st.floats(), max_size=3))
ATTRIBUTES = st.dictionaries(
    st.one_of(st.sampled_from(KNOWN_NAMES), st.text(max_size=20)), VALUES, max_size=25
)


def well_typed(table: str, row: dict[str, Any]) -> bool:
    for (_, expected), value in zip(coerce.COLUMN_TYPES[table], row.values(), strict=True):
        if value is not None and value.__class__ is not expected:
            return False
    return True


@settings(max_examples=300, deadline=None)
@given(ATTRIBUTES)
def test_any_attributes_give_a_well_typed_row(attributes: dict[str, Any]) -> None:
    table, row = span_to_row(callscope_record(attributes={A.OPERATION: "chat", **attributes}))
    assert table == "calls"
    assert well_typed(table, row)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ATTRIBUTES, min_size=1, max_size=20))
def test_any_attributes_are_written_without_losing_a_row(batch: list[dict[str, Any]]) -> None:
    with tempfile.TemporaryDirectory() as data:
        writer = DatasetWriter(data, max_age_s=None)
        writer.add([callscope_record(i, attributes={A.OPERATION: "chat", **a}) for i, a in enumerate(batch)])
        writer.close()
        assert count(data) == len(batch)
