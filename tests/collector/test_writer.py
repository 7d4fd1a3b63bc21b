"""DatasetWriter: layout, values DuckDB reads back, rolling, atomic files, failures, threads."""

from __future__ import annotations

import glob
import os
import re
import threading
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from callscope.collector.errors import CollectorError, DataDirError, StorageError, StorageURLError
from callscope.collector.normalize import span_to_row
from callscope.collector.storage import LocalStorage, open_storage
from callscope.collector.writer import DatasetWriter
from callscope.instrumentation import attributes as A

from tests.collector.readback import count, query
from tests.collector.spans import NOON_NS, callscope_record, server_record

FILE_NAME = re.compile(r"^[A-Za-z0-9_.-]+-\d+-[0-9a-f]{6}-\d{6}\.parquet$")


def test_rows_round_trip_through_duckdb_with_exact_values(tmp_path: Path) -> None:
    writer = DatasetWriter(str(tmp_path), max_age_s=None)
    records = [callscope_record(i) for i in range(100)] + [server_record(i) for i in range(10)]
    assert writer.add(records) == 110
    paths = writer.flush()
    writer.close()
    assert len(paths) == 2  # one file per table and day
    assert count(str(tmp_path)) == 100
    assert count(str(tmp_path), "spans") == 10
    total = query(
        str(tmp_path),
        "SELECT sum(input_tokens), sum(cost_usd), count(DISTINCT request_id), min(date), "
        "sum(len(attempt_statuses)), count(*) FILTER (WHERE tags['feature'] = 'summarize') FROM t",
    )
    assert total == [
        (sum(2000 + i for i in range(100)), pytest.approx(100 * 0.0005232), 100, date(2026, 11, 29), 200, 100)
    ]
    (row,) = query(
        str(tmp_path),
        "SELECT start_time, duration_ms, finish_reasons, attempt_durations_ms, stream, "
        "attributes->>'callscope.http.retry_after_ms', schema_version FROM t WHERE request_id = 'req_0003'",
    )
    assert row == (
        datetime(2026, 11, 29, 12, tzinfo=UTC),
        800.0,
        ["stop"],
        [12.5, 310.0],
        False,
        "[500.0,0.0]",
        1,
    )
    (spans_row,) = query(
        str(tmp_path),
        "SELECT name, http_route, http_status FROM t WHERE trace_id = '" + f"{3:032x}'",
        "spans",
    )
    assert spans_row == ("POST /summarize", "/summarize", 200)


def test_layout_file_names_and_parquet_metadata(tmp_path: Path) -> None:
    writer = DatasetWriter(str(tmp_path), max_age_s=None)
    before_midnight = NOON_NS + 12 * 3600 * 10**9 - 1  # 2026-11-29T23:59:59.999999999Z
    writer.add(
        [callscope_record(0, start_ns=before_midnight), callscope_record(1, start_ns=before_midnight + 1)]
    )
    paths = sorted(writer.flush())
    assert [Path(p).parent.name for p in paths] == ["date=2026-11-29", "date=2026-11-30"]
    assert all(Path(p).parent.parent.name == "calls" for p in paths)
    assert all(FILE_NAME.match(Path(p).name) for p in paths)
    assert all(Path(p).name.startswith(writer.writer_id + "-") for p in paths)
    metadata = pq.read_metadata(paths[0])
    assert metadata.metadata[b"callscope.schema_version"] == b"1"
    assert metadata.metadata[b"callscope.table"] == b"calls"
    assert metadata.row_group(0).column(0).compression == "ZSTD"
    assert not glob.glob(str(tmp_path / "**" / "*.tmp"), recursive=True)


def test_writer_ids_are_unique_and_validated(tmp_path: Path) -> None:
    ids = {DatasetWriter(str(tmp_path), max_age_s=None).writer_id for _ in range(20)}
    assert len(ids) == 20
    assert DatasetWriter(str(tmp_path), writer_id="replica-1", max_age_s=None).writer_id == "replica-1"
    with pytest.raises(CollectorError, match="writer id"):
        DatasetWriter(str(tmp_path), writer_id="../escape")


def test_rolls_by_row_count(tmp_path: Path) -> None:
    writer = DatasetWriter(str(tmp_path), max_rows=25, max_age_s=None)
    for i in range(0, 100, 10):
        writer.add([callscope_record(j) for j in range(i, i + 10)])
    assert writer.files_written == 3  # after 30, 60 and 90 rows
    assert writer.pending_rows == 10
    writer.close()
    assert writer.files_written == 4
    assert count(str(tmp_path)) == 100


def test_rolls_by_size(tmp_path: Path) -> None:
    big = {A.OPERATION: "chat", "custom.blob": "x" * 100_000}
    writer = DatasetWriter(str(tmp_path), max_bytes=250_000, max_age_s=None)
    writer.add([callscope_record(i, attributes=big) for i in range(5)])
    assert writer.files_written == 1  # the third 100 kB row crossed 250 kB
    writer.close()
    assert count(str(tmp_path)) == 5


def test_rolls_by_age_without_any_call(tmp_path: Path) -> None:
    writer = DatasetWriter(str(tmp_path), max_age_s=0.2)
    writer.add([callscope_record(1)])
    deadline = time.monotonic() + 20
    while writer.files_written == 0:
        assert time.monotonic() < deadline, "the age timer never flushed"
        time.sleep(0.05)
    assert count(str(tmp_path)) == 1
    writer.close()


