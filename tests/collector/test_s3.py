"""The dataset on S3-compatible object storage: a moto server on loopback, started by the tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import s3fs
from callscope.collector.errors import StorageError
from callscope.collector.writer import DatasetWriter

from tests.collector.readback import count, query
from tests.collector.s3server import AWS_ENV, S3Server, moto_s3
from tests.collector.spans import callscope_record, server_record

pytestmark = pytest.mark.slow  # a real S3 server


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Server]:
    with moto_s3() as server:
        yield server


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in AWS_ENV.items():
        monkeypatch.setenv(name, value)


def filesystem(s3: S3Server) -> s3fs.S3FileSystem:
    return s3fs.S3FileSystem(
        key="test", secret="test", endpoint_url=s3.endpoint_url, skip_instance_cache=True
    )


def test_writer_puts_files_duckdb_reads_back(s3: S3Server) -> None:
    url = s3.url("writer")
    writer = DatasetWriter(url, storage_options=s3.storage_options, max_rows=40, max_age_s=None)
    for i in range(0, 100, 20):
        writer.add([callscope_record(j) for j in range(i, i + 20)])
    writer.add([server_record(i) for i in range(5)])
    paths = writer.close()
    assert all(path.startswith(f"{url}/") for path in paths)
    fs = filesystem(s3)
    keys = fs.find(f"{s3.bucket}/writer")
    assert len(keys) == writer.files_written == 4  # calls: 40 + 40 + 20 rows; spans: 5 rows
    assert all(key.endswith(".parquet") and "/date=2026-11-29/" in key for key in keys)
    assert count(url, filesystem=fs) == 100
    assert count(url, "spans", filesystem=fs) == 5
    assert query(url, "SELECT sum(input_tokens), count(DISTINCT span_id) FROM t", filesystem=fs) == [
        (sum(2000 + i for i in range(100)), 100)
    ]


def test_endpoint_from_the_environment(s3: S3Server, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3.endpoint_url)
    url = s3.url("from-env")
    writer = DatasetWriter(url, max_age_s=None)
    writer.add([callscope_record(1)])
    writer.close()
    assert count(url, filesystem=filesystem(s3)) == 1


def test_missing_bucket_is_a_storage_error_and_keeps_the_rows(s3: S3Server) -> None:
    writer = DatasetWriter("s3://no-such-bucket/x", storage_options=s3.storage_options, max_age_s=None)
    writer.add([callscope_record(1)])
    with pytest.raises(StorageError, match="no-such-bucket"):
        writer.flush()
    assert writer.pending_rows == 1
