"""Rows (lists in schema order) -> Arrow record batches -> one zstd Parquet file.

Transposing rows with ``zip(*rows)`` and building one Arrow array per column is
several times faster than ``pa.Table.from_pylist`` on dicts, and Arrow's C++
conversion doubles as the type check of the scalar columns: a column it
rejects is converted value by value with :mod:`.coerce` and retried, so one
wrong-typed attribute never costs a row, let alone the batch.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

from callscope.collector.coerce import coerce_column
from callscope.collector.schema import arrow_schema

from callscope._log import get_logger

if TYPE_CHECKING:
    import pyarrow as pa

log = get_logger("callscope.collector")

COMPRESSION: Final = "zstd"
#: Columns whose values rarely repeat (ids, per-request hashes): a dictionary only costs time and
#: space, and min/max statistics prune nothing.
UNIQUE_COLUMNS: Final = frozenset(
    {"trace_id", "span_id", "parent_span_id", "response_id", "request_id", "request_hash"}
)
#: Columns without min/max statistics: the unique ones, and text nobody filters by range.
NO_STATISTICS_COLUMNS: Final = UNIQUE_COLUMNS | {"prefix_hash", "attributes", "status_message"}
#: Timestamps arrive nearly in order: deltas pack into a few bits (a tenth of the file).
DELTA_COLUMNS: Final = frozenset({"start_time", "end_time"})

_warned: set[tuple[str, str]] = set()


@functools.cache
def table_schema(table: str) -> pa.Schema:
    return arrow_schema(table)


def to_record_batch(table: str, rows: Sequence[Sequence[Any]]) -> pa.RecordBatch:
    """An Arrow record batch of ``table``'s schema from rows in column order."""
    import pyarrow as pa

    schema = table_schema(table)
    if not rows:
        return pa.RecordBatch.from_pylist([], schema=schema)
    arrays = []
    for index, (values, column) in enumerate(zip(zip(*rows, strict=True), schema, strict=True)):
        try:
            arrays.append(pa.array(values, type=column.type))
        except (pa.ArrowException, TypeError, ValueError, OverflowError):
            repaired = coerce_column(table, index, values)
            if (table, column.name) not in _warned:  # once per column: a peer sends the same shape again
                _warned.add((table, column.name))
                log.warning("callscope.writer.coerced_column", table=table, column=column.name)
            arrays.append(pa.array(repaired, type=column.type))
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def encode_batches(table: str, batches: Sequence[pa.RecordBatch]) -> bytes:
    """One Parquet file (zstd, schema version in its metadata) holding ``batches``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    arrow = pa.Table.from_batches(batches, schema=table_schema(table))
    sink = pa.BufferOutputStream()
    pq.write_table(arrow, sink, **writer_options(arrow.schema))
    data: bytes = sink.getvalue().to_pybytes()
    return data


def writer_options(schema: pa.Schema) -> dict[str, Any]:
    """``pq.write_table`` / ``pq.ParquetWriter`` options for a call log file of this schema: zstd,
    dictionaries and statistics where they pay off, delta-encoded timestamps. Readers need nothing
    special (DuckDB, Spark, Trino and pandas read every encoding used here)."""
    paths = _leaf_paths(schema)
    return {
        "compression": COMPRESSION,
        "use_dictionary": [path for path, top in paths if top not in UNIQUE_COLUMNS | DELTA_COLUMNS],
        "write_statistics": [path for path, top in paths if top not in NO_STATISTICS_COLUMNS],
        "column_encoding": {path: "DELTA_BINARY_PACKED" for path, top in paths if top in DELTA_COLUMNS},
    }


@functools.lru_cache(maxsize=64)
def _leaf_paths(schema: pa.Schema) -> tuple[tuple[str, str], ...]:
    """(Parquet column path, top-level column) of every leaf, e.g. ``("tags.key_value.key", "tags")``;
    the options above take paths, which for nested columns only the Parquet writer knows."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    sink = pa.BufferOutputStream()
    pq.write_table(schema.empty_table(), sink)
    metadata = pq.read_metadata(pa.BufferReader(sink.getvalue()))
    return tuple(
        (metadata.schema.column(i).path, metadata.schema.column(i).path.split(".", 1)[0])
        for i in range(metadata.num_columns)
    )
