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
import threading
import weakref
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

from callscope.collector.records import SpanEvent, SpanRecord
from callscope.collector.writer import DEFAULT_MAX_AGE_S, DEFAULT_MAX_BYTES, DEFAULT_MAX_ROWS, DatasetWriter
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.trace import SpanKind, StatusCode

from callscope._log import get_logger

if TYPE_CHECKING:
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import ReadableSpan

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


class _ResourceCache:
    """Spans of one provider share one Resource object; convert its attributes once."""

    __slots__ = ("attributes", "resource")

    def __init__(self) -> None:
        self.resource: Resource | None = None
        self.attributes: Mapping[str, Any] = {}

    def get(self, resource: Resource) -> Mapping[str, Any]:
        if resource is not self.resource:
            self.attributes = _plain(resource.attributes)
            self.resource = resource
        return self.attributes


def span_record(span: ReadableSpan, resources: _ResourceCache | None = None) -> SpanRecord:
    """The neutral :class:`SpanRecord` of an SDK span (hex ids, ns times, resource, scope, status)."""
    context = span.context
    parent = span.parent
    status = span.status
    scope = span.instrumentation_scope
    resource = span.resource
    events = span.events
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
        (resources.get(resource) if resources is not None else _plain(resource.attributes))
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
        self._lock = threading.Lock()
        self._shutdown = False
        # A weak reference: registering the bound method would keep the exporter alive forever.
        reference = weakref.ref(self)
        self._atexit = lambda: _flush_at_exit(reference)
        atexit.register(self._atexit)

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        if self._shutdown:
            return SpanExportResult.FAILURE
        try:
            with self._lock:  # the resource cache is not thread-safe; exports are rarely concurrent
                records = [span_record(span, self._resources) for span in spans]
            self.writer.add(records)
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
