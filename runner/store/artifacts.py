"""Where a batch's artifacts live: a local folder, or a URL of an object store (``s3://bucket/prefix``
and any other protocol fsspec knows and has installed, e.g. ``gs://`` with gcsfs, ``az://`` with
adlfs).

One interface, :class:`Store`, for both; :func:`store_for` picks the one a path belongs to. Paths are
strings throughout (``pathlib`` would turn ``s3://b/k`` into ``s3:/b/k``).

Every write is whole or nothing: a reader never sees half a file. Locally a temporary file is
renamed over the target; on an object store one PUT of a file built locally (s3fs sends a single
``put_object`` below its multipart threshold and completes a multipart upload only at the end).
Writing through an fsspec file object is never used for that: it publishes a truncated object
when the writer fails.

Credentials and endpoints come only from where the store's library reads them (for S3: the AWS
environment variables, profiles, ``AWS_ENDPOINT_URL``), never from a manifest or a URL: a URL
with user info is refused (it would travel in workflow histories).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

URL = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


def is_url(path: str) -> bool:
    """Whether ``path`` is a URL (``proto://...``) rather than a local path."""
    return bool(URL.match(path))


def join(base: str, *parts: str) -> str:
    """``base`` and ``parts`` joined with ``/`` (local paths and URLs alike)."""
    return "/".join([base.rstrip("/"), *(p.strip("/") for p in parts if p)])


def parent(path: str) -> str:
    """The folder ``path`` lies in."""
    return path.rstrip("/").rsplit("/", 1)[0]


def name(path: str) -> str:
    """The last part of ``path``."""
    return path.rstrip("/").rsplit("/", 1)[-1]


class StoreError(ValueError):
    """A store URL that cannot work: unknown protocol, library not installed, user info in it."""


def check_url(url: str) -> str:
    """``url`` as it will be used (no trailing ``/``).

    Raises:
        StoreError: the URL carries credentials, a query or a fragment, has no bucket, or names a
            protocol fsspec does not know or whose library is not installed.
    """
    parts = urlsplit(url)
    protocol = parts.scheme.lower()
    if parts.username is not None or parts.password is not None:
        raise StoreError("a URL must not carry credentials (they would be stored in workflow "
                         "histories); give them the store's usual way, e.g. AWS_ACCESS_KEY_ID / "
                         "AWS_SECRET_ACCESS_KEY or a profile for s3://")
    if parts.query or parts.fragment:
        raise StoreError("a store URL takes no query or fragment (?... or #...)")
    if protocol == "file":
        raise StoreError("write a local folder as a path, not a file:// URL")
    if not parts.netloc:
        raise StoreError(f"{protocol}:// needs a bucket (or container) name: {protocol}://BUCKET/PREFIX")
    _filesystem_class(protocol)
    return url.rstrip("/")


def _filesystem_class(protocol: str) -> Any:
    import fsspec

    try:
        return fsspec.get_filesystem_class(protocol)
    except ValueError:
        raise StoreError(f"unknown storage protocol {protocol}:// (known: s3://, gs://, az://, "
                         "... any that fsspec knows)") from None
    except ImportError as exc:
        raise StoreError(f"{protocol}:// needs a library that is not installed: {exc}") from None


def store_problem(exc: BaseException) -> str:
    """What went wrong with a store, in a line (for an error message)."""
    if isinstance(exc, FileNotFoundError):
        return f"not found: {exc.strerror or exc}"
    if isinstance(exc, PermissionError):
        return f"access denied: {exc.strerror or exc}"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


@dataclass(frozen=True)
class FileInfo:
    path: str
    size: int
    mtime: float  # seconds since the epoch (an object's LastModified)


class Store:
    """A place artifacts are read from and written to (see the module docstring)."""

    remote = False

    def read_bytes(self, path: str) -> bytes:
        raise NotImplementedError

    def read_text(self, path: str) -> str:
        return self.read_bytes(path).decode("utf-8")

    def write_bytes(self, path: str, data: bytes) -> None:
        """Write ``data`` to ``path``, whole or not at all."""
        raise NotImplementedError

    def write_text(self, path: str, text: str) -> None:
        self.write_bytes(path, text.encode("utf-8"))

    def create_bytes(self, path: str, data: bytes) -> bool:
        """Write ``data`` to ``path`` only if nothing is there (whole or not at all); returns
        whether it was written. Exclusive where the store can tell (a file system; S3 and MinIO
        with conditional writes), else checked just before writing."""
        raise NotImplementedError

    @contextmanager
    def open_read(self, path: str) -> Iterator[IO[bytes]]:
        """``path`` to read (seekable)."""
        raise NotImplementedError
        yield

    def info(self, path: str) -> FileInfo | None:
        """The file at ``path``, or None if there is none (a folder is none)."""
        raise NotImplementedError

    def is_file(self, path: str) -> bool:
        return self.info(path) is not None

    def is_dir(self, path: str) -> bool:
        raise NotImplementedError

    def files(self, folder: str) -> list[FileInfo]:
        """Every file under ``folder``, at any depth, by path (none if it does not exist)."""
        raise NotImplementedError

    def put_file(self, local: Path, path: str) -> None:
        """Copy the local file ``local`` to ``path``, whole or not at all."""
        raise NotImplementedError

    def get_file(self, path: str, local: Path) -> None:
        """Copy ``path`` to the local file ``local`` (replaced whole)."""
        local.parent.mkdir(parents=True, exist_ok=True)
        tmp = local.with_name(f".{local.name}.{uuid.uuid4().hex[:8]}.tmp")
        try:
            self._download(path, tmp)
            os.replace(tmp, local)
        finally:
            tmp.unlink(missing_ok=True)

    def _download(self, path: str, local: Path) -> None:
        raise NotImplementedError

    def delete(self, path: str) -> None:
        """Remove the file at ``path`` (nothing if it is not there)."""
        raise NotImplementedError

    def delete_tree(self, folder: str) -> None:
        """Remove ``folder`` and everything under it (what can be removed)."""
        for info in self.files(folder):
            with contextlib.suppress(OSError):
                self.delete(info.path)

    @contextmanager
    def writing(self, path: str, scratch: Path | None = None) -> Iterator[Path]:
        """A local file to write ``path``'s content into; published to ``path`` when the block
        ends without an exception, dropped otherwise. Locally: a temporary file beside ``path``;
        for an object store one in ``scratch`` (default: the system's temporary folder)."""
        folder = scratch or Path(tempfile.gettempdir())
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".runner-{uuid.uuid4().hex}-{name(path)}"
        try:
            yield tmp
            self.put_file(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)

    def check_writable(self, folder: str) -> None:
        """Write a probe object under ``folder`` and delete it.

        Raises:
            OSError: it cannot be written (no such bucket, access denied, no credentials, ...).
        """
        probe = join(folder, f".runner-probe-{uuid.uuid4().hex[:12]}")
        self.write_bytes(probe, b"probe\n")
        self.delete(probe)


class LocalStore(Store):
    """A folder on this machine (or a file system every worker mounts)."""

    def read_bytes(self, path: str) -> bytes:
        return Path(path).read_bytes()

    def write_bytes(self, path: str, data: bytes) -> None:
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")
        try:
            tmp.write_bytes(data)
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)

    def create_bytes(self, path: str, data: bytes) -> bool:
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")
        try:
            tmp.write_bytes(data)
            os.link(tmp, target)  # fails if the target exists
            return True
        except FileExistsError:
            return False
        finally:
            tmp.unlink(missing_ok=True)

    @contextmanager
    def open_read(self, path: str) -> Iterator[IO[bytes]]:
        with open(path, "rb") as f:
            yield f

    def info(self, path: str) -> FileInfo | None:
        try:
            st = os.stat(path)
        except (OSError, ValueError):
            return None
        if not os.path.isfile(path):
            return None
        return FileInfo(path=path, size=st.st_size, mtime=st.st_mtime)

    def is_dir(self, path: str) -> bool:
        return os.path.isdir(path)

    def files(self, folder: str) -> list[FileInfo]:
        found = []
        for root, _, names in os.walk(folder):
            for n in names:
                if (i := self.info(os.path.join(root, n))) is not None:
                    found.append(i)
        return sorted(found, key=lambda i: i.path)

    def put_file(self, local: Path, path: str) -> None:
        target = Path(path)
        if local.resolve() == target.resolve():
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")
        try:
            shutil.copyfile(local, tmp)
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)

    def _download(self, path: str, local: Path) -> None:
        shutil.copyfile(path, local)

    def delete(self, path: str) -> None:
        Path(path).unlink(missing_ok=True)

    def delete_tree(self, folder: str) -> None:
        shutil.rmtree(folder, ignore_errors=True)

    @contextmanager
    def writing(self, path: str, scratch: Path | None = None) -> Iterator[Path]:
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")
        try:
            yield tmp
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)


