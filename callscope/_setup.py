"""``callscope.instrument()``: the one line an app adds (and what ``callscope run`` calls for it).

1. the tracer provider: the app's own SDK provider if it has one (callscope adds
   a span processor to it), else a new one whose resource's ``service.name`` is
   the argument, ``$OTEL_SERVICE_NAME``, or the program's name;
2. the exporter: Parquet files in the data directory (the embedded default), or
   OTLP when ``$OTEL_EXPORTER_OTLP_ENDPOINT`` / ``..._TRACES_ENDPOINT`` is set and no
   data directory was passed (protocol from ``$OTEL_EXPORTER_OTLP_PROTOCOL``);
3. the instrumentor, with a hash key that stays the same across runs: the
   argument, ``$CALLSCOPE_HASH_KEY``, else a random key created once in
   ``<data>/.callscope/hash-key`` (mode 0600), so repeated requests are
   recognised from one run to the next.

Calling it again is harmless; :func:`uninstrument` undoes it and flushes. Rows
buffered at interpreter exit are written by an ``atexit`` hook.
"""

from __future__ import annotations

import atexit
import os
import secrets
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal

from callscope._log import get_logger
from callscope.config import ENV_HASH_KEY, env_flag
from callscope.config import data_dir as resolve_data_dir
from callscope.errors import ConfigError

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter

log = get_logger("callscope")

__all__ = ["Instrumentation", "instrument", "uninstrument"]

ENV_OTLP_ENDPOINT: Final = "OTEL_EXPORTER_OTLP_ENDPOINT"
ENV_OTLP_TRACES_ENDPOINT: Final = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
ENV_OTLP_PROTOCOL: Final = "OTEL_EXPORTER_OTLP_PROTOCOL"
ENV_OTLP_TRACES_PROTOCOL: Final = "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"
ENV_SERVICE_NAME: Final = "OTEL_SERVICE_NAME"
ENV_RESOURCE_ATTRIBUTES: Final = "OTEL_RESOURCE_ATTRIBUTES"
ENV_SDK_DISABLED: Final = "OTEL_SDK_DISABLED"
HASH_KEY_PATH: Final = (".callscope", "hash-key")

Mode = Literal["parquet", "otlp"]


@dataclass(frozen=True)
class Instrumentation:
    """What :func:`instrument` set up."""

    mode: Mode
    #: Where the spans go: the data directory, or the OTLP endpoint.
    destination: str
    tracer_provider: TracerProvider
    processor: SpanProcessor
    exporter: SpanExporter
    #: Whether callscope created the tracer provider (rather than joining the app's).
    owns_provider: bool

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        """Export everything buffered and write it out now."""
        from callscope.instrumentation import flush

        finished = flush(timeout_millis / 1000)  # the calls that ended become spans first
        flushed = bool(self.processor.force_flush(timeout_millis)) and finished
        return bool(self.exporter.force_flush(timeout_millis)) and flushed


class _State:
    lock = threading.Lock()
    current: Instrumentation | None = None
    #: A flush at exit is running: a SIGTERM arriving meanwhile waits for it (see flush_on_sigterm).
    flushing = False
    pending_signal: int | None = None


def instrument(
    data_dir: str | None = None,
    *,
    service_name: str | None = None,
    tracer_provider: TracerProvider | None = None,
    hash_key: str | bytes | None = None,
    capture_content: bool | None = None,
    storage_options: dict[str, Any] | None = None,
) -> Instrumentation | None:
    """Trace every OpenAI call of this process into the call log. Returns what was set up.

    ``data_dir``: where the Parquet files go (default ``$CALLSCOPE_DATA`` or
    ``./callscope-data``; ``s3://bucket/prefix`` works too). Passing it forces
    Parquet even when an OTLP endpoint is configured. ``tracer_provider``: use
    this SDK provider instead of the global one. Returns ``None`` when
    ``$OTEL_SDK_DISABLED`` is true.
    """
    if env_flag(ENV_SDK_DISABLED):
        return None
    with _State.lock:
        if _State.current is not None:
            return _State.current
        provider, owns = _tracer_provider(tracer_provider, service_name)
        mode, destination, exporter = _exporter(data_dir, storage_options)
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        processor = BatchSpanProcessor(exporter)
        provider.add_span_processor(processor)
        if hash_key is None and not os.environ.get(ENV_HASH_KEY) and mode == "parquet":
            hash_key = _stored_hash_key(destination, storage_options)
        from callscope.instrumentation import OpenAIInstrumentor

        options: dict[str, Any] = {"tracer_provider": provider, "hash_key": hash_key}
        if capture_content is not None:
            options["capture_content"] = capture_content
        OpenAIInstrumentor().instrument(**options)
        _State.current = Instrumentation(mode, destination, provider, processor, exporter, owns)
        atexit.register(_flush_at_exit)
        _flush_in_multiprocessing_children(_State.current)
        return _State.current


def uninstrument() -> None:
    """Undo :func:`instrument`: restore the openai SDK and flush and close the exporter."""
    with _State.lock:
        current, _State.current = _State.current, None
        if current is None:
            return
        atexit.unregister(_flush_at_exit)
        from callscope.instrumentation import OpenAIInstrumentor

        OpenAIInstrumentor().uninstrument()
        current.processor.force_flush()
        # The SDK cannot remove a span processor; once shut down it drops what it is given.
        current.processor.shutdown()


