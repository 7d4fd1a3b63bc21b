"""The receiver's fast conversion (``span_rows``) against the reference path, over real OTLP bodies.

The reference is what the receiver did before: the body parsed with the real
OTLP schema, :func:`to_records`, then ``span_values`` for every record. Bodies
are made by the real OTel encoder (``encode_spans``) from SDK spans: callscope's,
each peer's (the recorded fixtures), plain server spans, and spans with every
unusual value the encoder can write; raw bytes cover encodings the encoder never
writes but other OTLP clients may. Rows are compared by ``repr`` (exact types; NaN
equals NaN) after turning tuples into lists: ``span_rows`` keeps arrays as
tuples, which Arrow writes exactly as it writes lists.
"""

from __future__ import annotations

import itertools
import math
import struct
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from callscope.collector.normalize import span_values
from callscope.collector.records import SpanRecord
from callscope.collector.service.converter import Conversion
from callscope.collector.service.decode import attributes, to_records
from callscope.collector.service.span_rows import CACHE_MAX_BYTES, SpanRowDecoder
from callscope.collector.writer import DatasetWriter
from callscope.instrumentation import attributes as A
from google.protobuf.message import DecodeError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue, KeyValueList
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import SpanContext, SpanKind, Status, StatusCode

from tests.collector.service.helpers import make_spans, otlp_body, query
from tests.collector.spans import PEERS, callscope_attributes, callscope_record, peer_records, server_record

_ids = itertools.count(1)


def readable(record: SpanRecord, *, fresh_ids: bool = False) -> ReadableSpan:
    """An SDK span with exactly the record's facts (no attribute cleaning: any value reaches the encoder)."""
    trace_id, span_id = int(record.trace_id, 16), int(record.span_id, 16)
    if fresh_ids:
        trace_id, span_id = next(_ids), next(_ids)
    parent = record.parent_span_id
    status = {"ok": StatusCode.OK, "error": StatusCode.ERROR}.get(record.status_code, StatusCode.UNSET)
    return ReadableSpan(
        name=record.name,
        context=SpanContext(trace_id, span_id, is_remote=False),
        parent=SpanContext(trace_id, int(parent, 16), is_remote=False) if parent else None,
        resource=Resource(dict(record.resource)),
        attributes=dict(record.attributes),
        events=[Event(e.name, dict(e.attributes), timestamp=e.time_ns) for e in record.events],
        kind=SpanKind[record.kind.upper()],
        status=Status(status, record.status_message if status is StatusCode.ERROR else None),
        start_time=record.start_time_ns,
        end_time=record.end_time_ns,
        instrumentation_scope=InstrumentationScope(record.scope_name or ""),
    )


