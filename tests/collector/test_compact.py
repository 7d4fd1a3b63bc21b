"""Compaction and retention: every row kept, no partial file ever visible, safe beside writers."""

from __future__ import annotations

import glob
import json
import os
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from callscope.collector.compact import LOCK_PATH, METADATA_COMPACTED_FROM, compact
from callscope.collector.errors import CollectorError, StorageError
from callscope.collector.storage import LocalStorage
from callscope.collector.writer import DatasetWriter

from tests.collector.readback import query
from tests.collector.s3server import AWS_ENV, S3Server, moto_s3
from tests.collector.spans import NOON_NS, callscope_record, server_record

DAY_NS = 86_400 * 10**9
#: 2026-12-01T12:00Z: the 29th and 30th are past days, the 1st is today.
NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


def fill(
    root: str, days: int = 3, writers: int = 3, per_file: int = 7, files: int = 4, **options: Any
) -> int:
    """Several writers, several small files per day; returns the number of calls written."""
    total = 0
    for w in range(writers):
        writer = DatasetWriter(root, max_age_s=None, **options)
        for f in range(files):
            for d in range(days):
                base = (w * 1000 + f * 100 + d * 10) * 10
                writer.add(
                    [callscope_record(base + i, start_ns=NOON_NS + d * DAY_NS) for i in range(per_file)]
                )
                writer.add([server_record(base, start_ns=NOON_NS + d * DAY_NS)])
                total += per_file
            writer.flush()
        writer.close()
    return total


def parquet_files(root: Path, table: str = "calls") -> list[str]:
    return sorted(glob.glob(str(root / table / "**" / "*.parquet"), recursive=True))


