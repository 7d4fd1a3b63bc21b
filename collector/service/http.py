"""OTLP/HTTP front end (Starlette): ``POST /v1/traces``, plus ``/metrics``, ``/healthz`` and ``/readyz``.

Answers follow the OTLP/HTTP specification: the same content type as the
request (binary protobuf or JSON), an ``ExportTraceServiceResponse`` on success,
a ``google.rpc.Status`` with a readable message on failure, ``Retry-After``
on 429/503. Bodies are limited twice, by ``Content-Length`` before reading and
by their decompressed size while inflating (a small gzip bomb stays small).
"""

from __future__ import annotations

import asyncio
import json
import math
import zlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Final

from callscope.collector.service.errors import (
    BadRequest,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    RequestRejected,
    SpoolError,
    Unavailable,
    UnsupportedMediaType,
)
from callscope.collector.service.prometheus import CONTENT_TYPE as PROMETHEUS_CONTENT_TYPE
from callscope.collector.service.receiver import GRPC_CODE_NUMBERS, Encoding, Receiver
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

if TYPE_CHECKING:
    from google.protobuf.message import Message

TRACES_PATH: Final = "/v1/traces"
PROTOBUF: Final = "application/x-protobuf"
JSON: Final = "application/json"
_MEDIA_TYPES: Final[dict[str, Encoding]] = {
    PROTOBUF: "protobuf",
    "application/protobuf": "protobuf",
    "application/vnd.google.protobuf": "protobuf",
    JSON: "json",
}
#: Bodies of early-rejected requests are read and discarded up to this many times the size limit, so
#: the client (which sends the whole body before reading) sees the answer instead of a reset connection.
_DRAIN_FACTOR: Final = 4


def create_app(receiver: Receiver, *, max_request_bytes: int) -> Starlette:
    """The ASGI application of the receiver."""
    handlers = _Handlers(receiver, max_request_bytes)
    routes = [
        Route(TRACES_PATH, handlers.traces, methods=["POST"]),
        Route("/metrics", handlers.metrics, methods=["GET"]),
        Route("/healthz", handlers.healthz, methods=["GET"]),
        Route("/readyz", handlers.readyz, methods=["GET"]),
    ]
    return Starlette(routes=routes, exception_handlers={HTTPException: handlers.http_exception})


