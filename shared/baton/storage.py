"""Object storage behind one interface: a local directory or `gs://bucket/prefix`.

Keys are POSIX paths relative to the lake root. Data streams through polars (native paths
locally, google-cloud-storage BlobReader/BlobWriter on GCS); nothing is staged on local disk,
because a Cloud Run task's /tmp is RAM. Small-object writes are atomic (rename locally, a
single-request upload on GCS), which is what makes `_manifest.json` a commit.
"""

from __future__ import annotations

import base64
import contextlib
import errno
import hashlib
import os
import re
import shutil
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Protocol, TypeVar

import google_crc32c

from baton.errors import BatonError, ConfigError, TransientError, UnavailableError

if TYPE_CHECKING:  # polars is imported where data is read: listing and manifests need none
    import polars as pl

T = TypeVar("T")
SinkTarget = str | IO[bytes]

NO_SPACE = {errno.ENOSPC: "no space left on the device", errno.EDQUOT: "the disk quota is exceeded"}
"""OS errors that mean the sink is full: no retry helps until someone frees space."""

_OS_ERROR_CODE = re.compile(r"\(os error (\d+)\)|\[Errno (\d+)\]")
"""How polars' native writer reports the OS error under a failed sink (it keeps only text)."""


def free_bytes(path: Path) -> int | None:
    """Free bytes on the filesystem holding `path` (its nearest existing ancestor)."""
    for candidate in (path, *path.parents):
        if candidate.exists():
            with contextlib.suppress(OSError):
                return shutil.disk_usage(candidate).free
            return None
    return None


def _human(size: int | None) -> str:
    if size is None:
        return "an unknown amount"
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024  # type: ignore[assignment]
    return f"{size} bytes"


def no_space_error(code: int, what: str, path: Path) -> UnavailableError:
    """The error for a write that the disk could not hold, naming the path and the free space."""
    return UnavailableError(
        f"cannot {what} {path}: {NO_SPACE[code]} ({_human(free_bytes(path))} free on the "
        "filesystem holding it); free space there or point BATON_HOME / BATON_LAKE at a larger "
        "disk, then rerun. Nothing was committed.",
        reason="no_space",
    )


def os_error_code(err: BaseException) -> int | None:
    """The errno under `err`: its own, the one polars quoted, or no-space named in words."""
    if isinstance(err, OSError) and err.errno is not None:
        return err.errno
    text = str(err)
    found = _OS_ERROR_CODE.search(text)
    if found is not None:
        return int(found.group(1) or found.group(2))
    # DuckDB quotes only the C library's words ("IO Error: ... No space left on device").
    return next((code for code in NO_SPACE if os.strerror(code) in text), None)


def classify_local_failure(err: BaseException, what: str, path: Path) -> BatonError | None:
    """A categorized error for an OS failure writing `path`, or None when it is none we know
    (then it stays a bug). Full disk or quota: unavailable; denied or read-only: unavailable."""
    code = os_error_code(err)
    if code in NO_SPACE:
        return no_space_error(code, what, path)
    if code in (errno.EACCES, errno.EPERM, errno.EROFS):
        return UnavailableError(
            f"cannot {what} {path}: {os.strerror(code).lower()}; give this process write "
            "access there or point BATON_HOME / BATON_LAKE elsewhere",
            reason="storage_denied",
        )
    if code in (errno.EIO, errno.EAGAIN, errno.EINTR):
        return TransientError(f"cannot {what} {path}: {os.strerror(code)}", reason="storage_io")
    return None


@dataclass(frozen=True)
class ObjectInfo:
    """What the store knows about one object without reading it."""

    key: str
    size: int
    digest: str  # content digest in the store's own scheme (crc32c:… locally, md5:… on GCS)


def file_digest(path: Path) -> str:
    """A local file's content digest: CRC32C in GCS's own form (base64 of the big-endian
    checksum, https://cloud.google.com/storage/docs/json_api/v1/objects#resource: "crc32c"),
    read in 1 MiB blocks. The C implementation checks 62 MB in about 0.02 s where SHA-256
    took 0.05; without it (no wheel for the platform) SHA-256 is the faster of the two."""
    crc32c = google_crc32c.implementation == "c"
    hasher = google_crc32c.Checksum() if crc32c else hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            hasher.update(block)
    if crc32c:
        return "crc32c:" + base64.b64encode(hasher.digest()).decode("ascii")
    return f"sha256:{hasher.hexdigest()}"