def test_merges_past_days_into_one_file_and_keeps_every_row(tmp_path: Path) -> None:
    total = fill(str(tmp_path))
    before = query(
        str(tmp_path),
        "SELECT date, count(*), sum(input_tokens), round(sum(cost_usd), 12) FROM t GROUP BY 1 ORDER BY 1",
    )
    ids_before = query(str(tmp_path), "SELECT span_id, trace_id FROM t ORDER BY 1, 2")
    assert len(parquet_files(tmp_path)) == 3 * 4 * 3
    lines: list[str] = []
    report = compact(str(tmp_path), now=NOW, progress=lines.append)
    assert [(m.table, str(m.day), m.sources, m.rows) for m in report.merged] == [
        ("calls", "2026-11-29", 12, total // 3),
        ("calls", "2026-11-30", 12, total // 3),
        ("spans", "2026-11-29", 12, 12),
        ("spans", "2026-11-30", 12, 12),
    ]
    files = parquet_files(tmp_path)
    assert [Path(f).parent.name for f in files].count("date=2026-11-29") == 1
    assert [Path(f).parent.name for f in files].count("date=2026-11-30") == 1
    assert [Path(f).parent.name for f in files].count("date=2026-12-01") == 12  # today is left alone
    assert (
        query(
            str(tmp_path),
            "SELECT date, count(*), sum(input_tokens), round(sum(cost_usd), 12) FROM t GROUP BY 1 ORDER BY 1",
        )
        == before
    )
    assert query(str(tmp_path), "SELECT span_id, trace_id FROM t ORDER BY 1, 2") == ids_before
    assert query(str(tmp_path), "SELECT count(*) FROM t", "spans") == [(36,)]
    assert lines[0].startswith("calls 2026-11-29: merged 12 files, 84 rows")
    merged = next(f for f in files if "2026-11-29" in f)
    metadata = pq.read_metadata(merged).metadata
    assert metadata[b"callscope.schema_version"] == b"1"
    assert len(json.loads(metadata[METADATA_COMPACTED_FROM])) == 12
    # A second run has nothing left to do.
    assert compact(str(tmp_path), now=NOW).merged == []


def test_dry_run_changes_nothing(tmp_path: Path) -> None:
    fill(str(tmp_path), writers=1)
    before = sorted(glob.glob(str(tmp_path / "**" / "*"), recursive=True))
    lines: list[str] = []
    report = compact(str(tmp_path), now=NOW, retention_days=1, dry_run=True, progress=lines.append)
    assert report.dry_run
    assert (len(report.merged), len(report.expired)) == (2, 2)  # the 29th expires
    assert sorted(glob.glob(str(tmp_path / "**" / "*"), recursive=True)) == before
    assert any("would delete" in line for line in lines)
    assert any("would merge" in line for line in lines)


def test_retention_deletes_old_days(tmp_path: Path) -> None:
    total = fill(str(tmp_path), writers=1)
    report = compact(str(tmp_path), now=NOW, retention_days=1)  # keep 2026-11-30 and later
    assert [(e.table, str(e.day), e.files) for e in report.expired] == [
        ("calls", "2026-11-29", 4),
        ("spans", "2026-11-29", 4),
    ]
    assert not (tmp_path / "calls" / "date=2026-11-29").exists()
    assert query(str(tmp_path), "SELECT count(*) FROM t") == [(total * 2 // 3,)]
    with pytest.raises(CollectorError, match="negative"):
        compact(str(tmp_path), retention_days=-1)


def test_a_day_is_left_alone_during_its_grace_period(tmp_path: Path) -> None:
    fill(str(tmp_path), days=1, writers=2)
    just_after_midnight = datetime(2026, 11, 30, 0, 30, tzinfo=UTC)
    assert compact(str(tmp_path), now=just_after_midnight).merged == []
    assert len(compact(str(tmp_path), now=datetime(2026, 11, 30, 1, 30, tzinfo=UTC)).merged) == 2


@pytest.mark.slow
def test_concurrent_writer_and_reader_lose_nothing_and_see_no_partial_file(tmp_path: Path) -> None:
    """A writer keeps adding late spans to a past day while compaction runs again and again."""
    root = str(tmp_path)
    fill(root, days=1, writers=2)
    written = [query(root, "SELECT count(*) FROM t")[0][0]]
    stop = threading.Event()
    reader_errors: list[Exception] = []

    def writer_loop() -> None:
        writer = DatasetWriter(root, max_rows=5, max_age_s=None)
        i = 0
        while not stop.is_set():
            writer.add([callscope_record(10**6 + i, start_ns=NOON_NS)])  # a late span of the 29th
            i += 1
            time.sleep(0.001)
        writer.close()
        written.append(i)

    def reader_loop() -> None:
        while not stop.is_set():
            for path in parquet_files(tmp_path):
                try:
                    pq.read_table(path)
                except FileNotFoundError:
                    pass  # merged and deleted between listing and reading: allowed (documented)
                except Exception as err:
                    reader_errors.append(err)

    threads = [threading.Thread(target=writer_loop), threading.Thread(target=reader_loop)]
    for thread in threads:
        thread.start()
    try:
        runs = 0
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            compact(root, now=NOW)
            runs += 1
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert runs > 1
    assert reader_errors == []
    assert query(root, "SELECT count(*), count(DISTINCT span_id) FROM t") == [(sum(written), sum(written))]
    compact(root, now=NOW)
    assert len(parquet_files(tmp_path)) == 1


class CrashBeforeDelete(LocalStorage):
    """Dies after publishing the merged file, before deleting its sources (fault injection)."""

    def delete_files(self, paths: list[str]) -> None:
        if any(p.endswith(".parquet") for p in paths):
            raise StorageError("crashed")
        super().delete_files(paths)


def test_an_interrupted_run_is_repaired_by_the_next(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    total = fill(str(tmp_path), days=1, writers=2)
    monkeypatch.setattr(
        "callscope.collector.compact.open_storage", lambda root, options: CrashBeforeDelete(root)
    )
    with pytest.raises(StorageError, match="crashed"):
        compact(str(tmp_path), now=NOW)
    monkeypatch.undo()
    # The merged file and its sources are both there: readers would count twice until repaired.
    assert query(str(tmp_path), "SELECT count(*) FROM t") == [(2 * total,)]
    report = compact(str(tmp_path), now=NOW)
    assert report.recovered == 8
    assert query(str(tmp_path), "SELECT count(*), count(DISTINCT span_id) FROM t") == [(total, total)]
    assert len(parquet_files(tmp_path)) == 1


def test_only_one_compaction_at_a_time(tmp_path: Path) -> None:
    fill(str(tmp_path), days=1, writers=1)
    lock = tmp_path.joinpath(*LOCK_PATH)
    lock.parent.mkdir(parents=True)
    lock.write_text(json.dumps({"host": "other", "pid": 1, "since": time.time()}))
    with pytest.raises(CollectorError, match="another compaction is running"):
        compact(str(tmp_path), now=NOW)
    lock.write_text(json.dumps({"host": "other", "pid": 1, "since": time.time() - 7 * 3600}))
    assert len(compact(str(tmp_path), now=NOW).merged) == 2  # a stale lock is taken over
    assert not lock.exists()


def test_stale_temporary_files_of_dead_writers_are_removed(tmp_path: Path) -> None:
    fill(str(tmp_path), days=1, writers=1)
    day = tmp_path / "calls" / "date=2026-11-29"
    stale, fresh = day / ".dead-000001.parquet.123.tmp", day / ".live-000001.parquet.456.tmp"
    stale.write_bytes(b"half")
    fresh.write_bytes(b"half")
    os.utime(stale, (time.time() - 7200, time.time() - 7200))
    report = compact(str(tmp_path), now=NOW)
    assert report.stale_temp_files == 1
    assert not stale.exists()
    assert fresh.exists()


def test_files_of_older_and_newer_schemas_merge_without_losing_columns(tmp_path: Path) -> None:
    fill(str(tmp_path), days=1, writers=1, files=1)
    day = tmp_path / "calls" / "date=2026-11-29"
    old = pa.table({"trace_id": ["f" * 32], "span_id": ["e" * 16], "input_tokens": pa.array([5], pa.int64())})
    pq.write_table(old, day / "old-writer-000001.parquet")
    new = pa.table({"trace_id": ["d" * 32], "span_id": ["c" * 16], "future_column": ["kept"]})
    pq.write_table(new, day / "new-writer-000001.parquet")
    compact(str(tmp_path), now=NOW)
    (merged,) = parquet_files(tmp_path)
    table = pq.read_table(merged)
    assert table.num_rows == 9
    assert {"future_column", "cost_usd"} <= set(table.column_names)
    assert query(
        str(tmp_path),
        "SELECT future_column, input_tokens FROM t "
        "WHERE span_id IN ('cccccccccccccccc', 'eeeeeeeeeeeeeeee') ORDER BY span_id",
    ) == [
        ("kept", None),
        (None, 5),
    ]


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[S3Server]:
    for name, value in AWS_ENV.items():
        monkeypatch.setenv(name, value)
    with moto_s3() as server:
        yield server


@pytest.mark.slow
def test_compaction_and_retention_on_s3(s3: S3Server) -> None:
    import s3fs

    url = s3.url("dataset")
    total = fill(url, writers=2, files=2, storage_options=s3.storage_options)
    fs = s3fs.S3FileSystem(key="test", secret="test", endpoint_url=s3.endpoint_url, skip_instance_cache=True)
    before = query(
        url, "SELECT date, count(*), sum(input_tokens) FROM t GROUP BY 1 ORDER BY 1", filesystem=fs
    )
    report = compact(url, now=NOW, retention_days=1, storage_options=s3.storage_options)
    assert [(m.table, str(m.day), m.sources) for m in report.merged] == [
        ("calls", "2026-11-30", 4),
        ("spans", "2026-11-30", 4),
    ]
    assert [(e.table, str(e.day)) for e in report.expired] == [
        ("calls", "2026-11-29"),
        ("spans", "2026-11-29"),
    ]
    fs.invalidate_cache()
    keys = [k for k in fs.find(f"{s3.bucket}/dataset") if k.endswith(".parquet")]
    assert sum("/calls/date=2026-11-30/compact-" in k for k in keys) == 1
    assert not any("2026-11-29" in k for k in keys)
    assert not fs.exists(f"{s3.bucket}/dataset/.callscope/compact.lock")
    after = query(url, "SELECT date, count(*), sum(input_tokens) FROM t GROUP BY 1 ORDER BY 1", filesystem=fs)
    assert after == before[1:]
    assert sum(row[1] for row in after) == total * 2 // 3