class FsspecStore(Store):
    """An object store through fsspec (s3fs for ``s3://``)."""

    remote = True

    def __init__(self, protocol: str) -> None:
        cls = _filesystem_class(protocol)
        # no listings cache: another worker's writes must be seen at once
        self.fs = cls(use_listings_cache=False, skip_instance_cache=True)
        self.protocol = protocol

    def _key(self, path: str) -> str:
        return str(self.fs._strip_protocol(path))

    def read_bytes(self, path: str) -> bytes:
        return bytes(self.fs.cat_file(self._key(path)))

    def write_bytes(self, path: str, data: bytes) -> None:
        self.fs.pipe_file(self._key(path), data)

    def create_bytes(self, path: str, data: bytes) -> bool:
        try:
            self.fs.pipe_file(self._key(path), data, mode="create")
            return True
        except FileExistsError:
            return False
        except (NotImplementedError, TypeError):  # a store without conditional writes
            if self.info(path) is not None:
                return False
            self.write_bytes(path, data)
            return True

    @contextmanager
    def open_read(self, path: str) -> Iterator[IO[bytes]]:
        with self.fs.open(self._key(path), "rb") as f:
            yield f

    def info(self, path: str) -> FileInfo | None:
        try:
            found = self.fs.info(self._key(path))
        except FileNotFoundError:
            return None
        if found.get("type") != "file":
            return None
        return FileInfo(path=path, size=int(found.get("size") or 0), mtime=_mtime(found))

    def is_dir(self, path: str) -> bool:
        return bool(self.fs.isdir(self._key(path)))

    def files(self, folder: str) -> list[FileInfo]:
        try:
            found = self.fs.find(self._key(folder), detail=True)
        except FileNotFoundError:
            return []
        return [FileInfo(path=f"{self.protocol}://{key}", size=int(i.get("size") or 0), mtime=_mtime(i))
                for key, i in sorted(found.items()) if i.get("type") == "file"]

    def put_file(self, local: Path, path: str) -> None:
        self.fs.put_file(str(local), self._key(path))

    def _download(self, path: str, local: Path) -> None:
        self.fs.get_file(self._key(path), str(local))

    def delete(self, path: str) -> None:
        try:
            self.fs.rm_file(self._key(path))
        except FileNotFoundError:
            pass


def _mtime(info: dict[str, Any]) -> float:
    when: Any = info.get("LastModified") or info.get("mtime") or info.get("last_modified")
    if hasattr(when, "timestamp"):
        return float(when.timestamp())
    try:
        return float(when)
    except (TypeError, ValueError):
        return 0.0


_LOCAL = LocalStore()
_remote: dict[tuple[str, frozenset[tuple[str, str]]], FsspecStore] = {}
_lock = threading.Lock()
# where the stores' libraries read credentials and endpoints: a store is made anew when they change
CONFIG_ENV = ("AWS_", "GOOGLE_", "GCS", "AZURE_", "FSSPEC_")


def store_for(path: str) -> Store:
    """The store ``path`` lies in: local for a path, the protocol's for a URL.

    Raises:
        StoreError: the URL's protocol is unknown or its library is not installed.
    """
    found = URL.match(path)
    if not found:
        return _LOCAL
    protocol = found.group(1).lower()
    key = (protocol, frozenset((k, v) for k, v in os.environ.items() if k.startswith(CONFIG_ENV)))
    with _lock:
        if key not in _remote:
            _remote[key] = FsspecStore(protocol)
        return _remote[key]
