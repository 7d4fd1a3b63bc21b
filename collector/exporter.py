"""``ParquetSpanExporter``: the embedded default, an OTel ``SpanExporter`` writing the call log.

Use it behind a ``BatchSpanProcessor``, which calls :meth:`export` from its own
worker thread, so the app's threads never convert or write anything::

    provider.add_span_processor(BatchSpanProcessor(ParquetSpanExporter("./callscope-data")))

Memory is bounded by the writer's ``max_rows`` / ``max_bytes`` (a full buffer is
written from the exporter thread); rows also reach disk after ``max_age_s``, on
``force_flush``, on ``shutdown`` and at interpreter exit. It never raises into
the SDK: failures are logged and reported as ``SpanExportResult.FAILURE``.
"""

from __future__ import annotations

import atexit
import weakref
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

from callscope.collector.fastpath import callscope_call_values, is_callscope_scope
from callscope.collector.normalize import CALLS, service_of, span_values
from callscope.collector.records import SpanEvent, SpanRecord
from callscope.collector.writer import DEFAULT_MAX_AGE_S, DEFAULT_MAX_BYTES, DEFAULT_MAX_ROWS, DatasetWriter
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.trace import SpanKind, StatusCode

from callscope._log import get_logger

if TYPE_CHECKING:
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import Event, ReadableSpan

log = get_logger("callscope.collector")

_KINDS: Final = {
    SpanKind.INTERNAL: "internal",
    SpanKind.SERVER: "server",
    SpanKind.CLIENT: "client",
    SpanKind.PRODUCER: "producer",
    SpanKind.CONSUMER: "consumer",
}
_STATUSES: Final = {StatusCode.UNSET: "unset", StatusCode.OK: "ok", StatusCode.ERROR: "error"}


def _plain(attributes: Any) -> Mapping[str, Any]:
    """The attributes as a plain dict, without copying when the SDK's own dict is reachable."""
    if attributes is None:
        return {}
    inner = getattr(attributes, "_dict", None)  # BoundedAttributes keeps a plain dict
    return inner if isinstance(inner, dict) else dict(attributes)


def _events(span: ReadableSpan) -> Sequence[Event]:
    """The span's events; the SDK's own list when reachable (``span.events`` copies it into a tuple)."""
    events: Sequence[Event] | None = getattr(span, "_events", None)
    return span.events if events is None else events


class _ResourceCache:
    """Spans of one provider share one Resource object; convert its attributes once.

    Lock-free: the cached resource, its attributes and its service are replaced as one tuple.
    """

    __slots__ = ("_current",)

    def __init__(self) -> None:
        self._current: tuple[Resource | None, Mapping[str, Any], tuple[Any, Any, Any]] = (
            None,
            {},
            (None, None, None),
        )

    def get(self, resource: Resource) -> tuple[Mapping[str, Any], tuple[Any, Any, Any]]:
        """The resource's attributes, and its service (see ``service_of``)."""
        current = self._current
        if current[0] is not resource:
            attributes = _plain(resource.attributes)
            current = self._current = (resource, attributes, service_of(attributes))
        return current[1], current[2]


def span_values_of(span: ReadableSpan, resources: _ResourceCache) -> tuple[str, list[Any]]:
    """The table and row of an SDK span: callscope's own call spans by the fast path, the rest (and
    any span the fast path declines) through :func:`span_record` and ``span_values``."""
    scope = span.instrumentation_scope
    resource = span.resource
    if scope is not None and is_callscope_scope(scope.name) and resource is not None:
        context = span.context
        if context is not None:
            parent = span.parent
            start = span.start_time or 0
            attributes = getattr(span, "_attributes", None)  # the SDK's BoundedAttributes, not a copy
            row = callscope_call_values(
                _plain(attributes if attributes is not None else span.attributes),
                f"{context.trace_id:032x}",
                f"{context.span_id:016x}",
                f"{parent.span_id:016x}" if parent is not None else None,
                start,
                span.end_time or start,
                resources.get(resource)[1],
                span.status.description,
                bool(_events(span)),
            )
            if row is not None:
                return CALLS, row
    return span_values(span_record(span, resources))


def span_record(span: ReadableSpan, resources: _ResourceCache | None = None) -> SpanRecord:
    """The neutral :class:`SpanRecord` of an SDK span (hex ids, ns times, resource, scope, status)."""
    context = span.context
    parent = span.parent
    status = span.status
    scope = span.instrumentation_scope
    resource = span.resource
    events = _events(span)
    start = span.start_time or 0
    attributes = getattr(span, "_attributes", None)  # the SDK's BoundedAttributes, not a proxy copy
    # Positional: this runs for every span, and keyword arguments cost more.
    return SpanRecord(
        f"{context.trace_id:032x}" if context is not None else "0" * 32,
        f"{context.span_id:016x}" if context is not None else "0" * 16,
        f"{parent.span_id:016x}" if parent is not None else None,
        span.name,
        _KINDS.get(span.kind, "internal"),  # type: ignore[arg-type]
        start,
        span.end_time or start,
        _plain(attributes if attributes is not None else span.attributes),
        (resources.get(resource)[0] if resources is not None else _plain(resource.attributes))
        if resource is not None
        else {},
        _STATUSES.get(status.status_code, "unset"),  # type: ignore[arg-type]
        status.description,
        scope.name if scope is not None else None,
        [SpanEvent(e.name, e.timestamp, _plain(e.attributes)) for e in events] if events else (),
    )


class ParquetSpanExporter(SpanExporter):
    """Writes finished spans to ``<data>/calls`` and ``<data>/spans`` as Parquet.

    ``data_dir`` is a local directory or ``s3://bucket/prefix``; the other
    arguments go to :class:`~callscope.collector.writer.DatasetWriter`.
    """

    def __init__(
        self,
        data_dir: str,
        *,
        max_rows: int = DEFAULT_MAX_ROWS,
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_age_s: float | None = DEFAULT_MAX_AGE_S,
        storage_options: Mapping[str, Any] | None = None,
        writer_id: str | None = None,
    ) -> None:
        self.writer = DatasetWriter(
            data_dir,
            writer_id=writer_id,
            max_rows=max_rows,
            max_bytes=max_bytes,
            max_age_s=max_age_s,
            storage_options=storage_options,
        )
        self._resources = _ResourceCache()
        self._shutdown = False
        # A weak reference: registering the bound method would keep the exporter alive forever.
        reference = weakref.ref(self)
        self._atexit = lambda: _flush_at_exit(reference)
        atexit.register(self._atexit)

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        if self._shutdown:
            return SpanExportResult.FAILURE
        try:
            resources = self._resources
            self.writer.add_values([span_values_of(span, resources) for span in spans])
        except Exception as err:  # never raise into the SDK
            log.error("callscope.exporter.export_failed", error=str(err), spans=len(spans))
            return SpanExportResult.FAILURE
        return SpanExportResult.SUCCESS

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        try:
            self.writer.flush()
        except Exception as err:
            log.error("callscope.exporter.flush_failed", error=str(err))
            return False
        return True

    def shutdown(self) -> None:
        if self._shutdown:
            return
        self._shutdown = True
        atexit.unregister(self._atexit)
        try:
            self.writer.close()
        except Exception as err:
            log.error("callscope.exporter.shutdown_failed", error=str(err), pending=self.writer.pending_rows)


def _flush_at_exit(reference: weakref.ref[ParquetSpanExporter]) -> None:
    exporter = reference()
    if exporter is not None and not exporter._shutdown:
        exporter.force_flush()