class Storage(Protocol):
    """The operations baton needs from a lake."""

    root: str

    def uri(self, key: str) -> str: ...
    def stat(self, key: str) -> ObjectInfo | None: ...
    def size(self, key: str) -> int | None: ...
    def list(self, prefix: str) -> list[str]: ...
    def sizes(self, prefix: str) -> dict[str, int]: ...
    def listing(self, prefix: str) -> dict[str, tuple[int, float]]: ...
    def read_bytes(self, key: str) -> bytes: ...
    def read_versioned(self, key: str) -> tuple[bytes, int] | None: ...
    def write_bytes(
        self, key: str, data: bytes, *, if_generation_match: int | None = None
    ) -> None: ...
    def write_scratch(self, key: str, data: bytes) -> None: ...
    def delete(self, key: str) -> None: ...
    def scan_parquet(self, keys: Sequence[str]) -> pl.LazyFrame: ...
    def scan_csv(self, key: str, **options: Any) -> pl.LazyFrame: ...
    def sink_targets(
        self, keys: Sequence[str]
    ) -> contextlib.AbstractContextManager[list[SinkTarget]]: ...
    def local_path(self, key: str) -> Path | None: ...


class CommitConflictError(TransientError):
    """A conditional write lost the race: the object changed since the writer read it (another
    writer committed first). Nothing was written; a retry starts from the new state."""

    def __init__(self, uri: str, expected: int) -> None:
        seen = "absent" if expected == 0 else f"at generation {expected}"
        super().__init__(
            f"{uri} changed since this attempt read it ({seen}): another writer committed "
            "first; nothing of this attempt is visible, and a retry starts from the new commit",
            reason="commit_conflict",
        )


def _sink_failure(err: BaseException, folder: Path) -> BatonError | None:
    """A categorized error for a failed local sink into `folder`, or None. polars' native
    writer keeps only the text of the OS error, and under a sink that text may come from a
    read; only no-space is certain to be the sink's own (reads never fill a disk)."""
    if isinstance(err, OSError):
        return classify_local_failure(err, "write into", folder)
    code = os_error_code(err)
    return no_space_error(code, "write into", folder) if code in NO_SPACE else None


def _generation(info: os.stat_result) -> int:
    """A local object's generation: its inode and modification time. Every write makes a new
    file (written aside, then renamed over), so both change with each write."""
    return (info.st_ino << 64) | info.st_mtime_ns or 1


def _current(path: Path) -> int:
    try:
        return _generation(path.stat())
    except FileNotFoundError:
        return 0


@contextlib.contextmanager
def _folder_lock(folder: Path, wanted: bool) -> Iterator[None]:
    """An exclusive flock on `folder` (a directory can be locked; no lock file to clean up)."""
    if not wanted:
        yield
        return
    import fcntl

    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