def plain(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    return value


def reference_rows(body: bytes) -> list[tuple[str, list[Any]]]:
    return [span_values(record) for record in to_records(ExportTraceServiceRequest.FromString(body))]


def assert_same_rows(body: bytes, decoder: SpanRowDecoder | None = None) -> list[tuple[str, list[Any]]]:
    rows = (decoder or SpanRowDecoder()).rows(body)
    assert repr(plain(rows)) == repr(plain(reference_rows(body)))
    return rows


def peer_spans() -> list[ReadableSpan]:
    return [
        readable(record) for peer in PEERS for records in peer_records(peer).values() for record in records
    ]


def callscope_spans() -> list[ReadableSpan]:
    """Callscope spans the fast path takes and ones it declines (errors, no api, events, no cost)."""
    full = [readable(callscope_record(i)) for i in range(5)]
    declined = [
        callscope_record(
            10,
            status_code="error",
            status_message="Error code: 429 - {'code': 'rate'}",
            attributes={**callscope_attributes(10), A.STATUS: "error"},
        ),
        callscope_record(
            11, attributes={k: v for k, v in callscope_attributes(11).items() if k != A.API_TYPE}
        ),
        callscope_record(
            12, attributes={k: v for k, v in callscope_attributes(12).items() if k != A.COST_USD}
        ),
        callscope_record(13, attributes={A.OPERATION: "execute_tool", "gen_ai.tool.name": "search"}),
    ]
    return full + [readable(record) for record in declined] + make_spans(10)


def test_callscope_spans_give_the_reference_rows() -> None:
    rows = assert_same_rows(otlp_body(callscope_spans()))
    assert [table for table, _ in rows].count("calls") == 18  # every call span, only the tool span aside


def test_peer_spans_give_the_reference_rows() -> None:
    spans = peer_spans()
    assert len(spans) > 20
    rows = assert_same_rows(otlp_body(spans))
    assert len(rows) == len(spans)


def test_non_genai_spans_give_the_reference_rows() -> None:
    spans = [readable(server_record(i)) for i in range(3)] + make_spans(5, genai=False)
    rows = assert_same_rows(otlp_body(spans))
    assert {table for table, _ in rows} == {"spans"}


UNUSUAL: dict[str, Any] = {
    "bytes": b"\x00\xff\x10",
    "empty.bytes": b"",
    "map": {"a": 1, "nested": {"b": [1, 2]}, "nothing": None},
    "empty.map": {},
    "mixed": [1, "x", True],
    "numbers": [1, 2.5],
    "bools.and.ints": [True, 1],
    "nested": [[1], [2, 3]],
    "with.none": ["a", None],
    "nan.array": [1.0, math.nan],
    "inf.array": [math.inf],
    "nan": math.nan,
    "minus.inf": -math.inf,
    "minus.zero": -0.0,
    "empty.array": [],
    "empty.string": "",
    "none": None,
    "": "empty key",
    "int.min": -(2**63),
    "int.max": 2**63 - 1,
    "int.minus.one": -1,
    "false": False,
    "unicode": "naïve ☃ 🚀",
    "long": "x" * 5000,
    "strings": ["a", "", "ü"],
    A.FINISH_REASONS: ["stop", "length"],
    A.TAG_PREFIX + "list": ["a", "b"],
    A.TAG_PREFIX + "map": {"k": "v"},
}


@pytest.mark.parametrize("scope", ["callscope.instrumentation", "some.other.library"])
def test_unusual_values_give_the_reference_rows(scope: str) -> None:
    base = callscope_attributes()
    records = [
        callscope_record(0, attributes={**base, **UNUSUAL}, scope_name=scope),
        callscope_record(1, attributes={A.OPERATION: "chat", **UNUSUAL}, scope_name=scope),
        callscope_record(
            2, attributes=dict(UNUSUAL), scope_name=scope, resource={"service.name": b"\x01", **UNUSUAL}
        ),
        server_record(3),
    ]
    spans = [readable(record) for record in records]
    assert_same_rows(otlp_body(spans))


def test_both_paths_write_the_same_parquet(tmp_path: Path) -> None:
    """Tuples where the reference has lists must not matter once Arrow has the rows."""
    spans = callscope_spans() + peer_spans() + [readable(callscope_record(99, attributes=dict(UNUSUAL)))]
    body = otlp_body(spans)
    for name, rows in (("reference", reference_rows(body)), ("fast", SpanRowDecoder().rows(body))):
        writer = DatasetWriter(str(tmp_path / name), max_age_s=None)
        writer.add_values(rows)
        writer.close()
    for table in ("calls", "spans"):
        sql = "SELECT * EXCLUDE (date) FROM t ORDER BY span_id"
        reference = query(tmp_path / "reference", table, sql)
        assert len(reference) > 0
        assert repr(query(tmp_path / "fast", table, sql)) == repr(reference)


# --- raw encodings other clients may send ------------------------------------------------------


def varint(number: int) -> bytes:
    number &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte = number & 0x7F
        number >>= 7
        if number:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def field(number: int, payload: bytes) -> bytes:
    """A length-delimited field."""
    return varint(number << 3 | 2) + varint(len(payload)) + payload


STRING, BOOL, INT, DOUBLE, ARRAY = 1, 2, 3, 4, 5


def raw_key_value(key: bytes, any_value: bytes) -> bytes:
    return field(1, key) + field(2, any_value)


#: KeyValue encodings no Python exporter writes, each valid protobuf.
RAW_KEY_VALUES: dict[str, bytes] = {
    "value before key": field(2, field(STRING, b"v")) + field(1, b"k.swapped"),
    "key twice": field(1, b"first") + field(1, b"k.twice") + field(2, field(STRING, b"v")),
    "value twice (merged)": field(1, b"k.merged") + field(2, field(STRING, b"a")) + field(2, b"\x18\x05"),
    "two oneof fields": raw_key_value(b"k.oneof", field(STRING, b"s") + b"\x18\x07"),
    "bool 2": raw_key_value(b"k.bool2", b"\x10\x02"),
    "bool padded": raw_key_value(b"k.boolpad", b"\x10\x81\x00"),
    "int padded varint": raw_key_value(b"k.intpad", b"\x18\x85\x80\x00"),
    "int 10-byte varint": raw_key_value(b"k.int10", b"\x18" + b"\xff" * 9 + b"\x01"),
    "overlong length": b"\x0a\x85\x00hello" + field(2, field(STRING, b"v")),
    "unknown field in KeyValue": raw_key_value(b"k.unknown", field(STRING, b"v")) + b"\x18\x01",
    "unknown field in AnyValue": raw_key_value(b"k.unknown2", field(STRING, b"v") + b"\x48\x01"),
    "empty AnyValue": raw_key_value(b"k.empty", b""),
    "no value": field(1, b"k.novalue"),
    "empty key": field(2, field(STRING, b"v")),
    "string index": raw_key_value(b"k.strindex", b"\x40\x03"),
    "double as fixed64": raw_key_value(b"k.double", b"\x21" + struct.pack("<d", 2.5)),
    "packed-looking array": raw_key_value(
        b"k.array", field(ARRAY, field(1, b"\x18\x01") + field(1, b"\x18\x02"))
    ),
    "array with an empty item": raw_key_value(
        b"k.arrayempty", field(ARRAY, field(1, b"") + field(1, b"\x18\x02"))
    ),
    "array with a junk field": raw_key_value(
        b"k.arrayjunk", field(ARRAY, field(1, b"\x18\x01") + b"\x10\x01")
    ),
    "array with an unknown field": raw_key_value(
        b"k.arrayunknown", field(ARRAY, field(1, b"\x18\x01") + field(2, b"\x18\x01"))
    ),
    "array of two-field items": raw_key_value(b"k.array2", field(ARRAY, field(1, b"\x18\x01\x18\x02"))),
    "kvlist": raw_key_value(b"k.kvlist", field(6, field(1, raw_key_value(b"inner", b"\x18\x01")))),
    "bytes": raw_key_value(b"k.bytes", field(7, b"\x00\x01")),
}


def span_with_raw_attributes(raw: Iterable[bytes], *, scope: str = "callscope.instrumentation") -> bytes:
    """A request body whose one span carries callscope's attributes and then ``raw`` KeyValues."""
    span = readable(callscope_record(next(_ids)))
    request = encode_spans([span])
    resource_spans = request.resource_spans[0]
    resource_spans.scope_spans[0].scope.name = scope
    span_bytes = resource_spans.scope_spans[0].spans[0].SerializeToString()
    span_bytes += b"".join(field(9, data) for data in raw)  # repeated fields concatenate
    scope_bytes = field(1, resource_spans.scope_spans[0].scope.SerializeToString()) + field(2, span_bytes)
    resource_bytes = field(1, resource_spans.resource.SerializeToString()) + field(2, scope_bytes)
    return field(1, resource_bytes)


@pytest.mark.parametrize("case", sorted(RAW_KEY_VALUES))
def test_raw_encodings_decode_as_the_real_parser_reads_them(case: str) -> None:
    data = RAW_KEY_VALUES[case]
    expected = attributes([KeyValue.FromString(data)])
    assert repr(plain(SpanRowDecoder().attributes([data]))) == repr(plain(expected))


@pytest.mark.parametrize("scope", ["callscope.instrumentation", "other"])
def test_bodies_with_raw_encodings_give_the_reference_rows(scope: str) -> None:
    assert_same_rows(span_with_raw_attributes(RAW_KEY_VALUES.values(), scope=scope))


def test_spans_with_invalid_ids_are_skipped_as_the_reference_skips_them() -> None:
    request = encode_spans([readable(callscope_record(i)) for i in range(3)])
    spans = request.resource_spans[0].scope_spans[0].spans
    spans[0].trace_id = bytes(16)
    spans[1].span_id = b"\x01\x02"
    rows = assert_same_rows(request.SerializeToString())
    assert [row[1] for _, row in rows] == [spans[2].span_id.hex()]


# --- any AnyValue, and damaged encodings of it --------------------------------------------------

_SCALARS = st.one_of(
    st.none(),
    st.text(max_size=6),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(),
    st.binary(max_size=4),
)
_TREES = st.recursive(
    _SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(st.text(max_size=3), children, max_size=3)
    ),
    max_leaves=8,
)


