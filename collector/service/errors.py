"""Errors of the OTLP receiver service.

Two kinds, both in the collector's :class:`CollectorError` family:

* :class:`ServiceError` and its subclasses stop ``callscope collect`` with a
  one-line message (a port in use, a spool another collector holds).
* :class:`RequestRejected` and its subclasses never reach the CLI: each one is
  the answer to one bad or unlucky request, carrying its HTTP status and gRPC
  code (by name, so this module does not import grpc) and, for retryable
  ones, how long the client should wait.
"""

from __future__ import annotations

from callscope.collector.errors import CollectorError


class ServiceError(CollectorError):
    """``callscope collect`` cannot start or keep running."""


class SpoolError(ServiceError):
    """The write-ahead spool is unusable: locked by another collector, unwritable, or failing fsync."""


class RequestRejected(CollectorError):
    """One request answered with an error; ``str(err)`` is the message sent to the client."""

    http_status: int = 400
    grpc_code: str = "INVALID_ARGUMENT"
    #: Seconds the client should wait before retrying; None for errors a retry will not fix.
    retry_after: float | None = None

    #: Short label used in metrics (``outcome``).
    reason: str = "bad_request"


class BadRequest(RequestRejected):
    """Malformed protobuf, JSON or compression: retrying the same bytes cannot succeed."""


class Unauthorized(RequestRejected):
    http_status = 401
    grpc_code = "UNAUTHENTICATED"
    reason = "unauthorized"


class NotFound(RequestRejected):
    http_status = 404
    grpc_code = "NOT_FOUND"
    reason = "not_found"


class MethodNotAllowed(RequestRejected):
    http_status = 405
    grpc_code = "UNIMPLEMENTED"
    reason = "method_not_allowed"


class PayloadTooLarge(RequestRejected):
    http_status = 413
    grpc_code = "RESOURCE_EXHAUSTED"  # what gRPC itself answers for an oversized message
    reason = "too_large"


class UnsupportedMediaType(RequestRejected):
    http_status = 415
    grpc_code = "INVALID_ARGUMENT"
    reason = "unsupported_media_type"


class Overloaded(RequestRejected):
    """The in-memory buffer is full: push back until the writer catches up (retryable)."""

    http_status = 429
    grpc_code = "UNAVAILABLE"  # the OTLP spec's throttling signal, retried by every exporter
    reason = "overloaded"

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Unavailable(Overloaded):
    """Shutting down, or the spool or the dataset is failing (retryable, possibly on another replica)."""

    http_status = 503
    reason = "unavailable"
