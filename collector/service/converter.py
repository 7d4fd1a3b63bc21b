"""Request bodies into Parquet rows: in the pipeline's thread, or in worker processes.

Decoding OTLP and converting spans to rows (:mod:`.span_rows`) are pure
Python, so one process converts on one core. :class:`InlineConverter` does it
in the pipeline's writer thread (the default). :class:`ProcessConverters`
(``--converters N``) runs N spawned processes, each with its own
:class:`~callscope.collector.writer.DatasetWriter` and writer id, fed
round-robin over pipes; the service process keeps only the HTTP/gRPC front
ends, the spool and the bookkeeping.

Both give the same guarantee the pipeline relies on: when :meth:`flush`
returns, every body passed to :meth:`convert` before it is durable in Parquet
(a pipe is in order, and a process answers a flush only after the bodies sent
before it). Call metrics travel with the flush result, so ``/metrics`` counts
exactly the rows that were written.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Final, Protocol

from callscope.collector.records import SpanRecord
from callscope.collector.service.errors import ServiceError
from callscope.collector.service.metrics import CallStats
from callscope.collector.service.span_rows import Row, SpanRowDecoder

logger = logging.getLogger(__name__)

#: The converter never lets the writer flush by itself (the pipeline decides when).
NEVER: Final = 1 << 50
_ITEM, _FLUSH, _CLOSE = b"I", b"F", b"C"


class RowWriter(Protocol):
    """What converting needs of :class:`~callscope.collector.writer.DatasetWriter`."""

    writer_id: str

    def add_values(self, rows: Iterable[Row]) -> int: ...
    def flush(self) -> list[str]: ...
    def close(self) -> list[str]: ...


@dataclass
class Flushed:
    """What one flush made durable."""

    files: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    stats: CallStats = field(default_factory=CallStats)
    conversion_errors: int = 0

    def merge(self, other: Flushed) -> None:
        self.files += other.files
        for table, count in other.rows.items():
            self.rows[table] = self.rows.get(table, 0) + count
        for name in ("calls", "tokens", "costs"):
            mine = getattr(self.stats, name)
            for labels, value in getattr(other.stats, name).items():
                mine[labels] += value
        for name in ("durations", "ttfts"):
            mine = getattr(self.stats, name)
            for labels, (counts, total) in getattr(other.stats, name).items():
                old_counts, old_total = mine.get(labels) or ([0] * len(counts), 0.0)
                mine[labels] = ([a + b for a, b in zip(old_counts, counts, strict=True)], old_total + total)
        self.conversion_errors += other.conversion_errors


class Conversion:
    """Decode, convert and buffer bodies in one writer; keeps what the next flush will report."""

    def __init__(self, writer: RowWriter, failed_dir: Path) -> None:
        self.writer = writer
        self.failed_dir = failed_dir
        self.pending = Flushed()
        self.decoder = SpanRowDecoder()

    def convert(self, payload: bytes) -> int:
        """Convert one body into the writer's buffer; returns the number of rows."""
        failed: list[tuple[SpanRecord, Exception]] = []
        try:
            rows = self.decoder.rows(payload, failed)
        except Exception:  # validated before it was spooled; only a bug or a corrupt disk gets here
            logger.exception("a spooled request cannot be decoded")
            self.pending.conversion_errors += 1
            self._keep_failed(payload)
            return 0
        if failed:
            record, error = failed[0]
            logger.error("cannot convert span %s/%s", record.trace_id, record.span_id, exc_info=error)
            logger.error(
                "%d of %d spans of a request could not be converted", len(failed), len(rows) + len(failed)
            )
            self.pending.conversion_errors += len(failed)
            self._keep_failed(payload)
        self.writer.add_values(rows)
        self.pending.stats.add(rows)
        counts = self.pending.rows
        for table, _ in rows:
            counts[table] = counts.get(table, 0) + 1
        return len(rows)

    def flush(self) -> Flushed:
        """Write the buffer; on failure the writer keeps the rows and this keeps their statistics."""
        files = self.writer.flush()
        done, self.pending = self.pending, Flushed()
        done.files = len(files)
        return done

    def _keep_failed(self, payload: bytes) -> None:
        """Save a body that did not convert whole, so it can be resent once the bug is fixed."""
        try:
            self.failed_dir.mkdir(parents=True, exist_ok=True)
            path = self.failed_dir / f"{time.time_ns()}-{multiprocessing.current_process().pid}.pb"
            path.write_bytes(payload)
        except OSError as err:
            logger.error("could not keep the failed request: %s", err)
            return
        logger.error(
            "kept the request in %s; once fixed, resend it: curl --data-binary @%s "
            "-H 'Content-Type: application/x-protobuf' http://HOST:PORT/v1/traces",
            path,
            path,
        )


class Converter(Protocol):
    """What the pipeline uses: :class:`InlineConverter` or :class:`ProcessConverters`."""

    @property
    def writer_ids(self) -> list[str]: ...
    def convert(self, payload: bytes) -> None: ...
    def flush(self) -> Flushed: ...
    def close(self) -> Flushed: ...
    def terminate(self) -> None: ...


