"""The collector's exceptions: problems with the data location the user can act on."""

from __future__ import annotations

from callscope.errors import CallscopeError


class CollectorError(CallscopeError):
    """Base of every error raised by :mod:`callscope.collector`."""


class DataDirError(CollectorError):
    """The data location is unusable: not a directory, not writable, or not a dataset."""


class StorageURLError(CollectorError):
    """A data location URL that cannot be understood, e.g. ``s3://`` without a bucket."""

    exit_code = 2


class StorageError(CollectorError):
    """Reading or writing the storage back end failed (permissions, network, missing bucket)."""
