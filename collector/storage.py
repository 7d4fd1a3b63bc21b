"""Where the dataset lives: a local directory or fsspec object storage (``s3://bucket/prefix``).

Both back ends offer the few operations the writer and the compactor need, with
one promise: :meth:`Storage.write_file` is atomic, so a reader listing
``*.parquet`` never sees a partial file. Locally the bytes go to a hidden
temporary name (``.name.parquet.tmp``, not matched by ``*.parquet``), are
fsynced, and are renamed into place; on object storage one PUT (or one
completed multipart upload) creates the object whole, so the final key is
written directly.

S3 credentials and endpoint come from ``storage_options`` (passed to
``s3fs.S3FileSystem``, e.g. ``{"endpoint_url": "http://127.0.0.1:9000"}``) or from
the usual ``AWS_*`` environment variables (``AWS_ENDPOINT_URL`` included).
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, BinaryIO, Final, Protocol

from callscope.collector.errors import DataDirError, StorageError, StorageURLError

if TYPE_CHECKING:
    import fsspec

#: Suffix of files being written; not matched by ``*.parquet`` globs.
TEMP_SUFFIX: Final = ".tmp"
_URL: Final = re.compile(r"^(?P<protocol>[a-zA-Z][a-zA-Z0-9+.-]*)://(?P<rest>.*)$")


@dataclass(frozen=True, slots=True)
class FileInfo:
    path: str  # full path or URL, as accepted by the storage's other methods
    size: int
    mtime: float | None  # seconds since the epoch, when the back end reports it


class Storage(Protocol):
    """The operations on a dataset location. Paths are full paths under :attr:`root`."""

    root: str

    def join(self, *parts: str) -> str: ...
    def write_file(self, path: str, data: bytes) -> None: ...
    def put_local_file(self, local_path: str, path: str) -> None: ...
    def temp_path_for(self, path: str) -> str: ...
    def read_file(self, path: str) -> bytes: ...
    def open_read(self, path: str) -> BinaryIO: ...
    def create_exclusive(self, path: str, data: bytes) -> bool: ...
    def list_dir(self, path: str) -> list[FileInfo]: ...
    def list_subdirs(self, path: str) -> list[str]: ...
    def delete_files(self, paths: list[str]) -> None: ...
    def remove_empty_dir(self, path: str) -> None: ...
    def exists(self, path: str) -> bool: ...
    @property
    def filesystem(self) -> fsspec.AbstractFileSystem: ...


def is_url(location: str) -> bool:
    """Whether ``location`` names object storage (``s3://...``) rather than a local path."""
    match = _URL.match(location)
    return match is not None and match["protocol"].lower() != "file"


def open_storage(location: str, storage_options: Mapping[str, Any] | None = None) -> Storage:
    """The back end for a data location: a local path, ``file://`` path, or an fsspec URL."""
    if not location or not location.strip():
        raise DataDirError("the data location is empty; pass --data DIR or set CALLSCOPE_DATA")
    match = _URL.match(location)
    if match is None:
        return LocalStorage(location)
    protocol = match["protocol"].lower()
    if protocol == "file":
        return LocalStorage(match["rest"])
    return FsspecStorage(location, protocol, match["rest"], storage_options or {})


class LocalStorage:
    """A directory on local disk."""

    def __init__(self, root: str) -> None:
        self.root = os.path.abspath(os.path.expanduser(root))
        if os.path.exists(self.root) and not os.path.isdir(self.root):
            raise DataDirError(f"the data location {self.root} exists and is not a directory")

    def join(self, *parts: str) -> str:
        return os.path.join(self.root, *parts)

    def write_file(self, path: str, data: bytes) -> None:
        directory, name = os.path.split(path)
        temp = os.path.join(directory, f".{name}.{os.getpid()}{TEMP_SUFFIX}")
        try:
            os.makedirs(directory, exist_ok=True)
            with open(temp, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temp, path)
            _fsync_dir(directory)
        except OSError as err:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise _local_error(err, path) from err

    def put_local_file(self, local_path: str, path: str) -> None:
        """Move a finished local file into place atomically (it must be on the same filesystem)."""
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            os.replace(local_path, path)
            _fsync_dir(os.path.dirname(path))
        except OSError as err:
            raise _local_error(err, path) from err

    def temp_path_for(self, path: str) -> str:
        """A hidden temporary name next to ``path`` for :meth:`put_local_file`."""
        directory, name = os.path.split(path)
        return os.path.join(directory, f".{name}.{os.getpid()}{TEMP_SUFFIX}")

    def read_file(self, path: str) -> bytes:
        with open(path, "rb") as source:
            return source.read()

    def open_read(self, path: str) -> BinaryIO:
        return open(path, "rb")

    def create_exclusive(self, path: str, data: bytes) -> bool:
        """Create ``path`` holding ``data`` unless it exists; ``False`` if it did."""
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            return False
        except OSError as err:
            raise _local_error(err, path) from err
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        return True

    def list_dir(self, path: str) -> list[FileInfo]:
        try:
            entries = list(os.scandir(path))
        except FileNotFoundError:
            return []
        except OSError as err:
            raise _local_error(err, path) from err
        files = []
        for entry in entries:
            with contextlib.suppress(FileNotFoundError):  # deleted while listing
                if entry.is_file():
                    stat = entry.stat()
                    files.append(FileInfo(entry.path, stat.st_size, stat.st_mtime))
        return sorted(files, key=lambda info: info.path)

    def list_subdirs(self, path: str) -> list[str]:
        try:
            return sorted(entry.path for entry in os.scandir(path) if entry.is_dir())
        except FileNotFoundError:
            return []
        except OSError as err:
            raise _local_error(err, path) from err

    def delete_files(self, paths: list[str]) -> None:
        for path in paths:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)

    def remove_empty_dir(self, path: str) -> None:
        with contextlib.suppress(OSError):  # not empty (a writer just added a file) or gone
            os.rmdir(path)

    def exists(self, path: str) -> bool:
        return os.path.exists(path)

    @property
    def filesystem(self) -> fsspec.AbstractFileSystem:
        from fsspec.implementations.local import LocalFileSystem

        return LocalFileSystem()

    def check_writable(self) -> None:
        """Create the root if needed and make sure files can be created in it."""
        try:
            os.makedirs(self.root, exist_ok=True)
        except OSError as err:
            raise _local_error(err, self.root) from err
        if not os.access(self.root, os.W_OK | os.X_OK):
            raise DataDirError(f"the data directory {self.root} is not writable")


