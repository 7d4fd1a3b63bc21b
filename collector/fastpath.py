"""The fast path of ``span_values`` for callscope's own model-call spans.

Nearly every span the collector sees in a callscope deployment is a call span
of callscope's instrumentation that needs none of the normalization steps:
its names are canonical, it carries its status, its api and its cost. For
those, :func:`callscope_call_values` fills the row in one function, without a
:class:`~callscope.collector.records.SpanRecord` or the step pipeline (fewer
Python calls and fewer objects for the garbage collector to track). Any span
it is not sure about gets ``None``, and the caller takes the general path,
:func:`~callscope.collector.normalize.span_values`; a property test checks the
two give identical rows for every span the fast path accepts.

Both ways in use it: the in-process exporter straight from the SDK's
``ReadableSpan``, the OTLP receiver straight from the decoded protobuf.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from callscope.collector.normalize import (
    API,
    ATTRIBUTES,
    COST_USD,
    ERROR_TYPE,
    INPUT_TOKENS,
    INSTRUMENTATION,
    INSTRUMENTATION_CALLSCOPE,
    OUTPUT_TOKENS,
    SCHEMA_VERSION_COLUMN,
    START_TIME,
    STATUS,
    STREAM,
    TAGS,
    encode_json,
    fill_call_attributes,
    is_call,
)
from callscope.collector.schema import SCHEMA_VERSION

_END_TIME: Final = START_TIME + 1
_DURATION_MS: Final = START_TIME + 2
_SERVICE: Final = slice(START_TIME + 3, START_TIME + 6)


def is_callscope_scope(scope_name: str | None) -> bool:
    """Whether a scope is callscope's instrumentation (what ``instrumentation_of`` calls ``callscope``)."""
    return scope_name is not None and scope_name.startswith(INSTRUMENTATION_CALLSCOPE)


def callscope_call_values(  # noqa: PLR0917 (once per span: positional arguments cost less)
    attributes: Mapping[str, Any],
    trace_id: str,
    span_id: str,
    parent_span_id: str | None,
    start_time_ns: int,
    end_time_ns: int,
    service: tuple[Any, Any, Any],
    status_message: str | None,
    has_events: bool,
) -> list[Any] | None:
    """The ``calls`` row of a span of callscope's instrumentation, or ``None`` for the general path.

    The caller has checked :func:`is_callscope_scope`; ``service`` is
    :func:`~callscope.collector.normalize.service_of` of the span's resource.
    The row is what ``span_values`` gives for the same span.
    """
    if not is_call(attributes):
        return None
    left: dict[str, Any] = {}
    tags: dict[str, str] = {}
    row = fill_call_attributes(attributes, left, tags)
    status = row[STATUS]
    if (
        row[API] is None  # normalize_names would fill it (and normalize the spellings)
        or status is None  # derive_status would derive it
        or (status == "error" and status_message)  # ... and read codes from the message
        or (has_events and row[ERROR_TYPE] is None)  # from_events may find an exception type
        or (row[COST_USD] is None and (row[INPUT_TOKENS] is not None or row[OUTPUT_TOKENS] is not None))
    ):
        return None
    row[0] = trace_id
    row[1] = span_id
    row[2] = parent_span_id or None
    row[START_TIME] = start_time_ns // 1000
    row[_END_TIME] = end_time_ns // 1000
    row[_DURATION_MS] = (end_time_ns - start_time_ns) / 1e6
    row[_SERVICE] = service
    row[INSTRUMENTATION] = INSTRUMENTATION_CALLSCOPE
    if row[STREAM] is None:
        row[STREAM] = False  # default_flags: callscope marks streams only when streaming
    row[TAGS] = tags or None
    row[ATTRIBUTES] = encode_json(left) if left else None
    row[SCHEMA_VERSION_COLUMN] = SCHEMA_VERSION
    return row