#: Python type -> ``AnyValue`` field, in the order the exporter tests them (bool before int).
_FIELDS = (
    (bool, "bool_value"),
    (str, "string_value"),
    (int, "int_value"),
    (float, "double_value"),
    (bytes, "bytes_value"),
)


def any_value(value: Any) -> AnyValue:
    """The ``AnyValue`` OTLP exporters write for a Python value."""
    message = AnyValue()
    if value is None:
        return message
    for kind, name in _FIELDS:
        if isinstance(value, kind):
            setattr(message, name, value)
            return message
    if isinstance(value, list):
        return AnyValue(array_value=ArrayValue(values=[any_value(item) for item in value]))
    return AnyValue(
        kvlist_value=KeyValueList(values=[KeyValue(key=k, value=any_value(v)) for k, v in value.items()])
    )


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(key=st.text(max_size=6), value=_TREES, data=st.data())
def test_any_key_value_and_any_damage_to_it_decodes_as_the_real_parser(
    key: str, value: Any, data: Any
) -> None:
    encoded = bytearray(KeyValue(key=key, value=any_value(value)).SerializeToString())
    damage = data.draw(st.sampled_from(["none", "flip", "insert", "delete", "append"]))
    if damage not in {"none", "append"} and not encoded:
        damage = "append"
    position = data.draw(st.integers(min_value=0, max_value=max(len(encoded) - 1, 0)))
    byte = data.draw(st.integers(min_value=0, max_value=255))
    if damage == "flip":
        encoded[position] = byte
    elif damage == "insert":
        encoded.insert(position, byte)
    elif damage == "delete":
        del encoded[position]
    elif damage == "append":
        encoded += data.draw(st.binary(max_size=4))
    raw = bytes(encoded)
    try:
        expected = attributes([KeyValue.FromString(raw)])
    except DecodeError:
        with pytest.raises(DecodeError):
            SpanRowDecoder().attributes([raw])
        return
    decoder = SpanRowDecoder()
    assert repr(plain(decoder.attributes([raw]))) == repr(plain(expected))
    assert repr(plain(decoder.attributes([raw]))) == repr(plain(expected))  # again, from the cache


