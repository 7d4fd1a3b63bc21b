"""``callscope compact``: merge the small files of past days into one per day; apply retention.

Safe while writers run, because writers only ever *add* files with new names
and compaction only deletes files it has merged (or whole days past the
retention period). A file a writer adds to a day while it is being compacted
is simply not in the listing; the next run merges it.

What a reader can see, for each day compacted:

1. the merged file is built under a temporary name (hidden ``.compact-....tmp``
   next to the day's files locally, a local temp file for object storage), so
   no reader ever sees it half written;
2. it is published whole (an atomic rename, or one PUT / completed multipart
   upload), and its Parquet metadata lists the files it replaces
   (``callscope.compacted_from``);
3. the merged row count is checked against the sources; then the sources are
   deleted in one batch (one ``DeleteObjects`` call on S3).

Between 2 and 3 -- milliseconds locally, one round trip on S3 -- a query that
lists the day's files can count its rows twice; a query that listed a source
just before it was deleted can fail with "file not found". Re-running the
query gives the right answer; query layers that must never see this can skip
files named in a ``compacted_from`` list. If compaction dies between 2 and 3,
the duplicate sources stay until the next run, which finds them through
``compacted_from`` and deletes them first ("recovered" in the report).

Only one compaction may run on a dataset at a time: a lock file
(``<data>/.callscope/compact.lock``, created exclusively -- ``O_EXCL`` locally,
a conditional PUT on S3) enforces it; a lock older than :data:`STALE_LOCK_S`
is taken over.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import socket
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from callscope.collector.errors import CollectorError, StorageError
from callscope.collector.parquet import writer_options
from callscope.collector.schema import (
    METADATA_SCHEMA_VERSION,
    PARTITION_COLUMN,
    SCHEMA_VERSION,
    TABLES,
    arrow_schema,
)
from callscope.collector.storage import TEMP_SUFFIX, FileInfo, Storage, open_storage

if TYPE_CHECKING:
    import pyarrow as pa

#: Key in a merged file's Parquet metadata: JSON list of the file names it replaced.
METADATA_COMPACTED_FROM: Final = b"callscope.compacted_from"
COMPACT_PREFIX: Final = "compact-"
#: A day is compacted once it ended this long ago (late spans of the day still arriving).
DEFAULT_GRACE: Final = timedelta(hours=1)
#: Rows per row group of a merged file (bounds the memory compaction needs).
ROW_GROUP_ROWS: Final = 128 * 1024
STALE_LOCK_S: Final = 6 * 3600
#: Temporary files of writers that died mid-write are removed once this old.
STALE_TEMP_S: Final = 3600
LOCK_PATH: Final = (".callscope", "compact.lock")
_PARTITION: Final = re.compile(rf"^{PARTITION_COLUMN}=(\d{{4}}-\d{{2}}-\d{{2}})$")

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Merge:
    table: str
    day: date
    sources: int
    rows: int
    bytes_before: int
    bytes_after: int
    path: str  # the merged file ("" in a dry run)


@dataclass(frozen=True)
class Expiry:
    table: str
    day: date
    files: int
    bytes: int


@dataclass
class CompactionReport:
    """What a run did (or, with ``dry_run``, would do)."""

    dry_run: bool
    merged: list[Merge] = field(default_factory=list)
    expired: list[Expiry] = field(default_factory=list)
    #: Sources of an earlier interrupted run, deleted because a merged file already holds them.
    recovered: int = 0
    #: Temporary files of crashed writers that were removed.
    stale_temp_files: int = 0
    #: Days skipped because a file vanished or could not be read while merging.
    skipped: list[str] = field(default_factory=list)


def compact(
    data_dir: str,
    *,
    retention_days: int | None = None,
    dry_run: bool = False,
    now: datetime | None = None,
    grace: timedelta = DEFAULT_GRACE,
    storage_options: Mapping[str, Any] | None = None,
    progress: Progress | None = None,
) -> CompactionReport:
    """Merge the files of every finished day into one and delete days older than the retention.

    ``retention_days=None`` keeps everything; ``retention_days=30`` deletes days
    before ``today - 30`` (UTC). ``progress`` receives one line per action.
    """
    storage = open_storage(data_dir, storage_options)
    now = now or datetime.now(UTC)
    say = progress or (lambda line: None)
    report = CompactionReport(dry_run=dry_run)
    if retention_days is not None and retention_days < 0:
        raise CollectorError("the retention period cannot be negative")
    run = _Run(storage, report, say)
    with _lock(storage, dry_run):
        for table in TABLES:
            for day, directory in _partitions(storage, table):
                if retention_days is not None and day < now.date() - timedelta(days=retention_days):
                    run.expire(table, day, directory)
                elif now >= datetime.combine(day + timedelta(days=1), datetime.min.time(), UTC) + grace:
                    run.compact_day(table, day, directory)
    return report


def _partitions(storage: Storage, table: str) -> Iterator[tuple[date, str]]:
    for directory in storage.list_subdirs(storage.join(table)):
        match = _PARTITION.match(directory.rstrip("/").rsplit("/", 1)[-1])
        if match is not None:
            with suppress(ValueError):
                yield date.fromisoformat(match[1]), directory


@dataclass
class _Run:
    storage: Storage
    report: CompactionReport
    say: Progress

    def expire(self, table: str, day: date, directory: str) -> None:
        files = self.storage.list_dir(directory)
        size = sum(info.size for info in files)
        self.report.expired.append(Expiry(table, day, len(files), size))
        verb = "would delete" if self.report.dry_run else "deleted"
        self.say(f"{table} {day}: {verb} {len(files)} files ({_size(size)}), past the retention period")
        if not self.report.dry_run:
            self.storage.delete_files([info.path for info in files])
            self.storage.remove_empty_dir(directory)

    def compact_day(self, table: str, day: date, directory: str) -> None:
        storage, report, dry_run = self.storage, self.report, self.report.dry_run
        listing = storage.list_dir(directory)
        report.stale_temp_files += _remove_stale_temp_files(storage, listing, dry_run)
        files = [info for info in listing if _is_data_file(info.path)]
        files, recovered = _drop_already_merged(storage, files, dry_run)
        report.recovered += recovered
        if recovered:
            self.say(f"{table} {day}: deleted {recovered} files already merged by an interrupted run")
        if len(files) < 2:
            return
        size = sum(info.size for info in files)
        if dry_run:
            report.merged.append(Merge(table, day, len(files), -1, size, -1, ""))
            self.say(f"{table} {day}: would merge {len(files)} files ({_size(size)})")
            return
        try:
            merged_path, rows, merged_size = _merge(storage, table, directory, files)
        except FileNotFoundError:
            report.skipped.append(f"{table} {day}")
            self.say(f"{table} {day}: skipped, a file vanished while merging (another compaction?)")
            return
        storage.delete_files([info.path for info in files])
        report.merged.append(Merge(table, day, len(files), rows, size, merged_size, merged_path))
        self.say(
            f"{table} {day}: merged {len(files)} files, {rows:,} rows, {_size(size)} -> {_size(merged_size)}"
        )


def _is_data_file(path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    return name.endswith(".parquet") and not name.startswith(".")


def _remove_stale_temp_files(storage: Storage, listing: list[FileInfo], dry_run: bool) -> int:
    cutoff = time.time() - STALE_TEMP_S
    stale = [
        info.path
        for info in listing
        if info.path.endswith(TEMP_SUFFIX) and info.mtime is not None and info.mtime < cutoff
    ]
    if stale and not dry_run:
        storage.delete_files(stale)
    return len(stale)


def _drop_already_merged(
    storage: Storage, files: list[FileInfo], dry_run: bool
) -> tuple[list[FileInfo], int]:
    """Delete sources that a published merged file already holds (an interrupted earlier run)."""
    import pyarrow.parquet as pq

    names = {info.path.rsplit("/", 1)[-1]: info for info in files}
    merged_sources: set[str] = set()
    for name, info in names.items():
        if name.startswith(COMPACT_PREFIX):
            with storage.open_read(info.path) as handle:
                metadata = pq.read_metadata(handle).metadata or {}
            merged_sources.update(json.loads(metadata.get(METADATA_COMPACTED_FROM, b"[]")))
    leftovers = [names[name] for name in merged_sources if name in names]
    if leftovers and not dry_run:
        storage.delete_files([info.path for info in leftovers])
    left = {info.path for info in leftovers}
    return [info for info in files if info.path not in left], len(leftovers)


def _merge(storage: Storage, table: str, directory: str, files: list[FileInfo]) -> tuple[str, int, int]:
    """Write the merged file of ``files``; returns its path, rows and size. Sources are untouched."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    name = f"{COMPACT_PREFIX}{stamp}-{secrets.token_hex(3)}.parquet"
    final = f"{directory.rstrip('/')}/{name}"
    schema = _unified_schema(storage, table, files)
    sources = [info.path.rsplit("/", 1)[-1] for info in files]
    metadata = dict(schema.metadata or {})
    metadata[METADATA_COMPACTED_FROM] = json.dumps(sources).encode()
    schema = schema.with_metadata(metadata)
    temp = storage.temp_path_for(final)
    expected = 0
    try:
        with pq.ParquetWriter(temp, schema, **writer_options(schema)) as out:
            pending: list[pa.Table] = []
            pending_rows = 0
            for info in files:
                part = _conform(_read(storage, info.path), schema)
                expected += part.num_rows
                pending.append(part)
                pending_rows += part.num_rows
                if pending_rows >= ROW_GROUP_ROWS:
                    out.write_table(pa.concat_tables(pending), row_group_size=ROW_GROUP_ROWS)
                    pending, pending_rows = [], 0
            if pending:
                out.write_table(pa.concat_tables(pending), row_group_size=ROW_GROUP_ROWS)
        written = pq.read_metadata(temp).num_rows
        if written != expected:
            raise CollectorError(f"merged file has {written} rows, its sources {expected}; nothing deleted")
        size = os.path.getsize(temp)
        storage.put_local_file(temp, final)
    except BaseException:
        with suppress(OSError):
            os.unlink(temp)
        raise
    return final, expected, size


