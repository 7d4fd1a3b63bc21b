"""``callscope_call_values`` against the general path: the same row, or None where that path has work.

Spans are real SDK spans of callscope's scope (``span_record`` makes their
records, as the exporter does). Rows are compared by ``repr`` so that a float
where the general path has an int, or ``True`` where it has ``1``, is a failure.
"""

from __future__ import annotations

from typing import Any

import pytest
from callscope.collector.exporter import span_record
from callscope.collector.fastpath import callscope_call_values, is_callscope_scope
from callscope.collector.normalize import CALL_COLUMNS, CALL_SOURCES, service_of, span_values
from callscope.collector.records import SpanRecord
from callscope.instrumentation import attributes as A
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode

from tests.collector.spans import NOON_NS, callscope_attributes

SCOPE = "callscope.instrumentation"
_memory = InMemorySpanExporter()
_provider = TracerProvider(
    resource=Resource.create(
        {"service.name": "api", "service.version": "2.1.0", "deployment.environment": "prod"}
    )
)
_provider.add_span_processor(SimpleSpanProcessor(_memory))


def sdk_span(
    attributes: dict[str, Any],
    *,
    status: Status | None = None,
    events: tuple[tuple[str, dict[str, Any]], ...] = (),
    scope: str = SCOPE,
) -> ReadableSpan:
    """One finished span made by the real SDK."""
    _memory.clear()
    span = _provider.get_tracer(scope).start_span(
        "chat gpt-4o-mini", kind=SpanKind.CLIENT, attributes=attributes, start_time=NOON_NS
    )
    for name, event_attributes in events:
        span.add_event(name, event_attributes, timestamp=NOON_NS + 1_000)
    if status is not None:
        span.set_status(status)
    span.end(end_time=NOON_NS + 812_345_678)
    [finished] = _memory.get_finished_spans()
    return finished


def fast_row(record: SpanRecord) -> list[Any] | None:
    """The fast path on a record's facts, as both callers pass them."""
    assert is_callscope_scope(record.scope_name)
    return callscope_call_values(
        record.attributes,
        record.trace_id,
        record.span_id,
        record.parent_span_id,
        record.start_time_ns,
        record.end_time_ns,
        service_of(record.resource),
        record.status_message,
        bool(record.events),
    )


def both_ways(span: ReadableSpan) -> tuple[list[Any] | None, tuple[str, list[Any]]]:
    record = span_record(span)
    return fast_row(record), span_values(record)


def test_a_full_callscope_span_takes_the_fast_path_with_the_general_paths_row() -> None:
    fast, general = both_ways(sdk_span(callscope_attributes(7)))
    assert fast is not None
    assert repr(("calls", fast)) == repr(general)


@pytest.mark.parametrize(
    ("case", "change", "status", "events"),
    [
        ("error without message", {A.STATUS: "error", A.ERROR_TYPE: "RateLimitError"}, None, ()),
        ("error with an empty message", {A.STATUS: "error"}, Status(StatusCode.ERROR), ()),
        ("events and an error type", {A.ERROR_TYPE: "APITimeoutError"}, None, (("exception", {}),)),
        ("no tokens and no cost", {A.INPUT_TOKENS: None, A.OUTPUT_TOKENS: None, A.COST_USD: None}, None, ()),
        ("a stream", {A.STREAM: True, A.TIME_TO_FIRST_CHUNK: 0.25}, None, ()),
        ("extra and tag attributes", {"app.extra": (1, 2), A.TAG_PREFIX + "team": "search"}, None, ()),
    ],
)
def test_the_fast_path_takes_spans_it_can_convert_alone(
    case: str, change: dict[str, Any], status: Status | None, events: tuple[tuple[str, dict[str, Any]], ...]
) -> None:
    attributes = {**callscope_attributes(), **change}
    attributes = {key: value for key, value in attributes.items() if value is not None}
    fast, general = both_ways(sdk_span(attributes, status=status, events=events))
    assert fast is not None, case
    assert repr(("calls", fast)) == repr(general), case


