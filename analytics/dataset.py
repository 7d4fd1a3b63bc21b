"""Where the call log lives, seen from the analytics side: a local folder or an fsspec URL.

The collector's :func:`~callscope.collector.storage.open_storage` decides what a
location means (the same rules for writing and reading); this module adds what
DuckDB needs to read it: the glob of each table's Parquet files and, for object
storage, the fsspec filesystem to register with DuckDB (``httpfs`` is never used,
so nothing is downloaded).
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from callscope.analytics.errors import DatasetError
from callscope.collector.errors import CollectorError
from callscope.collector.storage import LocalStorage, Storage, is_url, open_storage

if TYPE_CHECKING:
    import fsspec

__all__ = ["Dataset", "open_dataset"]


@dataclass(frozen=True)
class Dataset:
    """A dataset root: ``<root>/calls/date=YYYY-MM-DD/*.parquet`` and ``<root>/spans/...``."""

    #: The location as the user gave it (shown in messages).
    location: str
    #: Absolute local path, or the URL (``s3://bucket/prefix``) DuckDB reads through fsspec.
    root: str
    storage: Storage

    @property
    def remote(self) -> bool:
        return not isinstance(self.storage, LocalStorage)

    @property
    def filesystem(self) -> fsspec.AbstractFileSystem | None:
        """The fsspec filesystem DuckDB reads object storage through; ``None`` for local disk."""
        return self.storage.filesystem if self.remote else None

    def table_glob(self, table: str) -> str:
        """The glob of a table's Parquet files (Hive folders of any depth)."""
        return posixpath.join(self.root, table, "**", "*.parquet")

    @property
    def allowed_prefix(self) -> str:
        """The one place queries may read from once the connection is locked down."""
        return self.root.rstrip("/") + "/"

    def exists(self) -> bool:
        """Whether anything is at the root (for object storage: any object under the prefix)."""
        try:
            return self.storage.exists(self.root)
        except CollectorError as err:
            raise DatasetError(str(err)) from err

    def forget_listings(self) -> None:
        """Drop fsspec's cached directory listings, so files written since are seen."""
        filesystem = self.filesystem
        if filesystem is not None:
            filesystem.invalidate_cache()


def open_dataset(location: str, storage_options: Mapping[str, Any] | None = None) -> Dataset:
    """Resolve a data location (path, ``file://`` or ``s3://`` URL) without reading anything yet.

    Raises :class:`DatasetError` for a location that cannot be a dataset: a file, an
    unknown URL scheme, a URL without a bucket, or a missing fsspec back end.
    """
    try:
        storage = open_storage(location, storage_options)
        if is_url(location):
            storage.filesystem  # noqa: B018 - fails early on an unknown protocol or a missing s3fs
    except CollectorError as err:
        raise DatasetError(_hint(str(err), location)) from err
    except ImportError as err:
        raise DatasetError(f"cannot read {location}: {err}; pip install 'callscope[s3]'") from err
    return Dataset(location=location, root=storage.root.rstrip("/") or "/", storage=storage)


def _hint(message: str, location: str) -> str:
    if location.startswith("s3://") and "s3fs" in message:
        return f"{message}; pip install 'callscope[s3]'"
    return message
