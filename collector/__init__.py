"""Stage 2: spans into the Parquet call log, in-process or as an OTLP service.

The pieces, from a span to a file:

- :class:`SpanRecord` -- one finished span in a neutral form (both ways in produce it);
- :func:`span_to_row` -- the pure function that makes it a row of ``calls`` or ``spans``;
- :class:`DatasetWriter` -- buffers rows and writes ``<data>/<table>/date=YYYY-MM-DD/*.parquet``;
- :class:`ParquetSpanExporter` -- the OTel ``SpanExporter`` of the embedded default;
- :func:`compact` -- merges small files of past days and applies retention.

Importing this package is cheap; pyarrow and the OTel SDK load with the parts that need them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from callscope.collector.errors import CollectorError, DataDirError, StorageError, StorageURLError
from callscope.collector.records import SpanEvent, SpanRecord

if TYPE_CHECKING:
    from callscope.collector.compact import CompactionReport, compact
    from callscope.collector.exporter import ParquetSpanExporter
    from callscope.collector.normalize import span_to_row
    from callscope.collector.storage import open_storage
    from callscope.collector.writer import DatasetWriter

__all__ = [
    "CollectorError",
    "CompactionReport",
    "DataDirError",
    "DatasetWriter",
    "ParquetSpanExporter",
    "SpanEvent",
    "SpanRecord",
    "StorageError",
    "StorageURLError",
    "compact",
    "open_storage",
    "span_to_row",
]

_LAZY = {
    "CompactionReport": "callscope.collector.compact",
    "compact": "callscope.collector.compact",
    "DatasetWriter": "callscope.collector.writer",
    "ParquetSpanExporter": "callscope.collector.exporter",
    "span_to_row": "callscope.collector.normalize",
    "open_storage": "callscope.collector.storage",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'callscope.collector' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