class _Handlers:
    def __init__(self, receiver: Receiver, max_request_bytes: int) -> None:
        self.receiver = receiver
        self.max_request_bytes = max_request_bytes

    async def traces(self, request: Request) -> Response:
        receiver = self.receiver
        content_type = request.headers.get("content-type")
        encoding = _encoding_or_none(content_type)  # answers use the request's encoding, errors too
        try:
            try:
                receiver.authorize(request.headers.get("authorization"))
                if encoding is None:
                    shown = content_type or "(none)"
                    raise UnsupportedMediaType(
                        f"Content-Type {shown!r} is not supported; send {PROTOBUF} or {JSON}"
                    )
                body = await self._read_body(request)
            except RequestRejected:
                await self._drain(request)
                raise
            try:
                payload = decompress(body, request.headers.get("content-encoding"), self.max_request_bytes)
                prepared = receiver.prepare(payload, encoding, "http")
                durable = receiver.submit(prepared, "http")
            finally:
                receiver.pipeline.release(len(body))
            if durable is not None:
                try:
                    await asyncio.wrap_future(durable)
                except SpoolError as err:
                    raise Unavailable(f"could not make the spans durable: {err}", 5.0) from None
        except RequestRejected as err:
            receiver.failed(err, "http")
            return error_response(err, encoding)
        return _message_response(receiver.succeeded(prepared, "http"), encoding)

    async def _read_body(self, request: Request) -> bytes:
        limit = self.max_request_bytes
        declared = request.headers.get("content-length")
        if declared is not None:
            try:
                length = int(declared)
            except ValueError:
                raise BadRequest(f"Content-Length {declared!r} is not a number") from None
            if length > limit:
                raise PayloadTooLarge(f"request body of {length} bytes is over the {limit}-byte limit")
        pipeline = self.receiver.pipeline
        chunks: list[bytes] = []
        size = 0
        try:
            async for chunk in request.stream():
                if not chunk:
                    continue
                pipeline.reserve(len(chunk))  # Overloaded when the buffer is full
                size += len(chunk)
                chunks.append(chunk)
                if size > limit:
                    raise PayloadTooLarge(f"request body is over the {limit}-byte limit")
        except RequestRejected:
            pipeline.release(size)
            raise
        return b"".join(chunks)

    async def _drain(self, request: Request) -> None:
        """Read what is left of a rejected request's body, up to a bound, without keeping it."""
        budget = self.max_request_bytes * _DRAIN_FACTOR
        try:
            async for chunk in request.stream():
                budget -= len(chunk)
                if budget < 0:
                    return
        except Exception:  # body already consumed, or the client went away
            return

    async def metrics(self, request: Request) -> Response:
        try:
            self.receiver.authorize(request.headers.get("authorization"))
        except RequestRejected as err:
            return error_response(err, None)
        return Response(self.receiver.metrics.render(), media_type=PROMETHEUS_CONTENT_TYPE)

    async def healthz(self, request: Request) -> Response:
        """Liveness: 503 once the writer thread or the spool failed for good (a restart replays)."""
        if self.receiver.pipeline.alive:
            return _json_response({"status": "ok"}, 200)
        return _json_response({"status": "failed", "restart": "the spool is replayed at start-up"}, 503)

    async def readyz(self, request: Request) -> Response:
        """Readiness: the spool accepts writes and the dataset is being written."""
        pipeline = self.receiver.pipeline
        ready = pipeline.healthy
        body = {
            "status": "ready" if ready else "unavailable",
            "buffered_bytes": pipeline.buffered_bytes,
            "queued_requests": pipeline.queued_requests,
            "dataset_writes_ok": pipeline.healthy,
        }
        return _json_response(body, 200 if ready else 503)

    async def http_exception(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        error: RequestRejected
        if exc.status_code == 404:
            error = NotFound(
                f"no such path: {request.url.path} (OTLP traces go to POST {TRACES_PATH}; "
                "also GET /metrics, /healthz, /readyz)"
            )
        elif exc.status_code == 405:
            error = MethodNotAllowed(f"{request.method} is not allowed on {request.url.path}")
        else:
            error = BadRequest(str(exc.detail))
            error.http_status = exc.status_code
        self.receiver.failed(error, "http")
        response = error_response(error, _encoding_or_none(request.headers.get("content-type")))
        response.headers.update(exc.headers or {})
        return response


def _encoding_or_none(content_type: str | None) -> Encoding | None:
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    return _MEDIA_TYPES.get(media_type)


def decompress(body: bytes, content_encoding: str | None, limit: int) -> bytes:
    """Undo ``Content-Encoding`` (gzip, deflate or none) without ever producing more than ``limit`` bytes."""
    coding = (content_encoding or "identity").strip().lower()
    if coding in ("", "identity", "none"):
        return body
    if coding in ("gzip", "x-gzip"):
        wbits = 16 + zlib.MAX_WBITS
    elif coding == "deflate":
        # HTTP's "deflate" is zlib-wrapped (RFC 9110); some clients send raw deflate, so accept both.
        wbits = (
            zlib.MAX_WBITS
            if body[:1] and (body[0] & 0x0F) == 8 and int.from_bytes(body[:2], "big") % 31 == 0
            else -15
        )
    else:
        raise UnsupportedMediaType(f"Content-Encoding {coding!r} is not supported; use gzip, deflate or none")
    out = bytearray()
    data = body
    try:
        while data:
            inflater = zlib.decompressobj(wbits)
            # max_length is always >= 1 here (0 would mean "unlimited").
            out += inflater.decompress(data, limit + 1 - len(out))
            while inflater.unconsumed_tail and len(out) <= limit:
                out += inflater.decompress(inflater.unconsumed_tail, limit + 1 - len(out))
            if len(out) > limit:
                raise PayloadTooLarge(f"request body is over the {limit}-byte limit once decompressed")
            if not inflater.eof:
                raise BadRequest(f"{coding} body is truncated")
            data = inflater.unused_data if wbits > zlib.MAX_WBITS else b""  # gzip may have several members
    except zlib.error as err:
        raise BadRequest(f"request body is not valid {coding} data: {err}") from None
    return bytes(out)


def error_response(error: RequestRejected, encoding: Encoding | None) -> Response:
    """An OTLP error answer: ``google.rpc.Status`` in the request's encoding (JSON when unknown)."""
    code = GRPC_CODE_NUMBERS.get(error.grpc_code, 2)
    headers: dict[str, str] = {}
    if error.retry_after is not None:
        headers["Retry-After"] = str(max(1, math.ceil(error.retry_after)))
    if error.http_status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="callscope"'
    if encoding == "protobuf":
        from google.rpc.status_pb2 import Status

        body = Status(code=code, message=str(error)).SerializeToString()
        return Response(body, status_code=error.http_status, media_type=PROTOBUF, headers=headers)
    return _json_response({"code": code, "message": str(error)}, error.http_status, headers)


def _message_response(message: Message, encoding: Encoding | None) -> Response:
    if encoding == "json":
        from google.protobuf.json_format import MessageToJson

        return Response(MessageToJson(message, indent=None), media_type=JSON)
    return Response(message.SerializeToString(), media_type=PROTOBUF)


def _json_response(body: object, status: int, headers: Mapping[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status_code=status, media_type=JSON, headers=headers)
