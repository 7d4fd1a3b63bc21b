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
    pq.write_table(arrow, sink, compression=COMPRESSION)
    data: bytes = sink.getvalue().to_pybytes()
    return data
