"""OTLP request bodies straight into table rows: the receiver's fast path.

Walking an ``ExportTraceServiceRequest`` from Python is slow where spans are
big: every ``KeyValue`` and ``AnyValue`` read through the protobuf runtime
creates a wrapper object, about 0.8 µs per attribute, so a 40-attribute span
costs 30 µs before any conversion. This module parses the same bytes with a
*view* of the OTLP schema (built at import, no generated code) in which the
attribute lists are declared ``repeated bytes``: same field numbers and wire
types, so the protobuf runtime still splits the message, but each attribute
arrives as the raw bytes of its ``KeyValue``. Those are decoded here:

* from a small cache, since most attributes of a deployment repeat exactly
  (``gen_ai.operation.name = chat``, the model, the status, ...);
* else by reading the canonical encoding every OTLP exporter writes
  (``key``, then one ``AnyValue`` field: string, bool, int, double, or an
  array of one of those);
* else (anything unusual: bytes, maps, mixed arrays, non-canonical
  encodings) by the real ``KeyValue`` parser and :mod:`.decode`'s rules.

Every value is what :func:`.decode.attributes` gives for the same bytes, except
that arrays are tuples (immutable: the cache shares them) where
:mod:`.decode` gives lists; they reach the general path as lists again. Spans
of callscope's instrumentation then go through
:func:`~callscope.collector.fastpath.callscope_call_values`; every other span
(and any the fast path declines) becomes a
:class:`~callscope.collector.records.SpanRecord`, as :func:`.decode.to_records`
makes it, for :func:`~callscope.collector.normalize.span_values`.
``tests/collector/service/test_span_rows.py`` checks the rows are those of
:func:`.decode.to_records` and ``span_values`` (list columns may hold tuples,
which Arrow writes as it writes lists), for every kind of span and value.
The converter spends about a third less CPU per span this way (see
``benchmarks/README.md``).

Bodies reach this module only after the receiver parsed them with the real
schema (so they are valid OTLP). The view accepts everything the real schema
does (it declares fewer fields, with the same wire types); a ``KeyValue`` the
fast reader does not handle goes to the real parser, which raises as it would
have.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from typing import Any, Final

from callscope.collector.fastpath import callscope_call_values, is_callscope_scope
from callscope.collector.normalize import CALLS, service_of, span_values
from callscope.collector.records import AttributeValue, SpanEvent, SpanRecord
from callscope.collector.service.decode import attribute_value, event_of, record_of, span_is_valid
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from opentelemetry.proto.common.v1.common_pb2 import KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span

#: ``(table, values in column order)``, as ``span_values`` makes them.
Row = tuple[str, list[Any]]
#: Decoded attributes kept for reuse; the cache starts over when full (bounded memory) ...
CACHE_ENTRIES: Final = 16_384
#: ... and only small ones (encoded size in bytes), so it holds 11 MiB at most (measured).
CACHE_MAX_BYTES: Final = 256

_DOUBLE: Final = struct.Struct("<d")
_UINT64: Final = (1 << 64) - 1
_DROPPED: Final = None  # a KeyValue without a value: left out, as the SDK and decode.attributes do


def _view_request_class() -> Any:
    """The view of ``ExportTraceServiceRequest``: attribute lists and events as raw bytes."""
    field = descriptor_pb2.FieldDescriptorProto
    optional, repeated = field.LABEL_OPTIONAL, field.LABEL_REPEATED

    def message(name: str, *fields: tuple[str, int, int, int, str]) -> descriptor_pb2.DescriptorProto:
        proto = descriptor_pb2.DescriptorProto(name=name)
        for field_name, number, kind, label, type_name in fields:
            added = proto.field.add(name=field_name, number=number, type=kind, label=label)
            if type_name:
                added.type_name = f".callscope.view.{type_name}"
        return proto

    file = descriptor_pb2.FileDescriptorProto(
        name="callscope/otlp_view.proto", package="callscope.view", syntax="proto3"
    )
    # Field numbers and types as in opentelemetry-proto's trace.proto, common.proto, resource.proto.
    file.message_type.extend(
        [
            message("Request", ("resource_spans", 1, field.TYPE_MESSAGE, repeated, "ResourceSpans")),
            message(
                "ResourceSpans",
                ("resource", 1, field.TYPE_MESSAGE, optional, "Resource"),
                ("scope_spans", 2, field.TYPE_MESSAGE, repeated, "ScopeSpans"),
            ),
            message("Resource", ("attributes", 1, field.TYPE_BYTES, repeated, "")),
            message(
                "ScopeSpans",
                ("scope", 1, field.TYPE_MESSAGE, optional, "Scope"),
                ("spans", 2, field.TYPE_MESSAGE, repeated, "Span"),
            ),
            message("Scope", ("name", 1, field.TYPE_STRING, optional, "")),
            message(
                "Span",
                ("trace_id", 1, field.TYPE_BYTES, optional, ""),
                ("span_id", 2, field.TYPE_BYTES, optional, ""),
                ("parent_span_id", 4, field.TYPE_BYTES, optional, ""),
                ("name", 5, field.TYPE_STRING, optional, ""),
                ("kind", 6, field.TYPE_INT32, optional, ""),  # an open enum: int32 on the wire
                ("start_time_unix_nano", 7, field.TYPE_FIXED64, optional, ""),
                ("end_time_unix_nano", 8, field.TYPE_FIXED64, optional, ""),
                ("attributes", 9, field.TYPE_BYTES, repeated, ""),
                ("events", 11, field.TYPE_BYTES, repeated, ""),
                ("status", 15, field.TYPE_MESSAGE, optional, "Status"),
            ),
            message(
                "Status",
                ("message", 2, field.TYPE_STRING, optional, ""),
                ("code", 3, field.TYPE_INT32, optional, ""),
            ),
        ]
    )
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("callscope.view.Request"))


_ViewRequest: Final = _view_request_class()


class _NotCanonical(Exception):
    """The fast reader does not handle this encoding; the real parser will."""


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    """A base-128 varint at ``pos``: its value and the position after it."""
    result = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7
        if shift >= 64:
            raise _NotCanonical


def _length(data: bytes, pos: int, end: int) -> tuple[int, int]:
    """A length prefix at ``pos`` whose field must end by ``end``: (field end, field start)."""
    size = data[pos]
    if size < 0x80:
        pos += 1
    else:
        size, pos = _varint(data, pos)
    if pos + size > end:
        raise _NotCanonical
    return pos + size, pos


def _scalar(data: bytes, pos: int, end: int) -> tuple[int, Any]:
    """One ``AnyValue`` holding exactly one scalar field, from ``pos`` to ``end``: (tag, value)."""
    tag = data[pos]
    if tag == 0x0A:  # string_value
        stop, start = _length(data, pos + 1, end)
        if stop != end:
            raise _NotCanonical
        return tag, data[start:stop].decode()
    if tag == 0x18:  # int_value (int64, two's complement)
        number, stop = _varint(data, pos + 1)
        if stop != end:
            raise _NotCanonical
        number &= _UINT64  # a varint longer than 64 bits keeps its low 64, as protobuf reads it
        return tag, number - (1 << 64) if number >= 1 << 63 else number
    if tag == 0x21:  # double_value
        if pos + 9 != end:
            raise _NotCanonical
        return tag, _DOUBLE.unpack_from(data, pos + 1)[0]
    if tag == 0x10 and pos + 2 == end and data[pos + 1] < 2:  # bool_value, canonical 0 or 1
        return tag, data[pos + 1] == 1
    raise _NotCanonical


def _array(data: bytes, pos: int, end: int) -> tuple[Any, ...]:
    """An ``ArrayValue`` of scalars all of one kind (as :func:`.decode._array` keeps them)."""
    items: list[Any] = []
    first_tag = 0
    while pos < end:
        if data[pos] != 0x0A:  # ArrayValue.values
            raise _NotCanonical
        stop, start = _length(data, pos + 1, end)
        if start == stop:
            raise _NotCanonical  # an empty AnyValue: decode keeps None, the whole array becomes JSON
        tag, item = _scalar(data, start, stop)
        if first_tag != tag:
            if first_tag:
                raise _NotCanonical  # mixed kinds: decode's rules (floats or JSON text) apply
            first_tag = tag
        if tag == 0x21 and item - item != 0.0:
            raise _NotCanonical  # NaN or infinity: decode writes them as text, the array as JSON
        items.append(item)
        pos = stop
    return tuple(items)


def _key_value(data: bytes) -> tuple[str, Any]:
    """A canonically encoded ``KeyValue``: key, then one ``AnyValue``; raises :class:`_NotCanonical`."""
    end = len(data)
    if end < 2 or data[0] != 0x0A:
        raise _NotCanonical
    key_end, key_start = _length(data, 1, end)
    if key_end >= end or data[key_end] != 0x12:
        raise _NotCanonical
    value_end, value_start = _length(data, key_end + 1, end)
    if value_end != end or value_start == value_end:
        raise _NotCanonical
    key = data[key_start:key_end].decode()
    if data[value_start] == 0x2A:  # array_value
        stop, start = _length(data, value_start + 1, end)
        if stop != end:
            raise _NotCanonical
        return key, _array(data, start, stop)
    return key, _scalar(data, value_start, end)[1]


def _slow_key_value(data: bytes) -> tuple[str, Any]:
    """Any ``KeyValue``, by the real parser and :mod:`.decode`'s rules (arrays as tuples)."""
    key_value = KeyValue.FromString(data)
    value = attribute_value(key_value.value)
    return key_value.key, tuple(value) if isinstance(value, list) else value


