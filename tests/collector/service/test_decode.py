"""OTLP protobuf and OTLP/JSON requests into ``SpanRecord``s, value by value."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from callscope.collector.records import SpanEvent, SpanRecord
from callscope.collector.service.decode import attributes, count_spans, to_records
from callscope.collector.service.errors import BadRequest
from callscope.collector.service.otlp_json import parse_json_request
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from tests.collector.service.helpers import make_spans, otlp_body

TRACE = "5b8efff798038103d269b633813fc60c"
SPAN = "eee19b7ec3c1b174"
PARENT = "eee19b7ec3c1b173"


def any_value(**kwargs: Any) -> AnyValue:
    return AnyValue(**kwargs)


def test_every_attribute_value_kind_becomes_a_storable_value() -> None:
    from opentelemetry.proto.common.v1.common_pb2 import ArrayValue, KeyValueList

    def array(*values: AnyValue) -> AnyValue:
        return AnyValue(array_value=ArrayValue(values=list(values)))

    key_values = [
        KeyValue(key="s", value=any_value(string_value="text")),
        KeyValue(key="empty_string", value=any_value(string_value="")),
        KeyValue(key="b", value=any_value(bool_value=False)),
        KeyValue(key="i", value=any_value(int_value=-(2**63))),
        KeyValue(key="d", value=any_value(double_value=0.25)),
        KeyValue(key="strings", value=array(any_value(string_value="a"), any_value(string_value="b"))),
        KeyValue(key="ints", value=array(any_value(int_value=1), any_value(int_value=2))),
        KeyValue(key="numbers", value=array(any_value(int_value=1), any_value(double_value=2.5))),
        KeyValue(key="mixed", value=array(any_value(int_value=1), any_value(string_value="x"))),
        KeyValue(key="nested", value=array(array(any_value(int_value=1)))),
        KeyValue(
            key="map",
            value=AnyValue(
                kvlist_value=KeyValueList(
                    values=[
                        KeyValue(key="k", value=any_value(bytes_value=b"\x00\xff")),
                        KeyValue(key="nan", value=any_value(double_value=float("nan"))),
                        KeyValue(key="none", value=AnyValue()),
                    ]
                )
            ),
        ),
        KeyValue(key="bytes", value=any_value(bytes_value=b"\x01\x02")),
        KeyValue(key="unset", value=AnyValue()),
        KeyValue(key="empty_array", value=array()),
    ]
    assert attributes(key_values) == {
        "s": "text",
        "empty_string": "",
        "b": False,
        "i": -(2**63),
        "d": 0.25,
        "strings": ["a", "b"],
        "ints": [1, 2],
        "numbers": [1.0, 2.5],
        "mixed": '[1,"x"]',
        "nested": "[[1]]",
        "map": json.dumps(
            {"k": base64.b64encode(b"\x00\xff").decode(), "nan": "nan", "none": None}, separators=(",", ":")
        ),
        "bytes": base64.b64encode(b"\x01\x02").decode(),
        "empty_array": [],
    }


def test_a_real_exporter_request_round_trips_every_field() -> None:
    spans = make_spans(3, service="svc")
    request = ExportTraceServiceRequest.FromString(otlp_body(spans))
    records = to_records(request)
    assert len(records) == 3
    for span, record in zip(spans, records, strict=True):
        assert span.context is not None
        assert record.trace_id == format(span.context.trace_id, "032x")
        assert record.span_id == format(span.context.span_id, "016x")
        assert record.parent_span_id is None
        assert record.kind == "client"
        assert (record.start_time_ns, record.end_time_ns) == (span.start_time, span.end_time)
        assert dict(record.attributes) == {
            key: list(value) if isinstance(value, tuple) else value
            for key, value in (span.attributes or {}).items()
        }
        assert record.resource["service.name"] == "svc"
        assert record.scope_name == "callscope.instrumentation"
    assert [r.status_code for r in records] == ["unset", "unset", "unset"]


def test_json_follows_the_otlp_deviations_from_protobuf_json() -> None:
    document = {
        "resourceSpans": [
            {
                "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "svc"}}]},
                "scopeSpans": [
                    {
                        "scope": {"name": "lib"},
                        "spans": [
                            {
                                "traceId": TRACE.upper(),
                                "spanId": SPAN,
                                "parentSpanId": PARENT,
                                "name": "a",
                                "kind": 2,  # integer enum, as the spec requires
                                "startTimeUnixNano": "1544712660000000000",
                                "endTimeUnixNano": 1544712661000000000,
                                "status": {"code": 1},
                                "events": [
                                    {
                                        "timeUnixNano": "1544712660500000000",
                                        "name": "exception",
                                        "attributes": [
                                            {"key": "exception.type", "value": {"stringValue": "E"}}
                                        ],
                                    }
                                ],
                                "links": [{"traceId": TRACE, "spanId": PARENT}],
                                "notAField": 1,
                            },
                            {
                                # base64 ids, as exporters using protobuf's plain JSON mapping send them
                                "traceId": base64.b64encode(bytes.fromhex(TRACE)).decode(),
                                "spanId": base64.b64encode(bytes.fromhex(PARENT)).decode(),
                                "name": "b",
                                "kind": "SPAN_KIND_CONSUMER",  # enum names, as some encoders write
                                "status": {"code": "STATUS_CODE_ERROR", "message": "bad"},
                            },
                        ],
                    }
                ],
            }
        ]
    }
    request = parse_json_request(json.dumps(document).encode())
    first, second = to_records(request)
    assert first == SpanRecord(
        trace_id=TRACE,
        span_id=SPAN,
        parent_span_id=PARENT,
        name="a",
        kind="server",
        start_time_ns=1544712660000000000,
        end_time_ns=1544712661000000000,
        attributes={},
        resource={"service.name": "svc"},
        status_code="ok",
        status_message=None,
        scope_name="lib",
        events=(SpanEvent("exception", 1544712660500000000, {"exception.type": "E"}),),
    )
    assert request.resource_spans[0].scope_spans[0].spans[0].links[0].span_id.hex() == PARENT
    assert (second.trace_id, second.span_id, second.kind, second.status_code, second.status_message) == (
        TRACE,
        PARENT,
        "consumer",
        "error",
        "bad",
    )


def test_snake_case_keys_are_accepted_too() -> None:
    body = json.dumps(
        {
            "resource_spans": [
                {"scope_spans": [{"spans": [{"trace_id": TRACE, "span_id": SPAN, "name": "x"}]}]}
            ]
        }
    )
    [record] = to_records(parse_json_request(body.encode()))
    assert (record.trace_id, record.span_id, record.kind) == (TRACE, SPAN, "internal")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"[1, 2]", "must be an object"),
        (b"\xff\xfe", "not valid JSON"),
        (b'{"resourceSpans": 5}', "not an OTLP/JSON ExportTraceServiceRequest"),
        (
            b'{"resourceSpans":[{"scopeSpans":[{"spans":[{"spanId":"abc"}]}]}]}',
            "spanId 'abc' is not 16 hex digits",
        ),
        (
            b'{"resourceSpans":[{"scopeSpans":[{"spans":[{"startTimeUnixNano":"soon"}]}]}]}',
            "not an OTLP/JSON",
        ),
        (b"[" * 100_000 + b"]" * 100_000, "not valid JSON"),
    ],
)
def test_bad_json_is_a_bad_request_with_the_reason(body: bytes, message: str) -> None:
    with pytest.raises(BadRequest, match=message):
        parse_json_request(body)


def test_spans_with_bad_ids_are_counted_and_skipped() -> None:
    request = ExportTraceServiceRequest.FromString(otlp_body(make_spans(5)))
    spans = request.resource_spans[0].scope_spans[0].spans
    spans[0].trace_id = b""
    spans[1].span_id = b"\x00" * 8
    spans[2].parent_span_id = b"\x01" * 3
    count = count_spans(request)
    assert (count.total, count.rejected, count.accepted) == (5, 3, 2)
    assert count.reason is not None
    assert "trace_id" in count.reason
    assert [record.span_id for record in to_records(request)] == [
        spans[3].span_id.hex(),
        spans[4].span_id.hex(),
    ]