# --- the cache ---------------------------------------------------------------------------------


def test_a_small_cache_starts_over_and_gives_the_same_rows() -> None:
    decoder = SpanRowDecoder(cache_entries=7)
    for batch in range(4):
        spans = [readable(callscope_record(batch * 50 + i), fresh_ids=True) for i in range(50)]
        spans += peer_spans() + make_spans(5)
        assert_same_rows(otlp_body(spans), decoder)
        assert 0 < decoder.cached_attributes <= 7


def test_a_warm_cache_gives_the_same_rows_for_a_repeated_body() -> None:
    decoder = SpanRowDecoder()
    body = otlp_body(callscope_spans() + peer_spans())
    first = assert_same_rows(body, decoder)
    assert decoder.cached_attributes > 0
    assert repr(plain(decoder.rows(body))) == repr(plain(first))


def test_large_attributes_are_not_cached() -> None:
    decoder = SpanRowDecoder()
    small = KeyValue(key="k", value=AnyValue(string_value="v")).SerializeToString()
    large = KeyValue(key="prompt", value=AnyValue(string_value="p" * CACHE_MAX_BYTES)).SerializeToString()
    assert decoder.attributes([small, large]) == {"k": "v", "prompt": "p" * CACHE_MAX_BYTES}
    assert decoder.cached_attributes == 1


def test_a_body_the_view_cannot_read_raises() -> None:
    with pytest.raises(DecodeError):
        SpanRowDecoder().rows(b"\x0a\x05\x01")


# --- in the converter ---------------------------------------------------------------------------


def test_a_span_that_fails_to_convert_is_counted_and_its_request_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spans = make_spans(4, genai=False) + peer_spans()[:3]
    broken = format(spans[1].context.span_id, "016x")
    real = span_values

    def failing(record: SpanRecord) -> tuple[str, list[Any]]:
        if record.span_id == broken:
            raise ValueError("a bug")
        return real(record)

    monkeypatch.setattr("callscope.collector.service.span_rows.span_values", failing)
    data = tmp_path / "data"
    conversion = Conversion(DatasetWriter(str(data), max_age_s=None), tmp_path / "failed")
    body = otlp_body(spans)
    assert conversion.convert(body) == len(spans) - 1
    done = conversion.flush()
    assert done.conversion_errors == 1
    assert done.rows == {"spans": 3, "calls": 3}
    [kept] = (tmp_path / "failed").iterdir()
    assert kept.read_bytes() == body
    written = query(data, "spans", "SELECT span_id FROM t ORDER BY span_id")
    assert broken not in {span_id for (span_id,) in written}
    assert len(written) == 3