class SpanRowDecoder:
    """Decodes request bodies into rows, keeping a cache of decoded attributes between requests.

    Not thread-safe: each converter (a thread or a process) has its own.
    """

    def __init__(self, cache_entries: int = CACHE_ENTRIES) -> None:
        self._cache: dict[bytes, tuple[str, Any]] = {}
        self._keys: dict[str, str] = {}  # one str object per attribute name: faster dict lookups later
        self._cache_entries = cache_entries

    @property
    def cached_attributes(self) -> int:
        """How many decoded attributes the cache holds now (at most ``cache_entries``)."""
        return len(self._cache)

    def rows(self, payload: bytes, failed: list[tuple[SpanRecord, Exception]] | None = None) -> list[Row]:
        """The rows of every valid span of an OTLP/protobuf request body (invalid spans are skipped).

        A span ``span_values`` cannot convert is left out and appended to ``failed`` with its
        error (raised when ``failed`` is None). Raises when the body cannot be decoded.
        """
        request = _ViewRequest.FromString(payload)
        rows: list[Row] = []
        append = rows.append
        decode = self.attributes
        for resource_spans in request.resource_spans:
            resource = decode(resource_spans.resource.attributes)
            service = service_of(resource)
            record_resource = _as_lists(resource)
            for scope_spans in resource_spans.scope_spans:
                scope_name = scope_spans.scope.name or None
                callscope = is_callscope_scope(scope_name)
                for span in scope_spans.spans:
                    if not span_is_valid(span):
                        continue
                    values = decode(span.attributes)
                    if callscope:
                        try:
                            row = callscope_call_values(
                                values,
                                span.trace_id.hex(),
                                span.span_id.hex(),
                                span.parent_span_id.hex() or None,
                                span.start_time_unix_nano,
                                span.end_time_unix_nano,
                                service,
                                span.status.message or None,
                                bool(span.events),
                            )
                        except Exception:
                            row = None  # the general path converts it, or says why it cannot
                        if row is not None:
                            append((CALLS, row))
                            continue
                    record = record_of(
                        span,
                        _as_lists(values),
                        record_resource,
                        scope_name,
                        tuple(_event(data) for data in span.events),
                    )
                    try:
                        append(span_values(record))
                    except Exception as err:
                        if failed is None:
                            raise
                        failed.append((record, err))
        return rows

    def attributes(self, key_values: Iterable[bytes]) -> dict[str, Any]:
        """Raw ``KeyValue`` bytes as a dict, as :func:`.decode.attributes` (arrays as tuples)."""
        result: dict[str, Any] = {}
        get = self._cache.get
        for data in key_values:
            decoded = get(data)
            if decoded is None:
                decoded = self._decode(data)
            value = decoded[1]
            if value is not _DROPPED:
                result[decoded[0]] = value
        return result

    def _decode(self, data: bytes) -> tuple[str, Any]:
        try:
            key, value = _key_value(data)
        except (_NotCanonical, IndexError, UnicodeDecodeError):
            key, value = _slow_key_value(data)  # raises, as the real parser does, if invalid
        keys = self._keys
        if len(keys) >= self._cache_entries:
            keys.clear()  # names are few in practice; this only bounds a client that invents them
        decoded = (keys.setdefault(key, key), value)
        if len(data) <= CACHE_MAX_BYTES:  # a prompt or a document rarely repeats: not worth its memory
            cache = self._cache
            if len(cache) >= self._cache_entries:
                cache.clear()
            cache[data] = decoded
        return decoded


def _as_lists(values: dict[str, Any]) -> dict[str, AttributeValue]:
    """Arrays as lists again, as :func:`.decode.attributes` gives them to the general path."""
    return {key: list(value) if value.__class__ is tuple else value for key, value in values.items()}


def _event(data: bytes) -> SpanEvent:
    return event_of(Span.Event.FromString(data))