class LocalStorage:
    """A directory on local disk standing in for the bucket."""

    def __init__(self, root: Path) -> None:
        self.base = root.resolve()
        self.root = str(self.base)

    def _path(self, key: str) -> Path:
        path = (self.base / key).resolve()
        if self.base not in path.parents and path != self.base:
            raise ValueError(f"key {key!r} escapes the lake root")
        return path

    def uri(self, key: str) -> str:
        return str(self._path(key))

    def local_path(self, key: str) -> Path | None:
        return self._path(key)

    def stat(self, key: str) -> ObjectInfo | None:
        path = self._path(key)
        if not path.is_file():
            return None
        return ObjectInfo(key, path.stat().st_size, file_digest(path))

    def size(self, key: str) -> int | None:
        path = self._path(key)
        return path.stat().st_size if path.is_file() else None

    def list(self, prefix: str) -> list[str]:
        start = self._path(prefix)
        if not start.is_dir():
            return []
        return sorted(p.relative_to(self.base).as_posix() for p in start.rglob("*") if p.is_file())

    def sizes(self, prefix: str) -> dict[str, int]:
        """Every object under `prefix` and its size, from one directory walk (no reads)."""
        return {key: size for key, (size, _) in self.listing(prefix).items()}

    def listing(self, prefix: str) -> dict[str, tuple[int, float]]:
        """Every object under `prefix`: its size and last-modified time (epoch seconds)."""
        start = self._path(prefix)
        if not start.is_dir():
            return {}
        found = {}
        for path in start.rglob("*"):
            with contextlib.suppress(FileNotFoundError):  # removed while we walk
                if path.is_file():
                    info = path.stat()
                    found[path.relative_to(self.base).as_posix()] = (info.st_size, info.st_mtime)
        return found

    def read_bytes(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def read_versioned(self, key: str) -> tuple[bytes, int] | None:
        """The object's bytes and the generation of exactly those bytes (None: absent)."""
        try:
            with self._path(key).open("rb") as fh:
                return fh.read(), _generation(os.fstat(fh.fileno()))
        except FileNotFoundError:
            return None

    def write_bytes(self, key: str, data: bytes, *, if_generation_match: int | None = None) -> None:
        """Write the object whole. With `if_generation_match` (0: it must not exist) the
        replace happens only if the object is still at that generation, under a lock on its
        folder (flock), as GCS's precondition does; else CommitConflictError and nothing changes."""
        path = self._path(key)
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with tmp.open("wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            with _folder_lock(path.parent, if_generation_match is not None):
                if if_generation_match is not None and _current(path) != if_generation_match:
                    tmp.unlink(missing_ok=True)
                    raise CommitConflictError(str(path), if_generation_match)
                os.replace(tmp, path)  # atomic on POSIX: readers see the old or the new object
        except OSError as err:
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)  # a full disk must not keep the partial copy
            failure = classify_local_failure(err, "write", path)
            if failure is None:
                raise
            raise failure from err

    def write_scratch(self, key: str, data: bytes) -> None:
        """Write a file only this run reads back (and deletes): plainly, without the fsync and
        rename of `write_bytes` (fsyncing a 650k-row day's SQL spool cost ~0.4 CPU s; a crash
        only fails the attempt that wrote it)."""
        path = self.local_path(key)
        assert path is not None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        except OSError as err:
            failure = classify_local_failure(err, "write", path)
            if failure is None:
                raise
            raise failure from err

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def scan_parquet(self, keys: Sequence[str]) -> pl.LazyFrame:
        import polars as pl

        return pl.scan_parquet([self.uri(k) for k in keys])

    def scan_csv(self, key: str, **options: Any) -> pl.LazyFrame:
        import polars as pl

        return pl.scan_csv(self.uri(key), **options)

    @contextlib.contextmanager
    def sink_targets(self, keys: Sequence[str]) -> Iterator[list[SinkTarget]]:
        paths = [self._path(k) for k in keys]
        try:
            for path in paths:
                path.parent.mkdir(parents=True, exist_ok=True)
            yield [str(p) for p in paths]
        except BaseException as err:
            for path in paths:
                with contextlib.suppress(OSError):
                    path.unlink(missing_ok=True)
            failure = _sink_failure(err, paths[0].parent)
            if failure is None:
                raise
            raise failure from err


def _transient_gcs_errors() -> tuple[type[BaseException], ...]:
    from google.api_core import exceptions as gexc
    from requests import exceptions as rexc

    return (
        gexc.TooManyRequests,
        gexc.InternalServerError,
        gexc.BadGateway,
        gexc.ServiceUnavailable,
        gexc.GatewayTimeout,
        rexc.ConnectionError,
        rexc.Timeout,
    )


class GcsStorage:
    """`gs://bucket/prefix` through google-cloud-storage (honours STORAGE_EMULATOR_HOST)."""

    CHUNK = 8 * 1024 * 1024  # resumable upload/download chunk: bounds memory per open object

    def __init__(self, uri: str, client: Any | None = None) -> None:
        bucket, _, prefix = uri.removeprefix("gs://").partition("/")
        if not bucket:
            raise ConfigError(f"lake URI {uri!r} names no bucket", reason="bad_lake_uri")
        self.root = uri.rstrip("/")
        self.prefix = prefix.strip("/")
        self.client = client or _default_gcs_client()
        self.bucket = self.client.bucket(bucket)
        self._transient = _transient_gcs_errors()

    def _name(self, key: str) -> str:
        if ".." in key.split("/"):
            raise ValueError(f"key {key!r} escapes the lake root")
        return f"{self.prefix}/{key}" if self.prefix else key

    def _call(self, what: str, fn: Callable[[], T]) -> T:
        """Run one small-object request with in-process retries for transient failures."""
        # Imported here: only the GCS lake retries, and a local step run need not load it.
        from tenacity import (
            retry,
            retry_if_exception_type,
            stop_after_attempt,
            wait_exponential_jitter,
        )

        guarded = retry(
            retry=retry_if_exception_type(self._transient),
            stop=stop_after_attempt(5),
            wait=wait_exponential_jitter(multiplier=0.5, max=8),
            reraise=True,
        )(fn)
        try:
            return guarded()
        except Exception as err:
            failure = self._classify(what, err)
            if failure is None:
                raise
            raise failure from err

    def uri(self, key: str) -> str:
        return f"gs://{self.bucket.name}/{self._name(key)}"

    def local_path(self, key: str) -> Path | None:
        return None

    def stat(self, key: str) -> ObjectInfo | None:
        blob = self._call(f"stat {self.uri(key)}", lambda: self.bucket.get_blob(self._name(key)))
        if blob is None:
            return None
        digest = f"md5:{blob.md5_hash}" if blob.md5_hash else f"crc32c:{blob.crc32c}"
        return ObjectInfo(key, int(blob.size or 0), digest)

    def size(self, key: str) -> int | None:
        info = self.stat(key)
        return None if info is None else info.size

    def list(self, prefix: str) -> list[str]:
        cut = len(self.prefix) + 1 if self.prefix else 0
        names = self._call(
            f"list {self.uri(prefix)}",
            lambda: [
                b.name for b in self.client.list_blobs(self.bucket, prefix=self._name(prefix))
            ],
        )
        return sorted(n[cut:] for n in names)

    def sizes(self, prefix: str) -> dict[str, int]:
        """Every object under `prefix` and its size, from one paged list request: a
        partition's files are checked without a metadata GET per object."""
        return {key: size for key, (size, _) in self.listing(prefix).items()}

    def listing(self, prefix: str) -> dict[str, tuple[int, float]]:
        """Every object under `prefix`: its size and last update (epoch seconds), as the
        objects.list response carries them (`size`, `updated`)."""
        cut = len(self.prefix) + 1 if self.prefix else 0
        blobs = self._call(
            f"list {self.uri(prefix)}",
            lambda: [
                (b.name, int(b.size or 0), b.updated.timestamp() if b.updated else 0.0)
                for b in self.client.list_blobs(self.bucket, prefix=self._name(prefix))
            ],
        )
        return {name[cut:]: (size, updated) for name, size, updated in blobs}

    def read_bytes(self, key: str) -> bytes:
        from google.api_core import exceptions as gexc

        try:
            return self._call(
                f"read {self.uri(key)}",
                lambda: self.bucket.blob(self._name(key)).download_as_bytes(),
            )
        except gexc.NotFound as err:
            raise FileNotFoundError(self.uri(key)) from err

    def read_versioned(self, key: str) -> tuple[bytes, int] | None:
        """The object's bytes and their generation (None: absent): a metadata GET, then a
        download pinned to that generation (`ifGenerationMatch`), again if it changed between."""
        from google.api_core import exceptions as gexc

        for _ in range(3):
            blob = self._call(
                f"stat {self.uri(key)}", lambda: self.bucket.get_blob(self._name(key))
            )
            if blob is None:
                return None
            # Read it before downloading: a download resets the blob's properties from the
            # response headers, which the emulator leaves out.
            generation = int(blob.generation)
            try:
                data = self._call(
                    f"read {self.uri(key)}",
                    lambda b=blob, g=generation: b.download_as_bytes(if_generation_match=g),
                )
            except (gexc.PreconditionFailed, gexc.NotFound):
                continue  # replaced or deleted between the two requests: look again
            return data, generation
        raise TransientError(f"read {self.uri(key)}: it keeps changing", reason="storage_transient")

    def write_bytes(self, key: str, data: bytes, *, if_generation_match: int | None = None) -> None:
        """A single-request upload: the object appears whole or not at all. With
        `if_generation_match` (0: must not exist) GCS refuses it with 412 when the object is
        no longer at that generation; that is CommitConflictError.
        https://cloud.google.com/storage/docs/request-preconditions"""
        from google.api_core import exceptions as gexc

        try:
            self._call(
                f"write {self.uri(key)}",
                lambda: self.bucket.blob(self._name(key)).upload_from_string(
                    data, content_type=_content_type(key), if_generation_match=if_generation_match
                ),
            )
        except gexc.PreconditionFailed as err:
            raise CommitConflictError(self.uri(key), if_generation_match or 0) from err

    def write_scratch(self, key: str, data: bytes) -> None:
        """A file only this run reads back: one upload, as any object (no fsync to skip)."""
        self.write_bytes(key, data)

    def delete(self, key: str) -> None:
        from google.api_core import exceptions as gexc

        with contextlib.suppress(gexc.NotFound):
            self._call(
                f"delete {self.uri(key)}", lambda: self.bucket.blob(self._name(key)).delete()
            )

    def _reader(self, key: str) -> IO[bytes]:
        return self.bucket.blob(self._name(key)).open("rb", chunk_size=self.CHUNK)

    def scan_parquet(self, keys: Sequence[str]) -> pl.LazyFrame:
        import polars as pl

        return pl.scan_parquet([self._reader(k) for k in keys])

    def scan_csv(self, key: str, **options: Any) -> pl.LazyFrame:
        import polars as pl

        return pl.scan_csv(self._reader(key), **options)

    @contextlib.contextmanager
    def sink_targets(self, keys: Sequence[str]) -> Iterator[list[SinkTarget]]:
        writers = [
            _FailureRecordingWriter(
                self.bucket.blob(self._name(k)).open("wb", chunk_size=self.CHUNK, ignore_flush=True)
            )
            for k in keys
        ]
        try:
            yield writers  # type: ignore[misc]
        except BaseException:
            for writer in writers:
                with contextlib.suppress(Exception):
                    writer.close()
            for key in keys:
                with contextlib.suppress(Exception):
                    self.delete(key)
            # polars keeps only the text of what a writer raised: classify the original.
            cause = next((w.failure for w in writers if w.failure is not None), None)
            failure = (
                None if cause is None else self._classify(f"upload {self.uri(keys[0])}", cause)
            )
            if failure is None:
                raise
            raise failure from cause
        for key, writer in zip(keys, writers, strict=True):
            self._call(f"finish upload {self.uri(key)}", writer.close)

    def _classify(self, what: str, err: BaseException) -> BatonError | None:
        from google.api_core import exceptions as gexc

        if isinstance(err, BatonError):
            return err
        if isinstance(err, self._transient):
            return TransientError(f"{what}: {err}", reason="storage_transient")
        if isinstance(err, (gexc.Forbidden, gexc.Unauthorized)):
            return UnavailableError(
                f"{what}: access denied ({err}); grant this job's service account access",
                reason="storage_denied",
            )
        return None


class _FailureRecordingWriter:
    """A BlobWriter that remembers the exception its upload raised, so the sink can say what
    really failed (polars turns it into a ComputeError holding only its text)."""

    def __init__(self, writer: IO[bytes]) -> None:
        self._writer = writer
        self.failure: BaseException | None = None

    def write(self, data: bytes) -> int:
        try:
            return self._writer.write(data)
        except BaseException as err:
            self.failure = err
            raise

    def close(self) -> None:
        self._writer.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._writer, name)


def _content_type(key: str) -> str:
    suffix = key.rsplit(".", 1)[-1]
    return {"json": "application/json", "csv": "text/csv"}.get(suffix, "application/octet-stream")


def _default_gcs_client() -> Any:
    from google.cloud import storage

    if os.environ.get("STORAGE_EMULATOR_HOST"):
        from google.auth.credentials import AnonymousCredentials

        return storage.Client(project="baton-local", credentials=AnonymousCredentials())
    return storage.Client()


def open_storage(root: str) -> Storage:
    """Open the lake at `root`: `gs://bucket/prefix` or a directory that must exist."""
    if root.startswith("gs://"):
        return GcsStorage(root)
    if "://" in root:
        raise ConfigError(
            f"lake {root!r}: only directories and gs:// URIs are supported", reason="bad_lake_uri"
        )
    path = Path(root)
    if not path.is_dir():
        raise ConfigError(
            f"lake directory {root} does not exist; create it, point BATON_LAKE at the lake, "
            "or run `baton seed` for the demo data",
            reason="lake_missing",
        )
    return LocalStorage(path)