def test_a_reader_never_sees_a_partial_file(tmp_path: Path) -> None:
    writer = DatasetWriter(str(tmp_path), max_rows=50, max_age_s=None)
    stop = threading.Event()
    seen: dict[str, int] = {}
    errors: list[Exception] = []

    def reader() -> None:
        while not stop.is_set():
            for path in glob.glob(str(tmp_path / "calls" / "**" / "*.parquet"), recursive=True):
                try:
                    seen[path] = pq.read_metadata(path).num_rows
                except Exception as err:  # a partial file would fail to parse
                    errors.append(err)

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for i in range(0, 2000, 50):
            writer.add([callscope_record(j) for j in range(i, i + 50)])
    finally:
        stop.set()
        thread.join()
    writer.close()
    assert errors == []
    assert seen
    assert all(rows == 50 for rows in seen.values())
    assert count(str(tmp_path)) == 2000


def test_temporary_names_are_not_matched_by_parquet_globs(tmp_path: Path) -> None:
    storage = LocalStorage(str(tmp_path))
    target = storage.join("calls", "date=2026-11-29", "w-000001.parquet")
    temp = storage.temp_path_for(target)
    Path(temp).parent.mkdir(parents=True)
    Path(temp).write_bytes(b"partial")
    assert glob.glob(str(tmp_path / "calls" / "**" / "*.parquet"), recursive=True) == []
    assert Path(temp).name.startswith(".")


class FlakyStorage:
    """The real local storage, failing the first ``failures`` writes (fault injection)."""

    def __init__(self, root: str, failures: int) -> None:
        self.inner = LocalStorage(root)
        self.root = self.inner.root
        self.failures = failures

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def write_file(self, path: str, data: bytes) -> None:
        if self.failures:
            self.failures -= 1
            raise StorageError("injected failure")
        self.inner.write_file(path, data)


def test_failed_write_keeps_the_rows_for_the_next_flush(tmp_path: Path) -> None:
    writer = DatasetWriter(str(tmp_path), max_age_s=None, storage=FlakyStorage(str(tmp_path), failures=1))
    writer.add([callscope_record(i) for i in range(10)])
    with pytest.raises(StorageError, match="injected"):
        writer.flush()
    assert writer.pending_rows == 10
    writer.add([callscope_record(i) for i in range(10, 15)])
    assert len(writer.flush()) == 1
    assert count(str(tmp_path)) == 15
    assert query(str(tmp_path), "SELECT count(DISTINCT span_id) FROM t") == [(15,)]


def test_concurrent_adds_and_flushes_lose_nothing(tmp_path: Path) -> None:
    writer = DatasetWriter(str(tmp_path), max_rows=300, max_age_s=0.05)
    per_thread = 1000

    def produce(offset: int) -> None:
        for i in range(offset, offset + per_thread, 20):
            writer.add([callscope_record(j) for j in range(i, i + 20)])
            if i % 200 == 0:
                writer.flush()

    threads = [threading.Thread(target=produce, args=(n * per_thread,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    writer.close()
    assert query(str(tmp_path), "SELECT count(*), count(DISTINCT span_id) FROM t") == [(4000, 4000)]


def test_closed_writer_refuses_rows(tmp_path: Path) -> None:
    writer = DatasetWriter(str(tmp_path))
    writer.close()
    writer.close()  # idempotent
    with pytest.raises(CollectorError, match="closed"):
        writer.add([callscope_record()])


def test_add_rows_accepts_span_to_row_output_and_repairs_types(tmp_path: Path) -> None:
    table, row = span_to_row(callscope_record(1))
    bad = dict(row, input_tokens="77", server_port=2**40, temperature="warm")
    writer = DatasetWriter(str(tmp_path), max_age_s=None)
    writer.add_rows([(table, row), (table, bad)])
    writer.close()
    assert query(
        str(tmp_path), "SELECT input_tokens, server_port, temperature FROM t ORDER BY input_tokens"
    ) == [
        (77, None, None),
        (2001, 443, 0.2),
    ]


def test_child_process_after_fork_gets_its_own_writer_id(tmp_path: Path) -> None:
    writer = DatasetWriter(str(tmp_path), max_age_s=None)
    writer.add([callscope_record(1)])  # the parent's row, not the child's to write
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.close(read)
        try:
            writer.add([callscope_record(2)])
            paths = writer.flush()
            os.write(write, f"{writer.writer_id}\n{len(paths)}".encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        child_id, child_files = pipe.read().split("\n")
    os.waitpid(pid, 0)
    writer.close()
    assert child_id != writer.writer_id
    assert child_files == "1"
    assert query(str(tmp_path), "SELECT count(*), count(DISTINCT span_id) FROM t") == [(2, 2)]


def test_bad_locations_get_clear_errors(tmp_path: Path) -> None:
    a_file = tmp_path / "file"
    a_file.write_text("")
    with pytest.raises(DataDirError, match="not a directory"):
        DatasetWriter(str(a_file))
    with pytest.raises(StorageURLError, match="no bucket"):
        open_storage("s3://")
    with pytest.raises(StorageURLError, match="no bucket"):
        open_storage("s3:///prefix")
    with pytest.raises(DataDirError, match="empty"):
        open_storage("  ")
    with pytest.raises(DataDirError, match="cannot write"):
        DatasetWriter(str(a_file / "sub"))
    with pytest.raises(StorageURLError):
        DatasetWriter("nosuchprotocol://bucket/x")
