"""``SpanRecord``: one finished span in a neutral form, whatever carried it.

Both ways into the collector produce these: the in-process exporter converts
OTel SDK ``ReadableSpan`` objects, the OTLP receiver converts protobuf
``Span`` messages. ``span_to_row`` then only ever sees this one shape, so the
normalization of names and the cost fill-in are written (and tested) once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

#: Attribute values as OTel allows them: scalars or homogeneous sequences.
AttributeValue = str | bool | int | float | Sequence[str] | Sequence[bool] | Sequence[int] | Sequence[float]

SpanKind = Literal["internal", "server", "client", "producer", "consumer"]
StatusCode = Literal["unset", "ok", "error"]


@dataclass(slots=True, frozen=True)
class SpanEvent:
    """A span event, e.g. ``exception`` or OpenInference's first-token event."""

    name: str
    time_ns: int  # Unix epoch nanoseconds
    attributes: Mapping[str, AttributeValue] = field(default_factory=dict)


@dataclass(slots=True)
class SpanRecord:
    trace_id: str  # 32 lowercase hex digits
    span_id: str  # 16 lowercase hex digits
    parent_span_id: str | None
    name: str
    kind: SpanKind
    start_time_ns: int  # Unix epoch nanoseconds
    end_time_ns: int
    attributes: Mapping[str, AttributeValue]
    resource: Mapping[str, AttributeValue] = field(default_factory=dict)
    status_code: StatusCode = "unset"
    status_message: str | None = None
    #: Instrumentation scope name, e.g. ``callscope.instrumentation``
    #: or ``opentelemetry.instrumentation.openai_v2``.
    scope_name: str | None = None
    #: Span events in order; only ``exception`` and first-token events feed columns.
    events: Sequence[SpanEvent] = ()
