"""The write-ahead spool: why a 2xx from ``callscope collect`` survives ``kill -9``.

Every accepted request body (binary protobuf, whatever it arrived as) is
appended to the active segment file as one frame, and the request is answered
only once an ``fdatasync`` covers that frame. A single syncer thread does the
syncing, so concurrent requests share one ``fdatasync`` (group commit): while
one sync runs, the next batch of appends piles up and is covered by the next.

Layout of ``<spool>/``:

* ``LOCK``: held with ``flock`` for the life of the process; a second collector
  on the same spool is refused (each replica needs its own spool).
* ``<seq>.wal``: ``CSSPOOL1`` then frames of ``<u32 length><u32 crc32>payload``,
  the CRC covering the length bytes and the payload.
* ``failed/``: requests a bug kept from converting, as binary OTLP to resend.

Segments are sealed ("rolled") when the writer flushes and deleted only once
all their frames are in durable Parquet files. At start-up the segments left
over by a previous run are read back with :func:`iter_frames`, which stops at
the first torn or corrupt frame: only the tail being written when the process
died can be torn, and that frame was never acknowledged.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import struct
import threading
import zlib
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from callscope.collector.service.errors import SpoolError

logger = logging.getLogger(__name__)

SEGMENT_MAGIC: Final = b"CSSPOOL1"
SEGMENT_SUFFIX: Final = ".wal"
LOCK_NAME: Final = "LOCK"
#: Requests that could not be converted (a bug), kept as binary OTLP for resending.
FAILED_DIR: Final = "failed"
_FRAME: Final = struct.Struct("<II")  # payload length, crc32(length bytes + payload)
#: Larger lengths can only come from a corrupt header (requests are limited far below this).
MAX_FRAME_BYTES: Final = 1 << 30


@dataclass(frozen=True, slots=True)
class SpoolPosition:
    """Where a frame lives: its segment and its index within that segment."""

    segment: int
    index: int


@dataclass(slots=True)
class _Segment:
    seq: int
    path: Path
    fd: int | None
    frames: int = 0
    size: int = 0
    sealed: bool = False
    #: Global append number of the segment's last frame (what the syncer must reach to close it).
    last_append: int = 0


def segment_path(directory: Path, seq: int) -> Path:
    return directory / f"{seq:016d}{SEGMENT_SUFFIX}"


def _frame_header(payload: bytes) -> bytes:
    length = len(payload)
    return _FRAME.pack(length, zlib.crc32(payload, zlib.crc32(length.to_bytes(4, "little"))))


def iter_frames(
    path: Path, *, limit: int | None = None, on_torn: Callable[[int], None] | None = None
) -> Iterator[bytes]:
    """Yield the payloads of the segment at ``path`` in order, at most ``limit`` of them.

    Stops at the first incomplete or corrupt frame and reports how many bytes
    it skipped through ``on_torn``.
    """
    with path.open("rb") as file:
        size = os.fstat(file.fileno()).st_size
        magic = file.read(len(SEGMENT_MAGIC))
        if magic != SEGMENT_MAGIC:
            if size and on_torn:  # an empty file is a segment created just before a crash
                on_torn(size)
            return
        count = 0
        while limit is None or count < limit:
            offset = file.tell()
            header = file.read(_FRAME.size)
            if not header:
                return
            payload = b""
            if len(header) == _FRAME.size:
                length, crc = _FRAME.unpack(header)
                if length <= MAX_FRAME_BYTES:
                    payload = file.read(length)
                    if len(payload) == length and zlib.crc32(payload, zlib.crc32(header[:4])) == crc:
                        count += 1
                        yield payload
                        continue
            if on_torn:
                on_torn(size - offset)
            return


class Spool:
    """Append-only, fsync-before-ack log of request bodies, in numbered segment files."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._lock_file: int | None = None
        self._dir_fd: int | None = None
        self._dir_dirty = False
        self._segments: dict[int, _Segment] = {}
        self._active: _Segment | None = None
        self._to_sync: list[_Segment] = []
        self._next_seq = 1
        self._appended = 0
        self._synced = 0
        self._waiters: deque[tuple[int, Future[None]]] = deque()
        self._failure: SpoolError | None = None
        self._closing = False
        self._syncer: threading.Thread | None = None
        #: Segments a previous run left behind, oldest first: replay them, then :meth:`delete` them.
        self.leftover: list[Path] = []

    # -- life cycle ------------------------------------------------------------------------

    def open(self) -> list[Path]:
        """Lock the spool directory, find leftover segments and start the syncer; returns the leftovers."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            self._lock_file = os.open(self.directory / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as err:
            raise SpoolError(f"cannot use spool directory {self.directory}: {err.strerror}") from None
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(self._lock_file, 32, 0).decode(errors="replace").strip() or "?"
            os.close(self._lock_file)
            self._lock_file = None
            raise SpoolError(
                f"spool {self.directory} is in use by another collector (pid {holder}); "
                "give each replica its own --spool directory"
            ) from None
        os.ftruncate(self._lock_file, 0)
        os.pwrite(self._lock_file, str(os.getpid()).encode(), 0)
        self._dir_fd = os.open(self.directory, os.O_RDONLY)
        numbered = []
        for path in self.directory.glob(f"*{SEGMENT_SUFFIX}"):
            with contextlib.suppress(ValueError):
                numbered.append((int(path.stem), path))
        numbered.sort()
        self.leftover = [path for _, path in numbered]
        self._next_seq = numbered[-1][0] + 1 if numbered else 1
        self._syncer = threading.Thread(target=self._sync_loop, name="callscope-spool-sync", daemon=True)
        self._syncer.start()
        return list(self.leftover)

    def close(self) -> None:
        """Sync what was appended, stop the syncer, close files and release the lock."""
        with self._lock:
            self._closing = True
            self._wake.notify_all()
        if self._syncer is not None:
            self._syncer.join()
        with self._lock:
            for segment in self._segments.values():
                if segment.fd is not None:
                    os.close(segment.fd)
                    segment.fd = None
            self._active = None
            self._to_sync.clear()
        if self._dir_fd is not None:
            with contextlib.suppress(OSError):
                os.fsync(self._dir_fd)  # make the last deletions stick, so a restart replays nothing twice
        for fd in (self._dir_fd, self._lock_file):
            if fd is not None:
                os.close(fd)
        self._dir_fd = self._lock_file = None

    # -- appending -------------------------------------------------------------------------

    def append(self, payload: bytes) -> tuple[SpoolPosition, Future[None]]:
        """Append one frame; the future completes once the frame is on stable storage.

        Raises :class:`SpoolError` if the spool is closed or broken; a frame that
        failed to write is truncated away so the segment stays readable.
        """
        header = _frame_header(payload)
        with self._lock:
            if self._failure is not None:
                raise self._failure
            if self._closing:
                raise SpoolError("the spool is closed")
            segment = self._active or self._new_segment()
            assert segment.fd is not None
            try:
                _write_all(segment.fd, header)
                _write_all(segment.fd, payload)
            except OSError as err:
                self._undo_partial_write(segment)
                raise SpoolError(f"cannot write to spool {segment.path}: {err.strerror}") from None
            segment.size += len(header) + len(payload)
            segment.frames += 1
            self._appended += 1
            segment.last_append = self._appended
            durable: Future[None] = Future()
            # Running futures cannot be cancelled: a client hanging up (asyncio cancels its wait)
            # must not turn the syncer's set_result into an error.
            durable.set_running_or_notify_cancel()
            self._waiters.append((self._appended, durable))
            self._wake.notify()
            return SpoolPosition(segment.seq, segment.frames - 1), durable

    def _new_segment(self) -> _Segment:
        path = segment_path(self.directory, self._next_seq)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o644)
            _write_all(fd, SEGMENT_MAGIC)
        except OSError as err:
            raise SpoolError(f"cannot create spool segment {path}: {err.strerror}") from None
        segment = _Segment(self._next_seq, path, fd, size=len(SEGMENT_MAGIC))
        self._next_seq += 1
        self._segments[segment.seq] = segment
        self._active = segment
        self._dir_dirty = True
        return segment

    def _undo_partial_write(self, segment: _Segment) -> None:
        assert segment.fd is not None
        try:
            os.ftruncate(segment.fd, segment.size)
        except OSError:
            # A torn frame we cannot remove: never append after it, or replay would stop there.
            self._seal(segment)

    def _seal(self, segment: _Segment) -> None:
        segment.sealed = True
        if self._active is segment:
            self._active = None
        self._to_sync.append(segment)

    def roll(self) -> int | None:
        """Seal the active segment so it can be deleted once its frames are written; returns its number."""
        with self._lock:
            segment = self._active
            if segment is None or segment.frames == 0:
                return None
            self._seal(segment)
            return segment.seq

    # -- bookkeeping for the writer --------------------------------------------------------

    def sealed_frames(self) -> dict[int, int]:
        """Sealed segments of this run that are not deleted yet: number -> frame count."""
        with self._lock:
            return {seq: s.frames for seq, s in self._segments.items() if s.sealed}

    def delete(self, seq: int) -> None:
        """Remove a segment whose frames are all durably written elsewhere."""
        with self._lock:
            segment = self._segments.pop(seq, None)
            path = segment.path if segment else segment_path(self.directory, seq)
            self._dir_dirty = True
        path.unlink(missing_ok=True)

    def delete_leftover(self, path: Path) -> None:
        path.unlink(missing_ok=True)
        with self._lock:
            self._dir_dirty = True
        self.leftover = [p for p in self.leftover if p != path]

    def live_segments(self) -> list[int]:
        """Numbers of this run's segments that still exist, oldest first."""
        with self._lock:
            return sorted(self._segments)

    @property
    def size_bytes(self) -> int:
        with self._lock:
            live = sum(s.size for s in self._segments.values())
        return live + sum(_size(path) for path in self.leftover)

    @property
    def segment_count(self) -> int:
        with self._lock:
            return len(self._segments) + len(self.leftover)

    @property
    def failure(self) -> SpoolError | None:
        return self._failure

    # -- the syncer ------------------------------------------------------------------------

    def _sync_loop(self) -> None:
        while True:
            with self._lock:
                while self._synced == self._appended and not self._dir_dirty and not self._closing:
                    self._wake.wait()
                if self._closing and self._synced == self._appended:
                    return
                target = self._appended
                segments = list(self._to_sync)
                if self._active is not None:
                    segments.append(self._active)
                fds = [s.fd for s in segments if s.fd is not None]
                sync_dir, self._dir_dirty = self._dir_dirty, False
            try:
                if sync_dir and self._dir_fd is not None:
                    os.fsync(self._dir_fd)
                for fd in fds:
                    os.fdatasync(fd)
            except OSError as err:
                self._fail(
                    SpoolError(f"fsync of the spool failed ({err.strerror}); not acknowledging anything")
                )
                return
            ready: list[Future[None]] = []
            with self._lock:
                self._synced = target
                while self._waiters and self._waiters[0][0] <= target:
                    ready.append(self._waiters.popleft()[1])
                done = [s for s in segments if s.sealed and s.last_append <= target]
                for segment in done:
                    if segment.fd is not None:
                        os.close(segment.fd)
                        segment.fd = None
                self._to_sync = [s for s in self._to_sync if s not in done]
            for future in ready:
                future.set_result(None)

    def _fail(self, failure: SpoolError) -> None:
        logger.error("%s", failure)
        with self._lock:
            self._failure = failure
            waiters = [future for _, future in self._waiters]
            self._waiters.clear()
        for future in waiters:
            future.set_exception(failure)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