@pytest.mark.parametrize(
    ("case", "change", "status", "events", "general_fills"),
    [
        ("missing api", {A.API_TYPE: None}, None, (), ("api", "chat_completions")),
        ("missing status", {A.STATUS: None}, None, (), ("status", "ok")),
        (
            "error with a status message",
            {A.STATUS: "error", A.HTTP_STATUS: None},
            Status(StatusCode.ERROR, "Error code: 429 - {'error': {'code': 'rate_limit_exceeded'}}"),
            (),
            ("http_status", 429),
        ),
        (
            "events without an error type",
            {A.STATUS: "error"},
            None,
            (("exception", {"exception.type": "openai.RateLimitError"}),),
            ("error_type", "RateLimitError"),
        ),
        ("tokens without cost", {A.COST_USD: None}, None, (), ("cost_usd", None)),
        ("not a model call", {A.OPERATION: "execute_tool"}, None, (), None),
    ],
)
def test_the_fast_path_declines_what_the_general_path_must_do(
    case: str,
    change: dict[str, Any],
    status: Status | None,
    events: tuple[tuple[str, dict[str, Any]], ...],
    general_fills: tuple[str, Any] | None,
) -> None:
    attributes = {**callscope_attributes(), **change}
    attributes = {key: value for key, value in attributes.items() if value is not None}
    record = span_record(sdk_span(attributes, status=status, events=events))
    assert fast_row(record) is None, case
    table, general = span_values(record)
    if general_fills is None:
        assert table == "spans"
        return
    column, value = general_fills
    filled = general[CALL_COLUMNS.index(column)]
    if column == "cost_usd":
        assert isinstance(filled, float)
        assert filled > 0  # priced by genai-prices
    else:
        assert filled == value, case


# --- property: any variation of a callscope span ----------------------------------------------

_BASE = callscope_attributes(3)
_KNOWN = sorted({name for names in CALL_SOURCES.values() for name in names} | set(_BASE))
_INT64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)
_SCALARS = st.one_of(
    st.text(max_size=8), st.booleans(), _INT64, st.floats(allow_nan=True, allow_infinity=True)
)
_VALUES = st.one_of(
    _SCALARS,
    st.lists(st.text(max_size=4), max_size=3).map(tuple),
    st.lists(st.floats(allow_nan=False), max_size=3).map(tuple),
    st.lists(_INT64, max_size=3).map(tuple),
)
_NAMES = st.one_of(
    st.sampled_from(_KNOWN),
    st.text(min_size=1, max_size=12),
    st.text(max_size=6).map(lambda s: A.TAG_PREFIX + s),
)
_STATUSES = st.sampled_from(
    [
        None,
        Status(StatusCode.OK),
        Status(StatusCode.ERROR),
        Status(StatusCode.ERROR, "Error code: 503 - {'error': {'code': 'server_error'}}"),
    ]
)
_EVENTS = st.lists(
    st.tuples(
        st.sampled_from(["exception", "gen_ai.content.chunk"]),
        st.dictionaries(
            st.sampled_from(["exception.type", "exception.message"]), st.text(max_size=8), max_size=2
        ),
    ),
    max_size=2,
).map(tuple)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    dropped=st.sets(st.sampled_from(sorted(_BASE)), max_size=6),
    changed=st.dictionaries(_NAMES, _VALUES, max_size=6),
    status=_STATUSES,
    events=_EVENTS,
)
def test_whenever_the_fast_path_answers_it_gives_the_general_paths_row(
    dropped: set[str],
    changed: dict[str, Any],
    status: Status | None,
    events: tuple[tuple[str, dict[str, Any]], ...],
) -> None:
    attributes = {key: value for key, value in _BASE.items() if key not in dropped}
    attributes.update(changed)
    fast, general = both_ways(sdk_span(attributes, status=status, events=events))
    if fast is not None:
        assert repr(("calls", fast)) == repr(general)