def _fsync_dir(directory: str) -> None:
    # Makes the rename itself durable; not every filesystem allows opening a directory.
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _local_error(err: OSError, path: str) -> DataDirError:
    reason = err.strerror or str(err)
    return DataDirError(f"cannot write to {path}: {reason}")


class FsspecStorage:
    """Object storage through fsspec, e.g. ``s3://bucket/prefix`` with s3fs."""

    def __init__(self, location: str, protocol: str, rest: str, storage_options: Mapping[str, Any]) -> None:
        if rest.startswith("/"):
            rest = ""
        rest = rest.rstrip("/")
        if not rest or rest.split("/")[0] in (".", ".."):
            raise StorageURLError(f"{location!r} names no bucket; use {protocol}://bucket/prefix")
        self.protocol = protocol
        self.root = f"{protocol}://{rest}"
        self._options = dict(storage_options)
        self._fs: fsspec.AbstractFileSystem | None = None

    @property
    def filesystem(self) -> fsspec.AbstractFileSystem:
        if self._fs is None:
            import fsspec

            try:
                cls = fsspec.get_filesystem_class(self.protocol)
            except ImportError as err:
                extra = " (pip install 'callscope[s3]')" if self.protocol in ("s3", "s3a") else ""
                raise StorageURLError(f"cannot use {self.root}: {err}{extra}") from err
            except ValueError as err:
                raise StorageURLError(f"cannot use {self.root}: unknown protocol {self.protocol!r}") from err
            # Instances are cached by fsspec per options; skip that so each storage is independent.
            self._fs = cls(skip_instance_cache=True, **self._options)
        return self._fs

    def join(self, *parts: str) -> str:
        return posixpath.join(self.root, *parts)

    def _key(self, path: str) -> str:
        return path.split("://", 1)[1] if "://" in path else path

    def write_file(self, path: str, data: bytes) -> None:
        with self._errors(path):
            self.filesystem.pipe_file(self._key(path), data)

    def put_local_file(self, local_path: str, path: str) -> None:
        """Upload a finished local file: one PUT or one completed multipart upload, both atomic."""
        try:
            with self._errors(path):
                self.filesystem.put_file(local_path, self._key(path))
        finally:
            with contextlib.suppress(OSError):
                os.unlink(local_path)

    def temp_path_for(self, path: str) -> str:
        """A local temporary file to build ``path`` in before :meth:`put_local_file`."""
        import tempfile

        handle, temp = tempfile.mkstemp(prefix="callscope-", suffix=TEMP_SUFFIX)
        os.close(handle)
        return temp

    def read_file(self, path: str) -> bytes:
        with self._errors(path, missing_ok=True):
            data: bytes = self.filesystem.cat_file(self._key(path))
            return data

    def open_read(self, path: str) -> BinaryIO:
        """A seekable reader (ranged GETs), so a Parquet footer is read without the whole object."""
        with self._errors(path, missing_ok=True):
            handle: BinaryIO = self.filesystem.open(self._key(path), "rb")
            return handle

    def create_exclusive(self, path: str, data: bytes) -> bool:
        """A conditional PUT (``If-None-Match: *``); stores that ignore it make this best effort."""
        with self._errors(path):
            try:
                self.filesystem.pipe_file(self._key(path), data, mode="create")
            except FileExistsError:
                return False
            except (TypeError, NotImplementedError):  # a back end without exclusive writes
                if self.filesystem.exists(self._key(path)):
                    return False
                self.filesystem.pipe_file(self._key(path), data)
        return True

    def list_dir(self, path: str) -> list[FileInfo]:
        with self._errors(path, missing_ok=True):
            try:
                entries = self.filesystem.ls(self._key(path), detail=True, refresh=True)
            except FileNotFoundError:
                return []
        files = [
            FileInfo(f"{self.protocol}://{entry['name']}", int(entry.get("size") or 0), _mtime(entry))
            for entry in entries
            if entry.get("type") == "file"
        ]
        return sorted(files, key=lambda info: info.path)

    def list_subdirs(self, path: str) -> list[str]:
        with self._errors(path, missing_ok=True):
            try:
                entries = self.filesystem.ls(self._key(path), detail=True, refresh=True)
            except FileNotFoundError:
                return []
        return sorted(f"{self.protocol}://{e['name']}" for e in entries if e.get("type") == "directory")

    def delete_files(self, paths: list[str]) -> None:
        if paths:
            with self._errors(paths[0], missing_ok=True):
                self.filesystem.rm([self._key(path) for path in paths])

    def remove_empty_dir(self, path: str) -> None:
        """Object stores have no directories: nothing to do."""

    def exists(self, path: str) -> bool:
        with self._errors(path):
            return bool(self.filesystem.exists(self._key(path)))

    @contextlib.contextmanager
    def _errors(self, path: str, *, missing_ok: bool = False) -> Iterator[None]:
        try:
            yield
        except StorageURLError:
            raise
        except FileNotFoundError as err:
            if missing_ok:
                raise
            raise StorageError(f"storage error on {path}: {err}") from err
        except (OSError, ValueError) as err:
            raise StorageError(f"storage error on {path}: {err}") from err
        except Exception as err:  # botocore raises its own classes (NoCredentialsError, ClientError)
            if type(err).__module__.split(".")[0] in ("botocore", "aiobotocore", "s3fs"):
                raise StorageError(f"storage error on {path}: {err}") from err
            raise


def _mtime(entry: Mapping[str, Any]) -> float | None:
    modified = entry.get("LastModified") or entry.get("mtime") or entry.get("last_modified")
    if modified is None:
        return None
    if isinstance(modified, (int, float)):
        return float(modified)
    timestamp = getattr(modified, "timestamp", None)
    return float(timestamp()) if callable(timestamp) else None