def _flush_at_exit() -> None:
    current = _State.current
    if current is None or _State.flushing:
        return
    _State.flushing = True
    try:
        current.force_flush()
    except Exception as err:  # never turn an app's exit into a traceback
        log.warning("callscope: flushing at exit failed", error=str(err))
    finally:
        _State.flushing = False
        if _State.pending_signal is not None:
            _die_of(_State.pending_signal)


def _die_of(signum: int) -> None:
    import signal

    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def _flush_in_multiprocessing_children(holder: Instrumentation) -> None:
    """Forked ``multiprocessing`` workers leave through ``os._exit`` (skipping ``atexit``), or die of
    the SIGTERM of ``Pool.terminate()``. Arm both exits in every forked child: a multiprocessing
    finalizer, and a SIGTERM handler if the child has none of its own."""
    import multiprocessing.util

    def arm(_: object) -> None:
        multiprocessing.util.Finalize(None, _flush_at_exit, exitpriority=10)
        flush_on_sigterm()

    multiprocessing.util.register_after_fork(holder, arm)


def flush_on_sigterm() -> None:
    """Make SIGTERM write the call log before the process dies of it, like ``atexit`` on a normal
    exit. Only when SIGTERM has its default action and this is the main thread: a program's own
    handler is never replaced (a graceful shutdown runs ``atexit`` anyway)."""
    import signal

    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return

    def flush_and_die(signum: int, frame: object) -> None:
        if _State.flushing:  # the signal interrupted the exit flush: die when it is done
            _State.pending_signal = signum
            return
        _flush_at_exit()
        _die_of(signum)

    signal.signal(signal.SIGTERM, flush_and_die)


def _tracer_provider(
    explicit: TracerProvider | None, service_name: str | None
) -> tuple[TracerProvider, bool]:
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider

    if explicit is not None:
        return explicit, False
    current = trace.get_tracer_provider()
    if isinstance(current, TracerProvider):
        return current, False  # the app's resource (and service.name) is kept
    provider = TracerProvider(resource=_resource(service_name))
    if isinstance(current, trace.ProxyTracerProvider):
        trace.set_tracer_provider(provider)
    else:  # another vendor's provider: leave it global, trace OpenAI calls through ours
        log.warning("callscope: the global tracer provider is not the OTel SDK's; using a separate one")
    return provider, True


def _resource(service_name: str | None) -> Any:
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource

    attributes: dict[str, str] = {}
    if service_name:
        attributes[SERVICE_NAME] = service_name
    elif not os.environ.get(ENV_SERVICE_NAME) and SERVICE_NAME + "=" not in os.environ.get(
        ENV_RESOURCE_ATTRIBUTES, ""
    ):
        attributes[SERVICE_NAME] = program_name()
    return Resource.create(attributes)


def program_name() -> str:
    """The running program's name, for ``service.name``: ``app`` for ``python app.py``."""
    argv0 = sys.argv[0] if sys.argv and sys.argv[0] else ""
    if argv0 in ("", "-c", "-m"):
        return "python"
    path = Path(argv0)
    return path.parent.name if path.name == "__main__.py" else path.stem or "python"


def _exporter(data_dir: str | None, storage_options: dict[str, Any] | None) -> tuple[Mode, str, SpanExporter]:
    endpoint = os.environ.get(ENV_OTLP_TRACES_ENDPOINT) or os.environ.get(ENV_OTLP_ENDPOINT)
    if endpoint and data_dir is None:
        return "otlp", endpoint, _otlp_exporter()
    from callscope.collector.exporter import ParquetSpanExporter

    location = resolve_data_dir(data_dir)
    return "parquet", location, ParquetSpanExporter(location, storage_options=storage_options)


def _otlp_exporter() -> SpanExporter:
    protocol = (
        os.environ.get(ENV_OTLP_TRACES_PROTOCOL) or os.environ.get(ENV_OTLP_PROTOCOL) or "http/protobuf"
    ).strip()
    try:
        if protocol == "grpc":
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter

            return GrpcExporter()
        if protocol == "http/protobuf":
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpExporter

            return HttpExporter()
    except ImportError as err:
        raise ConfigError(
            f"sending spans over OTLP ({protocol}) needs the OTLP exporters: pip install 'callscope[otlp]'"
        ) from err
    raise ConfigError(
        f"{ENV_OTLP_PROTOCOL}={protocol!r} is not supported; use 'http/protobuf' (the default) or 'grpc'"
    )


def _stored_hash_key(location: str, storage_options: dict[str, Any] | None) -> str:
    """The dataset's hash key, created on first use: hashes then match across runs and processes."""
    from callscope.collector.storage import LocalStorage, open_storage

    storage = open_storage(location, storage_options)
    path = storage.join(*HASH_KEY_PATH)
    new_key = secrets.token_hex(32)
    if isinstance(storage, LocalStorage):
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return Path(path).read_text().strip()
        except OSError as err:
            raise ConfigError(f"cannot create the hash key file {path}: {err.strerror}") from err
        with os.fdopen(fd, "w") as out:
            out.write(new_key + "\n")
        return new_key
    if storage.create_exclusive(path, new_key.encode()):
        return new_key
    return storage.read_file(path).decode().strip()