class InlineConverter:
    """Converts in the calling thread, into one writer."""

    def __init__(self, writer: RowWriter, failed_dir: Path) -> None:
        self.conversion = Conversion(writer, failed_dir)

    @property
    def writer(self) -> RowWriter:
        return self.conversion.writer

    @writer.setter
    def writer(self, writer: RowWriter) -> None:  # tests put a fault-injecting writer here
        self.conversion.writer = writer

    @property
    def writer_ids(self) -> list[str]:
        return [self.conversion.writer.writer_id]

    def convert(self, payload: bytes) -> None:
        self.conversion.convert(payload)

    def flush(self) -> Flushed:
        return self.conversion.flush()

    def close(self) -> Flushed:
        done = self.conversion.flush()
        self.conversion.writer.close()
        return done

    def terminate(self) -> None:
        """Nothing to stop: unwritten rows die with the process, their requests stay in the spool."""


@dataclass(frozen=True)
class WriterSettings:
    """How each converter process opens its :class:`DatasetWriter` (picklable)."""

    data: str
    storage_options: Mapping[str, Any] | None
    failed_dir: Path
    log_level: int


class ProcessConverters:
    """``count`` spawned processes, each converting and writing with its own writer id."""

    def __init__(self, count: int, settings: WriterSettings, writer_id: str | None = None) -> None:
        from callscope.collector.writer import new_writer_id

        base = writer_id or new_writer_id()
        context = multiprocessing.get_context("spawn")  # never fork a process that runs threads
        self._connections: list[Connection] = []
        self._processes: list[Any] = []
        self._writer_ids = [f"{base}-c{index}" for index in range(count)]
        self._next = 0
        for writer in self._writer_ids:
            parent, child = context.Pipe()
            process = context.Process(
                target=_child_main, args=(child, settings, writer), name=f"callscope-{writer}", daemon=True
            )
            process.start()
            child.close()
            self._connections.append(parent)
            self._processes.append(process)
        for connection, process in zip(self._connections, self._processes, strict=True):
            answer = self._receive(connection, process, timeout=120)
            if answer[0] != "ready":
                self.terminate()
                raise ServiceError(f"a converter process could not start: {answer[1]}")

    @property
    def writer_ids(self) -> list[str]:
        return list(self._writer_ids)

    def convert(self, payload: bytes) -> None:
        index = self._next
        self._next = (index + 1) % len(self._connections)
        # Blocks while that process is busy: the pipe is the only buffer, so memory stays bounded.
        self._send(index, _ITEM + payload)

    def flush(self) -> Flushed:
        return self._everyone(_FLUSH)

    def close(self) -> Flushed:
        done = self._everyone(_CLOSE)
        for process in self._processes:
            process.join(timeout=30)
        for connection in self._connections:
            connection.close()
        return done

    def terminate(self) -> None:
        """Stop the processes without writing (their requests stay in the spool)."""
        for process in self._processes:
            if process.is_alive():
                process.terminate()
            process.join(timeout=10)
        for connection in self._connections:
            connection.close()

    def _everyone(self, command: bytes) -> Flushed:
        for index in range(len(self._connections)):
            self._send(index, command)
        total = Flushed()
        error: str | None = None
        for connection, process in zip(self._connections, self._processes, strict=True):
            answer = self._receive(connection, process)
            if answer[0] == "flushed":
                total.merge(answer[1])
            else:
                error = error or str(answer[1])
        if error is not None:
            # The processes that did flush report again next time (nothing of theirs is lost: the
            # pipeline deletes spool segments only after a flush that succeeded everywhere).
            raise _FlushFailed(error, total)
        return total

    def _send(self, index: int, message: bytes) -> None:
        try:
            self._connections[index].send_bytes(message)
        except (OSError, EOFError) as err:
            raise ServiceError(f"converter process {self._writer_ids[index]} died ({err})") from None

    def _receive(self, connection: Connection, process: Any, timeout: float | None = None) -> tuple[str, Any]:
        deadline = None if timeout is None else time.monotonic() + timeout
        while not connection.poll(1.0):
            if not process.is_alive():
                raise ServiceError(f"converter process {process.name} died (exit code {process.exitcode})")
            if deadline is not None and time.monotonic() > deadline:
                raise ServiceError(f"converter process {process.name} does not answer")
        try:
            answer: tuple[str, Any] = connection.recv()
        except (OSError, EOFError) as err:
            raise ServiceError(f"converter process {process.name} died ({err})") from None
        return answer


class _FlushFailed(Exception):
    """Some converter processes could not write; carries what the others did write."""

    def __init__(self, message: str, written: Flushed) -> None:
        super().__init__(message)
        self.written = written


def _child_main(connection: Connection, settings: WriterSettings, writer_id: str) -> None:
    """A converter process: convert bodies, flush and close on command, until the pipe closes."""
    # The service process decides when to stop (it flushes us first); Ctrl+C on the terminal
    # reaches the whole process group and must not kill a converter halfway.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        from callscope.collector.writer import DatasetWriter

        writer = DatasetWriter(
            settings.data,
            writer_id=writer_id,
            max_rows=NEVER,
            max_bytes=NEVER,
            max_age_s=None,
            storage_options=settings.storage_options,
        )
        conversion = Conversion(writer, settings.failed_dir)
    except Exception as err:
        connection.send(("error", str(err)))
        return
    connection.send(("ready", writer_id))
    while True:
        try:
            message = connection.recv_bytes()
        except (EOFError, OSError):
            return  # the service process is gone; its spool replays what we had not written
        command = message[:1]
        if command == _ITEM:
            conversion.convert(message[1:])
            continue
        try:
            done = conversion.flush()
        except Exception as err:
            connection.send(("failed", f"{type(err).__name__}: {err}"))
            continue
        connection.send(("flushed", done))
        if command == _CLOSE:
            writer.close()
            return
