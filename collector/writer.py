"""``DatasetWriter``: span records into the Hive-partitioned Parquet call log.

Layout: ``<data>/<table>/date=YYYY-MM-DD/<writer_id>-<seq>.parquet``, where the
date is the span's start in UTC and ``<table>`` is ``calls`` or ``spans``. Files
are zstd Parquet with the Arrow schema of :mod:`callscope.collector.schema` (the
schema version is in the file's key-value metadata). Each file appears whole
(see :mod:`callscope.collector.storage`), so readers never see half a file.

This is the one writer both ways into the collector use: the in-process
:class:`~callscope.collector.exporter.ParquetSpanExporter` and the OTLP service
(``callscope collect``). Its API is stable::

    writer = DatasetWriter("./callscope-data")     # or "s3://bucket/prefix"
    writer.add(records)        # Iterable[SpanRecord]; converts them (as span_to_row) and buffers
    writer.add_rows(rows)      # or already converted (table, row) pairs from span_to_row
    paths = writer.flush()     # writes everything buffered; returns the files written
    writer.close()             # flush, stop the age timer; add() afterwards raises

Buffers roll into a new file when they reach ``max_rows`` rows or about
``max_bytes`` bytes (checked in ``add``), or when the oldest buffered row is
``max_age_s`` old (checked by a daemon timer thread). When ``flush`` returns,
every row added before the call is durable (fsynced locally; a completed PUT
on object storage). When a write fails, ``flush`` puts the rows back and
raises :class:`~callscope.collector.errors.StorageError`, so callers that
acknowledge only after ``flush`` succeed deliver at least once.

Thread-safe: ``add`` converts outside the lock, and writes never block ``add``
for longer than it takes to swap the buffers. Pass ``max_rows``/``max_bytes``
very large and ``max_age_s=None`` to decide yourself when to flush. Writer ids (host, pid, random)
are unique, so several writers, processes or collector replicas can share a
dataset; a forked child gets a fresh id and an empty buffer.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import secrets
import socket
import threading
import time
import weakref
from collections.abc import Iterable, Mapping
from operator import itemgetter
from typing import TYPE_CHECKING, Any, Final

from callscope.collector.errors import CollectorError, StorageError
from callscope.collector.normalize import span_values
from callscope.collector.parquet import encode_batches, to_record_batch
from callscope.collector.records import SpanRecord
from callscope.collector.schema import PARTITION_COLUMN, TABLES, column_names
from callscope.collector.storage import LocalStorage, Storage, open_storage

from callscope._log import get_logger

if TYPE_CHECKING:
    import pyarrow as pa

log = get_logger("callscope.collector")

DEFAULT_MAX_ROWS: Final = 100_000
DEFAULT_MAX_BYTES: Final = 64 * 2**20
DEFAULT_MAX_AGE_S: Final = 60.0
#: Buffered rows are turned into a compact Arrow record batch every this many rows per bucket,
#: so memory holds few Python objects (and the garbage collector has little to scan).
CHUNK_ROWS: Final = 2048
#: Rough in-memory size of a row still held as Python objects, besides its ``attributes`` JSON.
ROW_OVERHEAD_BYTES: Final = 1500
#: Rows kept for a retry after failed writes, as a multiple of ``max_rows``; older ones are dropped.
RETRY_BUFFER_FACTOR: Final = 4

US_PER_DAY: Final = 86_400_000_000
_EPOCH_ORDINAL: Final = dt.date(1970, 1, 1).toordinal()
_WRITER_ID: Final = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")
_GETTERS: Final = {table: itemgetter(*column_names(table)) for table in TABLES}
_START_INDEX: Final = {table: column_names(table).index("start_time") for table in TABLES}
_ATTRIBUTES_INDEX: Final = {table: column_names(table).index("attributes") for table in TABLES}

_writers: weakref.WeakSet[DatasetWriter] = weakref.WeakSet()


class _Bucket:
    """The rows of one table and day: compact Arrow batches plus a short list still in Python."""

    __slots__ = ("_batches", "_pending", "_pending_bytes", "_sealed_bytes", "rows", "table")

    def __init__(self, table: str) -> None:
        self.table = table
        self._batches: list[pa.RecordBatch] = []
        self._pending: list[list[Any]] = []
        self._pending_bytes = 0
        self._sealed_bytes = 0
        self.rows = 0

    @property
    def bytes(self) -> int:
        """Memory held: exact for the Arrow batches, estimated for the rows still in Python."""
        return self._sealed_bytes + self._pending_bytes

    def extend_rows(self, rows: list[list[Any]]) -> int:
        """Add rows; returns how much :attr:`bytes` grew."""
        before = self.bytes
        attributes = _ATTRIBUTES_INDEX[self.table]
        self._pending.extend(rows)
        extra = sum(len(row[attributes] or "") for row in rows)
        self._pending_bytes += ROW_OVERHEAD_BYTES * len(rows) + extra
        self.rows += len(rows)
        if len(self._pending) >= CHUNK_ROWS:
            self._seal()
        return self.bytes - before

    def _seal(self) -> None:
        batch = to_record_batch(self.table, self._pending)
        self._batches.append(batch)
        self._sealed_bytes += batch.nbytes
        self._pending = []
        self._pending_bytes = 0

    def batches(self) -> list[pa.RecordBatch]:
        if self._pending:
            self._seal()
        return self._batches

    def extend(self, other: _Bucket) -> None:
        self._batches.extend(other.batches())
        self._sealed_bytes += other._sealed_bytes
        self.rows += other.rows


def new_writer_id() -> str:
    """``<host>-<pid>-<random>``: unique across hosts, processes and restarts."""
    host = re.sub(r"[^A-Za-z0-9_.-]", "_", socket.gethostname())[:40] or "host"
    return f"{host}-{os.getpid()}-{secrets.token_hex(3)}"


def partition_date(day: int) -> str:
    """``YYYY-MM-DD`` of a day number (days since the Unix epoch, UTC)."""
    return dt.date.fromordinal(_EPOCH_ORDINAL + day).isoformat()


class DatasetWriter:
    """Buffers rows per table and day and writes them as Parquet files. See the module doc."""

    def __init__(
        self,
        data_dir: str,
        *,
        writer_id: str | None = None,
        max_rows: int = DEFAULT_MAX_ROWS,
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_age_s: float | None = DEFAULT_MAX_AGE_S,
        storage_options: Mapping[str, Any] | None = None,
        storage: Storage | None = None,
    ) -> None:
        if writer_id is not None and not _WRITER_ID.match(writer_id):
            raise CollectorError(f"writer id {writer_id!r} may only use letters, digits, '_', '.' and '-'")
        if max_rows < 1 or max_bytes < 1:
            raise CollectorError("max_rows and max_bytes must be positive")
        self.storage = storage if storage is not None else open_storage(data_dir, storage_options)
        if isinstance(self.storage, LocalStorage):
            self.storage.check_writable()
        else:
            self.storage.filesystem  # noqa: B018 - an unknown protocol or a missing s3fs fails now
        self.writer_id = writer_id or new_writer_id()
        self.max_rows = max_rows
        self.max_bytes = max_bytes
        self.max_age_s = max_age_s
        #: Counters for /metrics and tests.
        self.rows_written = 0
        self.files_written = 0
        self.rows_dropped = 0
        self._explicit_id = writer_id is not None
        self._init_state()
        _writers.add(self)

    def _init_state(self) -> None:
        # Re-entrant: a signal handler flushing at exit may interrupt this same thread mid-flush.
        self._lock = threading.RLock()
        self._flush_lock = threading.RLock()
        self._buckets: dict[tuple[str, int], _Bucket] = {}
        self._rows = 0
        self._bytes = 0
        self._oldest: float | None = None
        self._seq = 0
        self._closed = False
        self._stop = threading.Event()
        self._timer: threading.Thread | None = None

    # --- adding ---------------------------------------------------------------------------

    def add(self, records: Iterable[SpanRecord]) -> int:
        """Convert ``records`` (see :func:`~callscope.collector.normalize.span_to_row`) and buffer
        them; returns how many. Raises :class:`CollectorError` after :meth:`close`."""
        return self._add([span_values(record) for record in records])

    def add_rows(self, rows: Iterable[tuple[str, Mapping[str, Any]]]) -> int:
        """Buffer already converted ``(table, row)`` pairs, rows keyed by every column name."""
        return self._add([(table, list(_GETTERS[table](row))) for table, row in rows])

    def add_values(self, rows: Iterable[tuple[str, list[Any]]]) -> int:
        """Buffer rows made by :func:`~callscope.collector.normalize.span_values` (the fast form;
        the OTLP service uses it to count metrics from the same rows it writes)."""
        return self._add(list(rows))

    def _add(self, staged: list[tuple[str, list[Any]]]) -> int:
        if not staged:
            return 0
        with self._lock:
            if self._closed:
                raise CollectorError("the dataset writer is closed")
            groups: dict[tuple[str, int], list[list[Any]]] = {}
            for table, values in staged:
                key = (table, values[_START_INDEX[table]] // US_PER_DAY)
                group = groups.get(key)
                if group is None:
                    groups[key] = group = []
                group.append(values)
            added_bytes = 0
            for key, rows in groups.items():
                bucket = self._buckets.get(key)
                if bucket is None:
                    self._buckets[key] = bucket = _Bucket(key[0])
                added_bytes += bucket.extend_rows(rows)
            self._rows += len(staged)
            self._bytes += added_bytes
            if self._oldest is None:
                self._oldest = time.monotonic()
            full = self._rows >= self.max_rows or self._bytes >= self.max_bytes
            start_timer = self._timer is None and self.max_age_s is not None and not self._stop.is_set()
            if start_timer:
                self._timer = threading.Thread(target=self._run_timer, name="callscope-writer", daemon=True)
        if start_timer and self._timer is not None:
            self._timer.start()
        if full:
            self.flush()
        return len(staged)

    @property
    def pending_rows(self) -> int:
        """Rows buffered and not yet written."""
        return self._rows

    def is_due(self, now: float | None = None) -> bool:
        """Whether the oldest buffered row has waited ``max_age_s``."""
        oldest, max_age = self._oldest, self.max_age_s
        if oldest is None or max_age is None:
            return False
        return (time.monotonic() if now is None else now) - oldest >= max_age

    # --- writing --------------------------------------------------------------------------

    def flush(self) -> list[str]:
        """Write every buffered row; return the paths written (empty if nothing was buffered).

        One file per table and day. If a write fails, its rows go back into the
        buffer and the error (:class:`StorageError` / :class:`DataDirError`) is raised.
        """
        with self._flush_lock:
            with self._lock:
                buckets, self._buckets = self._buckets, {}
                self._rows = self._bytes = 0
                self._oldest = None
            written: list[str] = []
            failed: dict[tuple[str, int], _Bucket] = {}
            error: Exception | None = None
            for (table, day), bucket in sorted(buckets.items()):
                path = self._next_path(table, day)
                try:
                    batches = bucket.batches()
                    self.storage.write_file(path, encode_batches(table, batches))
                except (StorageError, CollectorError) as err:
                    failed[(table, day)] = bucket
                    error = err
                    continue
                self.rows_written += bucket.rows
                self.files_written += 1
                written.append(path)
            if failed:
                self._requeue(failed)
                assert error is not None
                raise error
            return written

    def _next_path(self, table: str, day: int) -> str:
        with self._lock:
            self._seq += 1
            seq = self._seq
        name = f"{self.writer_id}-{seq:06d}.parquet"
        return self.storage.join(table, f"{PARTITION_COLUMN}={partition_date(day)}", name)

    def _requeue(self, failed: dict[tuple[str, int], _Bucket]) -> None:
        """Put the rows of failed writes back, keeping at most a bounded number (oldest days go)."""
        limit = self.max_rows * RETRY_BUFFER_FACTOR
        dropped = 0
        with self._lock:
            for key, bucket in failed.items():
                newer = self._buckets.get(key)
                if newer is not None:
                    bucket.extend(newer)
                self._buckets[key] = bucket
            total = sum(bucket.rows for bucket in self._buckets.values())
            for key in sorted(self._buckets):
                if total - dropped <= limit:
                    break
                dropped += self._buckets.pop(key).rows
            self._rows = total - dropped
            self._bytes = sum(bucket.bytes for bucket in self._buckets.values())
            self._oldest = self._oldest or time.monotonic()
            self.rows_dropped += dropped
        if dropped:
            log.error("callscope.writer.dropped", rows=dropped, reason="storage keeps failing")

    def _run_timer(self) -> None:
        interval = max(0.05, min(1.0, (self.max_age_s or 1.0) / 4))
        while not self._stop.wait(interval):
            if self.is_due():
                try:
                    self.flush()
                except Exception as err:  # never let the timer thread die; the rows are requeued
                    log.warning("callscope.writer.flush_failed", error=str(err))

    def close(self) -> list[str]:
        """Flush and stop; idempotent. Returns the paths written by this final flush."""
        self._stop.set()
        timer = self._timer
        if timer is not None and timer is not threading.current_thread():
            timer.join(timeout=10)
        try:
            return self.flush()
        finally:
            with self._lock:
                self._closed = True

    def __enter__(self) -> DatasetWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _after_fork_in_child(self) -> None:
        # The parent's buffered rows are the parent's to write; the child starts empty, with its
        # own id so both never produce the same file name.
        self._init_state()
        if not self._explicit_id:
            self.writer_id = new_writer_id()
        else:
            self.writer_id = f"{self.writer_id}-{os.getpid()}"


def _reset_writers_after_fork() -> None:
    for writer in list(_writers):
        writer._after_fork_in_child()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_writers_after_fork)
