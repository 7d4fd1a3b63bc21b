"""OTLP/gRPC front end: ``opentelemetry.proto.collector.trace.v1.TraceService/Export``.

The method is registered with no request deserializer, so the handler gets
the raw bytes: they are what the spool stores, and a malformed message gets a
clear ``INVALID_ARGUMENT`` instead of grpcio's generic deserialization error.
Retryable refusals carry ``RetryInfo`` both the way the Python exporter reads
it (``google.rpc.retryinfo-bin`` trailer) and the standard rich-status way
(``grpc-status-details-bin``), so exporters in every language back off.
"""

from __future__ import annotations

import math
from concurrent import futures
from typing import TYPE_CHECKING, Final

import grpc
from callscope.collector.service.errors import RequestRejected, ServiceError, SpoolError, Unavailable
from callscope.collector.service.receiver import GRPC_CODE_NUMBERS, Receiver

if TYPE_CHECKING:
    from collections.abc import Sequence

SERVICE: Final = "opentelemetry.proto.collector.trace.v1.TraceService"
#: How long a handler waits for the spool's fsync before telling the client to retry.
_DURABLE_TIMEOUT_S: Final = 30.0


class GrpcReceiver:
    """A grpcio server exposing the OTLP trace service."""

    def __init__(
        self,
        receiver: Receiver,
        *,
        host: str,
        port: int,
        max_request_bytes: int,
        workers: int = 8,
        tls: tuple[bytes, bytes] | None = None,
    ) -> None:
        self.receiver = receiver
        self.server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="callscope-grpc"),
            options=[
                ("grpc.max_receive_message_length", max_request_bytes),
                ("grpc.max_send_message_length", 4 * 2**20),
                ("grpc.so_reuseport", 0),  # a second collector on the same port must fail, not share it
                # Long-lived HTTP/2 connections would pin a client to one replica behind an L4 load
                # balancer; closing them every few minutes (gracefully) lets clients rebalance.
                ("grpc.max_connection_age_ms", 300_000),
                ("grpc.max_connection_age_grace_ms", 30_000),
            ],
        )
        handler = grpc.unary_unary_rpc_method_handler(self._export)  # raw bytes in and out
        self.server.add_generic_rpc_handlers(
            (grpc.method_handlers_generic_handler(SERVICE, {"Export": handler}),)
        )
        address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        try:
            if tls is None:
                self.port = self.server.add_insecure_port(address)
            else:
                key, cert = tls
                self.port = self.server.add_secure_port(address, grpc.ssl_server_credentials([(key, cert)]))
        except RuntimeError as err:
            raise ServiceError(f"cannot listen for OTLP/gRPC on {address}: {err}") from None
        if not self.port:
            raise ServiceError(
                f"cannot listen for OTLP/gRPC on {address} (in use?); pick another --grpc-port"
            )

    def start(self) -> None:
        self.server.start()

    def stop(self, grace: float) -> None:
        """Refuse new calls and wait up to ``grace`` seconds for those in flight."""
        self.server.stop(grace).wait()

    def _export(self, request: bytes, context: grpc.ServicerContext) -> bytes:
        receiver = self.receiver
        try:
            receiver.authorize(_metadata(context.invocation_metadata(), "authorization"))
            prepared = receiver.prepare(request, "protobuf", "grpc")
            durable = receiver.submit(prepared, "grpc")
            if durable is not None:
                try:
                    durable.result(timeout=_DURABLE_TIMEOUT_S)
                except (SpoolError, futures.TimeoutError) as err:
                    raise Unavailable(f"could not make the spans durable: {err}", 5.0) from None
        except RequestRejected as err:
            receiver.failed(err, "grpc")
            if err.retry_after is not None:
                context.set_trailing_metadata(_retry_trailers(err))
            context.abort(grpc.StatusCode[err.grpc_code], str(err))
        return receiver.succeeded(prepared, "grpc").SerializeToString()


def _metadata(metadata: Sequence[tuple[str, str | bytes]] | None, key: str) -> str | None:
    for name, value in metadata or ():
        if name == key:
            return value.decode(errors="replace") if isinstance(value, bytes) else value
    return None


def _retry_trailers(error: RequestRejected) -> tuple[tuple[str, bytes], ...]:
    from google.protobuf import any_pb2, duration_pb2
    from google.rpc import error_details_pb2, status_pb2

    assert error.retry_after is not None
    seconds = math.floor(error.retry_after)
    delay = duration_pb2.Duration(seconds=seconds, nanos=int((error.retry_after - seconds) * 1e9))
    retry_info = error_details_pb2.RetryInfo(retry_delay=delay)
    detail = any_pb2.Any()
    detail.Pack(retry_info)
    status = status_pb2.Status(code=GRPC_CODE_NUMBERS[error.grpc_code], message=str(error), details=[detail])
    return (
        ("google.rpc.retryinfo-bin", retry_info.SerializeToString()),
        ("grpc-status-details-bin", status.SerializeToString()),
    )
