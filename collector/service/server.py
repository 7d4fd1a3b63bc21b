"""``CollectorService``: the spool, the pipeline, the dataset writer and both front ends, started and
stopped in the right order.

Start: lock the spool, replay what a previous run left in it (so nothing
acknowledged before a crash is lost), open the writer, then listen. Stop:
close the listeners (in-flight requests finish), drain the queue, flush, delete
the spool segments. A replica is stateless apart from its spool, so any
number of them can write to one dataset, each with its own writer id.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any, Final

from callscope.collector.service.converter import (
    NEVER,
    Converter,
    InlineConverter,
    ProcessConverters,
    WriterSettings,
)
from callscope.collector.service.errors import ServiceError
from callscope.collector.service.metrics import ServiceMetrics
from callscope.collector.service.pipeline import Pipeline, PipelineLimits, ReplayResult
from callscope.collector.service.receiver import Receiver
from callscope.collector.service.spool import FAILED_DIR, Spool

logger = logging.getLogger(__name__)

DEFAULT_HOST: Final = "127.0.0.1"
DEFAULT_HTTP_PORT: Final = 4318
DEFAULT_GRPC_PORT: Final = 4317
DEFAULT_SPOOL_DIR: Final = "./callscope-spool"
#: The OTLP specification's recommended request limit (after decompression).
DEFAULT_MAX_REQUEST_BYTES: Final = 20 * 2**20
_LOOPBACK: Final = frozenset({"127.0.0.1", "localhost", "::1"})


@dataclass(frozen=True)
class ServiceConfig:
    """Everything ``callscope collect`` can be told. Port 0 picks a free port (tests)."""

    data: str
    spool_dir: str = DEFAULT_SPOOL_DIR
    host: str = DEFAULT_HOST
    http_port: int = DEFAULT_HTTP_PORT
    #: None: no gRPC listener.
    grpc_port: int | None = DEFAULT_GRPC_PORT
    token: str | None = None
    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES
    limits: PipelineLimits = field(default_factory=PipelineLimits)
    writer_id: str | None = None
    storage_options: Mapping[str, Any] | None = None
    #: PEM certificate chain and private key files: serve HTTPS and gRPC over TLS.
    tls_cert: str | None = None
    tls_key: str | None = None
    grpc_workers: int = 8
    #: Processes converting spans to Parquet; 1 converts in the service process (one core).
    converters: int = 1
    #: Seconds to let in-flight requests finish, then to write what is queued, at shutdown.
    shutdown_timeout_s: float = 30.0

    def check(self) -> None:
        if self.max_request_bytes < 1024:
            raise ServiceError("--max-request-size must be at least 1 KiB")
        if self.limits.max_buffer_bytes < 2 * self.max_request_bytes:
            raise ServiceError(
                f"--max-buffer ({self.limits.max_buffer_bytes} bytes) must be at least twice "
                f"--max-request-size ({self.max_request_bytes} bytes)"
            )
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ServiceError("--tls-cert and --tls-key go together")
        if self.converters < 1:
            raise ServiceError("--converters must be at least 1")
        if self.token is not None and not self.token.strip():
            raise ServiceError("the token is empty; pass a non-empty --token or unset CALLSCOPE_TOKEN")


class CollectorService:
    """The OTLP receiver service; use as a context manager or call :meth:`start` / :meth:`stop`."""

    def __init__(self, config: ServiceConfig) -> None:
        config.check()
        self.config = config
        self.metrics = ServiceMetrics()
        self.spool = Spool(config.spool_dir)
        self.replayed: ReplayResult | None = None
        self.http_port: int | None = None
        self.grpc_port: int | None = None
        self.pipeline: Pipeline | None = None
        self._uvicorn: Any = None
        self._http_thread: threading.Thread | None = None
        self._grpc: Any = None
        self._stopped = threading.Event()

    # -- start -----------------------------------------------------------------------------

    def start(self) -> None:
        config = self.config
        leftovers = self.spool.open()
        converter: Converter | None = None
        try:
            converter = self._converter()
            self.pipeline = pipeline = Pipeline(converter, self.spool, self.metrics, config.limits)
            self._register_gauges(pipeline)
            self.replayed = pipeline.replay(leftovers)
            pipeline.start()
            receiver = Receiver(pipeline, self.metrics, config.token)
            self._start_http(receiver)
            if config.grpc_port is not None:
                self._start_grpc(receiver)
        except BaseException:
            self._stop_listeners()
            if self.pipeline is not None:
                self.pipeline.close(timeout=self.config.shutdown_timeout_s)
            else:
                if converter is not None:
                    converter.terminate()
                self.spool.close()
            raise

    def _converter(self) -> Converter:
        """Where spans are converted and written: this process, or ``converters`` worker processes."""
        from callscope.collector.writer import DatasetWriter

        config = self.config
        failed = self.spool.directory / FAILED_DIR
        if config.converters > 1:
            settings = WriterSettings(config.data, config.storage_options, failed, logging.getLogger().level)
            return ProcessConverters(config.converters, settings, config.writer_id)
        writer = DatasetWriter(
            config.data,
            writer_id=config.writer_id,
            # The pipeline decides when to flush (it must know what each flush made durable).
            max_rows=NEVER,
            max_bytes=NEVER,
            max_age_s=None,
            storage_options=config.storage_options,
        )
        return InlineConverter(writer, failed)

    @property
    def writer_ids(self) -> list[str]:
        """The Parquet file prefixes this replica writes."""
        return self.pipeline.converter.writer_ids if self.pipeline is not None else []

    def _register_gauges(self, pipeline: Pipeline) -> None:
        gauge = self.metrics.gauge
        gauge(
            "callscope_collector_buffered_bytes",
            "Request bytes held in memory (queued or being received).",
            lambda: pipeline.buffered_bytes,
        )
        gauge(
            "callscope_collector_buffer_limit_bytes",
            "Limit of buffered bytes; beyond it requests get 429.",
            lambda: self.config.limits.max_buffer_bytes,
        )
        gauge(
            "callscope_collector_queued_requests",
            "Requests waiting to be written.",
            lambda: pipeline.queued_requests,
        )
        gauge(
            "callscope_collector_spool_bytes",
            "Size of the write-ahead spool on disk.",
            lambda: self.spool.size_bytes,
        )
        gauge(
            "callscope_collector_spool_segments",
            "Segment files in the spool.",
            lambda: self.spool.segment_count,
        )
        gauge(
            "callscope_collector_healthy",
            "1 while the dataset and the spool accept writes.",
            lambda: pipeline.healthy,
        )

    def _tls_files(self) -> tuple[bytes, bytes] | None:
        config = self.config
        if config.tls_cert is None or config.tls_key is None:
            return None
        try:
            return Path(config.tls_key).read_bytes(), Path(config.tls_cert).read_bytes()
        except OSError as err:
            raise ServiceError(f"cannot read the TLS files: {err}") from None

    def _start_http(self, receiver: Receiver) -> None:
        import uvicorn
        from callscope.collector.service.http import create_app

        config = self.config
        sock = _bind(config.host, config.http_port, "--port")
        self.http_port = sock.getsockname()[1]
        app = create_app(receiver, max_request_bytes=config.max_request_bytes)
        uv_config = uvicorn.Config(
            app,
            log_level="warning",
            access_log=False,
            lifespan="off",
            server_header=False,
            timeout_graceful_shutdown=int(config.shutdown_timeout_s),
            ssl_certfile=config.tls_cert,
            ssl_keyfile=config.tls_key,
        )
        self._uvicorn = server = uvicorn.Server(uv_config)
        self._http_thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="callscope-http", daemon=True
        )
        self._http_thread.start()
        deadline = time.monotonic() + 30
        while not server.started:
            if not self._http_thread.is_alive() or time.monotonic() > deadline:
                sock.close()
                raise ServiceError("the OTLP/HTTP server did not start (see the log above)")
            time.sleep(0.01)

    def _start_grpc(self, receiver: Receiver) -> None:
        from callscope.collector.service.grpc_server import GrpcReceiver

        config = self.config
        assert config.grpc_port is not None
        self._grpc = GrpcReceiver(
            receiver,
            host=config.host,
            port=config.grpc_port,
            max_request_bytes=config.max_request_bytes,
            workers=config.grpc_workers,
            tls=self._tls_files(),
        )
        self._grpc.start()
        self.grpc_port = self._grpc.port

    # -- stop ------------------------------------------------------------------------------

    def stop(self) -> bool:
        """Stop listening, write everything acknowledged, clear the spool. Idempotent.

        Returns False when the dataset could not be written in time; the spool
        then keeps those requests for the next start.
        """
        if self._stopped.is_set():
            return True
        self._stopped.set()
        self._stop_listeners()
        if self.pipeline is None:
            return True
        return self.pipeline.close(timeout=self.config.shutdown_timeout_s)

    def _stop_listeners(self) -> None:
        if self._grpc is not None:
            self._grpc.stop(grace=min(5.0, self.config.shutdown_timeout_s))
        if self._uvicorn is not None and self._http_thread is not None:
            self._uvicorn.should_exit = True
            self._http_thread.join()

    def __enter__(self) -> CollectorService:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- running as a command --------------------------------------------------------------

    def serve_forever(self) -> bool:
        """Run until SIGINT or SIGTERM, then stop cleanly (call after :meth:`start`)."""
        wake = threading.Event()

        def on_signal(signum: int, frame: FrameType | None) -> None:
            logger.info("received %s; stopping", signal.Signals(signum).name)
            wake.set()

        with _signal_handlers(on_signal):
            while not wake.wait(0.5):
                pass
        return self.stop()

    def endpoints(self) -> dict[str, str]:
        """What the startup message shows: name -> address."""
        config = self.config
        scheme = "https" if config.tls_cert else "http"
        host = f"[{config.host}]" if ":" in config.host else config.host
        base = f"{scheme}://{host}:{self.http_port}"
        result = {
            "OTLP/HTTP": f"{base}/v1/traces  (protobuf or JSON; gzip, deflate)",
        }
        if self.grpc_port is not None:
            result["OTLP/gRPC"] = f"{host}:{self.grpc_port}" + ("  (TLS)" if config.tls_cert else "")
        result["metrics"] = f"{base}/metrics"
        result["health"] = f"{base}/healthz, {base}/readyz"
        return result

    @property
    def exposed_without_token(self) -> bool:
        return self.config.token is None and self.config.host not in _LOOPBACK


def _bind(host: str, port: int, option: str) -> socket.socket:
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as err:
        raise ServiceError(f"cannot resolve --host {host!r}: {err.strerror}") from None
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        sock.listen(1024)
    except OSError as err:
        sock.close()
        raise ServiceError(
            f"cannot listen on {host}:{port} ({err.strerror}); pick another {option}"
        ) from None
    sock.setblocking(False)
    return sock


@contextlib.contextmanager
def _signal_handlers(handler: Any) -> Iterator[None]:
    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
