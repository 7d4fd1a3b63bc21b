"""OTLP ``ExportTraceServiceRequest`` messages into :class:`~callscope.collector.records.SpanRecord`.

The receiver looks at every request twice. On the request path,
:func:`count_spans` only checks ids (cheap), so the answer can carry an exact
``partial_success``; later the background writer converts what
:func:`count_spans` accepted (:mod:`.span_rows`, whose results match
:func:`to_records` followed by ``span_values``). All use :func:`span_is_valid`,
so they can never disagree.

Attribute values follow OTel's attribute model: scalars and homogeneous arrays
pass through; bytes become base64 text (as OTLP/JSON writes them) and the rest
(``kvlistValue``, nested or mixed arrays) JSON text, so ``span_to_row`` never
sees a type it cannot store.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from callscope.collector.records import AttributeValue, SpanEvent, SpanKind, SpanRecord, StatusCode

if TYPE_CHECKING:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
    from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
    from opentelemetry.proto.trace.v1.trace_pb2 import Span

#: ``Span.SpanKind`` numbers; 0 (unspecified) and unknown future values read as internal.
_KINDS: Final[dict[int, SpanKind]] = {1: "internal", 2: "server", 3: "client", 4: "producer", 5: "consumer"}
#: ``Status.StatusCode`` numbers.
_STATUS: Final[dict[int, StatusCode]] = {0: "unset", 1: "ok", 2: "error"}

_ZERO_TRACE_ID: Final = bytes(16)
_ZERO_SPAN_ID: Final = bytes(8)


@dataclass(frozen=True, slots=True)
class SpanCount:
    """How many spans a request carries and how many of them are unusable."""

    total: int
    rejected: int
    #: Why the first rejected span was rejected, for the client's ``partial_success.error_message``.
    reason: str | None = None

    @property
    def accepted(self) -> int:
        return self.total - self.rejected


def _span_problem(span: Span) -> str | None:
    """Why ``span`` cannot be stored, or None. Ids are what joins rows, so they must be well-formed."""
    trace_id, span_id, parent = span.trace_id, span.span_id, span.parent_span_id
    if len(trace_id) != 16:
        return f"span {span.name!r} has an invalid trace_id: {len(trace_id)} bytes instead of 16"
    if trace_id == _ZERO_TRACE_ID:
        return f"span {span.name!r} has an invalid trace_id: all zeros"
    if len(span_id) != 8:
        return f"span {span.name!r} has an invalid span_id: {len(span_id)} bytes instead of 8"
    if span_id == _ZERO_SPAN_ID:
        return f"span {span.name!r} has an invalid span_id: all zeros"
    if parent and len(parent) != 8:
        return f"span {span.name!r} has an invalid parent_span_id: {len(parent)} bytes instead of 8 (or none)"
    return None


def span_is_valid(span: Span) -> bool:
    """Whether :func:`to_records` keeps ``span`` (what :func:`count_spans` counts as accepted)."""
    return _span_problem(span) is None


def count_spans(request: ExportTraceServiceRequest) -> SpanCount:
    """Count the spans of ``request`` and those :func:`to_records` will drop (bad ids)."""
    total = rejected = 0
    reason: str | None = None
    for resource_spans in request.resource_spans:
        for scope_spans in resource_spans.scope_spans:
            spans = scope_spans.spans
            total += len(spans)
            for span in spans:
                problem = _span_problem(span)
                if problem is not None:
                    rejected += 1
                    reason = reason or problem
    return SpanCount(total, rejected, reason)


def to_records(request: ExportTraceServiceRequest) -> list[SpanRecord]:
    """Every valid span of ``request`` as a :class:`SpanRecord` (invalid ones are skipped)."""
    records: list[SpanRecord] = []
    append = records.append
    for resource_spans in request.resource_spans:
        # Converted once and shared by every span of the resource: records never mutate it.
        resource = attributes(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            scope_name = scope_spans.scope.name or None
            for span in scope_spans.spans:
                if span_is_valid(span):
                    append(
                        record_of(
                            span,
                            attributes(span.attributes),
                            resource,
                            scope_name,
                            tuple(map(event_of, span.events)),
                        )
                    )
    return records


def record_of(
    span: Any,
    values: dict[str, AttributeValue],
    resource: dict[str, AttributeValue],
    scope_name: str | None,
    events: tuple[SpanEvent, ...],
) -> SpanRecord:
    """The record of a valid ``Span`` message whose attributes (``values``) and events are decoded.

    ``span`` is an OTLP ``Span`` or any message with its field names (:mod:`.span_rows`' view).
    """
    status = span.status
    return SpanRecord(
        trace_id=span.trace_id.hex(),
        span_id=span.span_id.hex(),
        parent_span_id=span.parent_span_id.hex() or None,
        name=span.name,
        kind=_KINDS.get(span.kind, "internal"),
        start_time_ns=span.start_time_unix_nano,
        end_time_ns=span.end_time_unix_nano,
        attributes=values,
        resource=resource,
        status_code=_STATUS.get(status.code, "unset"),
        status_message=status.message or None,
        scope_name=scope_name,
        events=events,
    )


def event_of(event: Span.Event) -> SpanEvent:
    """A span event with its attributes decoded."""
    return SpanEvent(event.name, event.time_unix_nano, attributes(event.attributes))


def attributes(key_values: Iterable[KeyValue]) -> dict[str, AttributeValue]:
    """OTLP ``KeyValue`` list as a dict; keys whose value is empty are left out, like the SDK does."""
    result: dict[str, AttributeValue] = {}
    for key_value in key_values:
        value = attribute_value(key_value.value)
        if value is not None:
            result[key_value.key] = value
    return result


def attribute_value(value: AnyValue) -> AttributeValue | None:  # noqa: PLR0911 (a flat chain: fastest)
    """One ``AnyValue`` as an attribute value; None when it holds nothing (the key is then left out)."""
    # Ordered by how often each kind occurs in GenAI spans; this loop is the receiver's hot path.
    kind = value.WhichOneof("value")
    if kind == "string_value":
        return value.string_value
    if kind == "int_value":
        return value.int_value
    if kind == "double_value":
        return value.double_value
    if kind == "bool_value":
        return value.bool_value
    if kind == "array_value":
        return _array(value.array_value.values)
    if kind is None:
        return None
    if kind == "bytes_value":
        return base64.b64encode(value.bytes_value).decode("ascii")
    return json.dumps(_plain(value), separators=(",", ":"), allow_nan=False)


def _array(values: Iterable[AnyValue]) -> AttributeValue:
    items = [_plain(item) for item in values]
    kinds = {type(item) for item in items}
    if len(kinds) <= 1 and kinds <= {str, bool, int, float}:
        return items  # homogeneous scalars, as the attribute model allows
    if kinds == {int, float}:
        return [float(item) for item in items]
    # Mixed, nested or map elements: keep the whole array, losslessly, as JSON text.
    return json.dumps(items, separators=(",", ":"), allow_nan=False)


def _plain(value: AnyValue) -> Any:
    """Any ``AnyValue`` as plain JSON-compatible Python (bytes as base64, as OTLP/JSON writes them)."""
    kind = value.WhichOneof("value")
    if kind is None or kind == "string_value_strindex":  # the latter: a profiles-only reference
        return None
    if kind == "array_value":
        return [_plain(item) for item in value.array_value.values]
    if kind == "kvlist_value":
        return {item.key: _plain(item.value) for item in value.kvlist_value.values}
    if kind == "bytes_value":
        return base64.b64encode(value.bytes_value).decode("ascii")
    scalar = getattr(value, kind)
    if kind == "double_value" and not math.isfinite(scalar):
        return str(scalar)  # JSON has no NaN or infinity
    return scalar