def _read(storage: Storage, path: str) -> pa.Table:
    import pyarrow.parquet as pq

    with storage.open_read(path) as handle:
        return pq.read_table(handle)


def _unified_schema(storage: Storage, table: str, files: list[FileInfo]) -> pa.Schema:
    """The current schema plus any column a (newer) writer added, so compaction never drops data."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schemas = [arrow_schema(table)]
    versions = [SCHEMA_VERSION]
    for info in files:
        with storage.open_read(info.path) as handle:
            schema = pq.read_schema(handle)
        schemas.append(schema)
        version = (schema.metadata or {}).get(METADATA_SCHEMA_VERSION)
        if version is not None and version.isdigit():
            versions.append(int(version))
    unified = pa.unify_schemas(schemas, promote_options="permissive")
    metadata = dict(arrow_schema(table).metadata or {})
    metadata[METADATA_SCHEMA_VERSION] = str(max(versions)).encode()
    return unified.with_metadata(metadata)


def _conform(part: pa.Table, schema: pa.Schema) -> pa.Table:
    import pyarrow as pa

    columns = []
    for column in schema:
        if column.name in part.column_names:
            columns.append(part.column(column.name).cast(column.type))
        else:
            columns.append(pa.nulls(part.num_rows, type=column.type))
    return pa.Table.from_arrays(columns, schema=schema)


@contextmanager
def _lock(storage: Storage, dry_run: bool) -> Iterator[None]:
    if dry_run:
        yield
        return
    path = storage.join(*LOCK_PATH)
    owner = json.dumps({"host": socket.gethostname(), "pid": os.getpid(), "since": time.time()}).encode()
    if not storage.create_exclusive(path, owner):
        if not _stale(storage, path):
            raise CollectorError(f"another compaction is running on this dataset (lock {path})")
        storage.delete_files([path])
        if not storage.create_exclusive(path, owner):
            raise CollectorError(f"another compaction is running on this dataset (lock {path})")
    try:
        yield
    finally:
        with suppress(StorageError, OSError):
            storage.delete_files([path])


def _stale(storage: Storage, path: str) -> bool:
    try:
        since = float(json.loads(storage.read_file(path))["since"])
    except (FileNotFoundError, ValueError, KeyError, TypeError):
        return True
    return time.time() - since > STALE_LOCK_S


def _size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"
