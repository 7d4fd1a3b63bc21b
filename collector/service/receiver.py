"""What an OTLP export request goes through, whichever transport carried it.

The HTTP and gRPC front ends are thin: they extract the credentials and the
body, call :meth:`Receiver.authorize`, :meth:`Receiver.prepare` and
:meth:`Receiver.submit`, wait for the returned future (the spool's fsync) and
turn the result or the :class:`~.errors.RequestRejected` into their own
protocol's answer. Metrics are counted here, once.
"""

from __future__ import annotations

import hmac
from concurrent.futures import Future
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Literal

from callscope.collector.service.decode import SpanCount, count_spans
from callscope.collector.service.errors import BadRequest, RequestRejected, Unauthorized
from callscope.collector.service.metrics import ServiceMetrics
from callscope.collector.service.otlp_json import parse_json_request
from callscope.collector.service.pipeline import Pipeline

if TYPE_CHECKING:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

Transport = Literal["http", "grpc"]
Encoding = Literal["protobuf", "json"]

#: gRPC status code numbers, for ``google.rpc.Status.code`` in HTTP error bodies.
GRPC_CODE_NUMBERS: Final = {
    "OK": 0,
    "INVALID_ARGUMENT": 3,
    "NOT_FOUND": 5,
    "RESOURCE_EXHAUSTED": 8,
    "UNIMPLEMENTED": 12,
    "UNAVAILABLE": 14,
    "UNAUTHENTICATED": 16,
}


@dataclass(frozen=True, slots=True)
class Prepared:
    """A decoded, counted request ready to be spooled."""

    payload: bytes  # binary protobuf, whatever the request arrived as
    spans: SpanCount


class Receiver:
    """Authentication, decoding, counting and submission shared by both transports."""

    def __init__(self, pipeline: Pipeline, metrics: ServiceMetrics, token: str | None) -> None:
        self.pipeline = pipeline
        self.metrics = metrics
        self._token = token.encode() if token else None

    @property
    def requires_token(self) -> bool:
        return self._token is not None

    def authorize(self, authorization: str | None) -> None:
        """Check an ``Authorization`` header (or gRPC ``authorization`` metadata) value."""
        if self._token is None:
            return
        scheme, _, credentials = (authorization or "").strip().partition(" ")
        # compare_digest: the time taken must not reveal how much of the token matched.
        if scheme.lower() != "bearer" or not hmac.compare_digest(credentials.strip().encode(), self._token):
            raise Unauthorized(
                "missing or wrong bearer token: send 'Authorization: Bearer <token>' "
                "(OTEL_EXPORTER_OTLP_HEADERS='Authorization=Bearer <token>')"
            )

    def prepare(self, body: bytes, encoding: Encoding, transport: Transport) -> Prepared:
        """Decode ``body`` and count its spans; raises :class:`BadRequest` for undecodable bodies."""
        from google.protobuf.message import DecodeError
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

        self.metrics.request_bytes.inc(transport, amount=len(body))
        if encoding == "json":
            request = parse_json_request(body)
            payload = request.SerializeToString()
        else:
            try:
                request = ExportTraceServiceRequest.FromString(body)
            except (DecodeError, RecursionError) as err:
                raise BadRequest(f"request body is not a protobuf ExportTraceServiceRequest: {err}") from None
            payload = body
        return Prepared(payload, count_spans(request))

    def submit(self, prepared: Prepared, transport: Transport) -> Future[None] | None:
        """Spool and queue the request; None when there is nothing to store (no valid spans)."""
        spans = prepared.spans
        if spans.accepted == 0:
            return None
        try:
            return self.pipeline.submit(prepared.payload)
        except RequestRejected as err:
            self.metrics.spans_rejected.inc(transport, err.reason, amount=spans.total)
            raise

    def succeeded(self, prepared: Prepared, transport: Transport) -> ExportTraceServiceResponse:
        """Count an acknowledged request and build its response (``partial_success`` for bad spans)."""
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

        spans = prepared.spans
        self.metrics.spans_accepted.inc(transport, amount=spans.accepted)
        response = ExportTraceServiceResponse()
        if spans.rejected:
            self.metrics.spans_rejected.inc(transport, "invalid_span", amount=spans.rejected)
            self.metrics.requests.inc(transport, "partial")
            response.partial_success.rejected_spans = spans.rejected
            response.partial_success.error_message = (
                f"{spans.rejected} of {spans.total} spans rejected: {spans.reason}"
            )
        else:
            self.metrics.requests.inc(transport, "ok")
        return response

    def failed(self, error: RequestRejected, transport: Transport) -> None:
        self.metrics.requests.inc(transport, error.reason)
