"""From acknowledged request bodies to Parquet: the bounded queue, the writer thread, the spool's life.

``submit`` runs on the request path: it reserves room in the memory budget
(or refuses with :class:`~.errors.Overloaded`), appends the body to the spool
and queues it, all under one lock so the queue is in spool order. The caller
answers its client once the returned future says the frame is fsynced.

One writer thread takes bodies off the queue and hands them to a
:class:`~.converter.Converter` (in this thread, or in worker processes), which
decodes them, converts them with ``span_values`` and buffers the rows in a
:class:`~callscope.collector.writer.DatasetWriter` that never flushes on its
own: this module decides when, so it knows exactly which spool frames a
successful flush made durable. A flush seals the active spool segment first;
afterwards every sealed segment whose frames were all handed over is deleted.
A failed flush keeps its rows in the writers and is retried with backoff while
the queue fills and clients get 429s; nothing is deleted from the spool until
the data is in Parquet.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

from callscope.collector.service.converter import Converter, Flushed
from callscope.collector.service.errors import Overloaded, ServiceError, SpoolError, Unavailable
from callscope.collector.service.metrics import ServiceMetrics
from callscope.collector.service.spool import Spool, SpoolPosition, iter_frames

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PipelineLimits:
    #: Bodies accepted but not yet converted, plus bodies being received (bytes).
    max_buffer_bytes: int = 64 * 2**20
    #: Flush at least this often while anything is pending (seconds) ...
    flush_interval_s: float = 10.0
    #: ... or when this many request bytes were converted since the last flush.
    flush_bytes: int = 32 * 2**20
    #: Retry-After for a full buffer; doubled while the dataset is failing.
    retry_after_s: float = 1.0


@dataclass(frozen=True, slots=True)
class ReplayResult:
    segments: int
    requests: int
    torn_bytes: int


@dataclass(frozen=True, slots=True)
class _Item:
    payload: bytes
    position: SpoolPosition


class Pipeline:
    """The bounded queue between the receivers and the dataset writer (see the module doc)."""

    def __init__(
        self, converter: Converter, spool: Spool, metrics: ServiceMetrics, limits: PipelineLimits
    ) -> None:
        self.converter = converter
        self.spool = spool
        self.metrics = metrics
        self.limits = limits
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._queue: deque[_Item] = deque()
        self._buffered = 0  # bytes reserved: queued bodies and bodies being received
        self._consumed: dict[int, int] = {}  # segment -> frames handed to the converter
        self._pending_frames = 0
        self._pending_bytes = 0
        self._pending_since: float | None = None
        self._closing = False
        self._give_up = threading.Event()
        self._healthy = True
        #: Set when the writer thread died of an unexpected error; the spool keeps everything since.
        self.fatal: BaseException | None = None
        self._thread: threading.Thread | None = None

    # -- request path ----------------------------------------------------------------------

    def reserve(self, size: int) -> None:
        """Account for ``size`` bytes being received; raises :class:`Overloaded` if they do not fit."""
        with self._lock:
            self._check_room(size)
            self._buffered += size

    def release(self, size: int) -> None:
        with self._lock:
            self._buffered -= size

    def submit(self, payload: bytes) -> Future[None]:
        """Spool and queue one request body; the future completes when it is safe to acknowledge."""
        with self._lock:
            self._check_room(len(payload))
            try:
                position, durable = self.spool.append(payload)
            except SpoolError as err:
                raise Unavailable(f"cannot accept spans: {err}", self.limits.retry_after_s * 5) from None
            self._buffered += len(payload)
            self._queue.append(_Item(payload, position))
            self._wake.notify()
        return durable

    def _check_room(self, size: int) -> None:
        if self.fatal is not None:
            raise Unavailable("this collector cannot write (see its log); retry on another replica", 5.0)
        if self._closing:
            raise Unavailable("the collector is shutting down; retry (possibly on another replica)", 1.0)
        if self._buffered + size > self.limits.max_buffer_bytes and self._buffered > 0:
            if self._healthy:
                raise Overloaded(
                    "the collector's buffer is full; retry after the delay in Retry-After",
                    self.limits.retry_after_s,
                )
            raise Unavailable(
                "the dataset is not accepting writes and the buffer is full; retry later",
                self.limits.retry_after_s * 5,
            )

    # -- state for health and metrics ------------------------------------------------------

    @property
    def healthy(self) -> bool:
        """False while flushes to the dataset fail (the replica should get no new traffic)."""
        return self._healthy and self.alive

    @property
    def alive(self) -> bool:
        """False once the writer thread or the spool failed for good: restart the process (it replays)."""
        return self.fatal is None and self.spool.failure is None

    @property
    def buffered_bytes(self) -> int:
        return self._buffered

    @property
    def queued_requests(self) -> int:
        return len(self._queue)

    # -- start-up replay -------------------------------------------------------------------

    def replay(self, leftovers: list[Path]) -> ReplayResult:
        """Write the requests a previous run spooled but did not write, then delete their segments."""
        requests = torn = 0

        def on_torn(size: int) -> None:
            nonlocal torn
            torn += size

        for path in leftovers:
            for payload in iter_frames(path, on_torn=on_torn):
                self.converter.convert(payload)
                requests += 1
        if torn:
            logger.warning(
                "skipped %d bytes of torn spool frames (requests that were never acknowledged)", torn
            )
        if leftovers:
            try:
                self._flush_once()
            except Exception as err:
                raise ServiceError(
                    f"cannot write the {requests} spooled requests to the dataset ({err}); "
                    "the spool is kept: fix the data location and start again"
                ) from None
            for path in leftovers:
                self.spool.delete_leftover(path)
            self.metrics.replayed_requests.inc(amount=requests)
        return ReplayResult(len(leftovers), requests, torn)

    # -- the writer thread -----------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="callscope-collector-writer", daemon=True)
        self._thread.start()

    def close(self, timeout: float = 30.0) -> bool:
        """Stop accepting, write everything queued and delete the spool segments.

        Returns False if the dataset kept failing until ``timeout``: the spool then
        keeps the unwritten requests for the next start.
        """
        with self._lock:
            self._closing = True
            self._wake.notify()
        finished = self.fatal is None
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                self._give_up.set()
                self._thread.join()
                finished = False
        if finished:
            try:
                self._apply(self.converter.close())
            except Exception as err:
                logger.error("closing the dataset writer failed: %s", err)
                finished = False
        if not finished:
            self.converter.terminate()  # without writing: the spool keeps their requests
        self.spool.close()
        return finished

    def _run(self) -> None:
        try:
            self._loop()
        except BaseException as err:
            # Not a conversion error (those are caught per span): the writer itself broke. Stop
            # consuming so no spool segment is deleted from here on; a restart replays them.
            self.fatal = err
            logger.critical(
                "the dataset writer thread stopped: %r; restart this collector", err, exc_info=True
            )

    def _loop(self) -> None:
        while True:
            with self._lock:
                while not self._queue and not self._closing and not self._flush_due():
                    self._wake.wait(self._seconds_until_due())
                item = self._queue.popleft() if self._queue else None
                draining_done = self._closing and item is None
            if item is not None:
                self._consume(item)
            if (self._flush_due() or draining_done) and not self._flush_with_retry():
                return
            if draining_done:
                return

    def _consume(self, item: _Item) -> None:
        self.converter.convert(item.payload)  # if this raises, the item never counts as handed over
        with self._lock:
            self._buffered -= len(item.payload)
            segment = item.position.segment
            self._consumed[segment] = self._consumed.get(segment, 0) + 1
            self._pending_frames += 1
            self._pending_bytes += len(item.payload)
            if self._pending_since is None:
                self._pending_since = time.monotonic()

    def _flush_due(self) -> bool:
        if self._pending_since is None:
            return False
        limits = self.limits
        return (
            time.monotonic() - self._pending_since >= limits.flush_interval_s
            or self._pending_bytes >= limits.flush_bytes
        )

    def _seconds_until_due(self) -> float | None:
        if self._pending_since is None:
            return None
        return max(0.0, self._pending_since + self.limits.flush_interval_s - time.monotonic())

    def _flush_with_retry(self) -> bool:
        """Flush until it works; False if told to give up (the spool keeps the data)."""
        self.spool.roll()
        backoff = 0.5
        while True:
            try:
                self._flush_once()
            except Exception as err:
                self._healthy = False
                self.metrics.write_errors.inc()
                logger.error("writing to the dataset failed (%s); retrying in %.1f s", err, backoff)
                if self._give_up.wait(backoff):
                    return False
                backoff = min(backoff * 2, 5.0)
                continue
            self._healthy = True
            break
        with self._lock:
            consumed = dict(self._consumed)
            self._pending_frames = self._pending_bytes = 0
            self._pending_since = None
        for seq, frames in self.spool.sealed_frames().items():
            if consumed.get(seq, 0) >= frames:
                self.spool.delete(seq)
                with self._lock:
                    self._consumed.pop(seq, None)
        return True

    def _flush_once(self) -> None:
        started = time.monotonic()
        try:
            done = self.converter.flush()
        except Exception as err:
            written = getattr(err, "written", None)  # what some converter processes did write
            if isinstance(written, Flushed):
                self._apply(written)
            raise
        self.metrics.flush_duration.observe(time.monotonic() - started)
        self._apply(done)

    def _apply(self, done: Flushed) -> None:
        """Count what a flush wrote, in /metrics."""
        metrics = self.metrics
        metrics.files_written.inc(amount=done.files)
        for table, count in done.rows.items():
            metrics.rows_written.inc(table, amount=count)
        metrics.conversion_errors.inc(amount=done.conversion_errors)
        metrics.apply(done.stats)
