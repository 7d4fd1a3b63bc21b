"""``callscope collect``: the OTLP receiver service (HTTP and gRPC) writing the Parquet call log.

Acknowledged spans are durable: each request body is fsynced to a write-ahead
spool before the answer, and replayed at start-up if the process died before
the Parquet files were written. See ``docs/scaling.md`` for running replicas.

Imports nothing heavy: the HTTP (Starlette, uvicorn) and gRPC parts load when
the service starts.
"""

from callscope.collector.service.errors import (
    BadRequest,
    Overloaded,
    PayloadTooLarge,
    RequestRejected,
    ServiceError,
    SpoolError,
    Unauthorized,
    Unavailable,
)
from callscope.collector.service.pipeline import PipelineLimits, ReplayResult
from callscope.collector.service.server import CollectorService, ServiceConfig

__all__ = [
    "BadRequest",
    "CollectorService",
    "Overloaded",
    "PayloadTooLarge",
    "PipelineLimits",
    "ReplayResult",
    "RequestRejected",
    "ServiceConfig",
    "ServiceError",
    "SpoolError",
    "Unauthorized",
    "Unavailable",
]
