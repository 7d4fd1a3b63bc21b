"""OTLP/JSON request bodies into ``ExportTraceServiceRequest`` messages.

OTLP/JSON is protobuf's JSON mapping with deviations (opentelemetry-proto
``docs/specification.md``, "JSON Protobuf Encoding"): ``traceId`` / ``spanId``
are case-insensitive hex, not base64; enums are integers; unknown fields are
ignored. Protobuf's own JSON mapping already accepts enum names, 64-bit
integers as strings or numbers, and ``snake_case`` keys, so this module only
rewrites the ids before handing the document to ``json_format.ParseDict``.
Exporters that wrongly send base64 ids (the plain protobuf mapping) are
accepted too: the two encodings never have the same length.

The message is then serialized like any binary request, so the spool, the
replay and the writer only ever see one format.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import TYPE_CHECKING, Any, Final

from callscope.collector.service.errors import BadRequest

if TYPE_CHECKING:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

#: id field (both spellings protobuf's JSON parser accepts) -> byte length
_ID_FIELDS: Final[dict[str, int]] = {
    "traceId": 16,
    "trace_id": 16,
    "spanId": 8,
    "span_id": 8,
    "parentSpanId": 8,
    "parent_span_id": 8,
}


def parse_json_request(body: bytes) -> ExportTraceServiceRequest:
    """Parse an OTLP/JSON ``ExportTraceServiceRequest``; raises :class:`BadRequest` with the reason."""
    from google.protobuf import json_format
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise BadRequest(f"request body is not valid JSON: {err}") from None
    except RecursionError:
        raise BadRequest("request body is not valid JSON: nested too deeply") from None
    if not isinstance(document, dict):
        raise BadRequest(f"OTLP/JSON body must be an object, got {type(document).__name__}")
    for span in _spans(document):
        _hex_ids_to_base64(span)
        for link in _list(span, "links"):
            _hex_ids_to_base64(link)
    request = ExportTraceServiceRequest()
    try:
        json_format.ParseDict(document, request, ignore_unknown_fields=True)
    except (json_format.ParseError, ValueError, TypeError, RecursionError) as err:
        raise BadRequest(f"request body is not an OTLP/JSON ExportTraceServiceRequest: {err}") from None
    return request


def _list(container: dict[str, Any], camel: str) -> list[dict[str, Any]]:
    """A repeated field under its lowerCamelCase or snake_case key (only the objects in it)."""
    snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in camel)
    value = container.get(camel, container.get(snake))
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _spans(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        span
        for resource_spans in _list(document, "resourceSpans")
        for scope_spans in _list(resource_spans, "scopeSpans")
        for span in _list(scope_spans, "spans")
    ]


def _hex_ids_to_base64(message: dict[str, Any]) -> None:
    for key, size in _ID_FIELDS.items():
        value = message.get(key)
        if isinstance(value, str) and value:
            message[key] = _id_as_base64(key, value, size)


def _id_as_base64(key: str, value: str, size: int) -> str:
    if len(value) == 2 * size:
        try:
            return base64.b64encode(bytes.fromhex(value)).decode("ascii")
        except ValueError:
            pass
    else:
        try:
            if len(base64.b64decode(value, validate=True)) == size:
                return value  # already base64, as protobuf's plain JSON mapping writes it
        except (binascii.Error, ValueError):
            pass
    raise BadRequest(f"{key} {value[:64]!r} is not {2 * size} hex digits")
