"""Object storage behind one interface: a local directory or `gs://bucket/prefix`.

Keys are POSIX paths relative to the lake root. Data streams through polars (native paths
locally, google-cloud-storage BlobReader/BlobWriter on GCS); nothing is staged on local disk,
because a Cloud Run task's /tmp is RAM. Small-object writes are atomic (rename locally, a
single-request upload on GCS), which is what makes `_manifest.json` a commit.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol, TypeVar

import polars as pl
from tenacity import (
    retry,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from baton.errors import ConfigError, TransientError, UnavailableError

T = TypeVar("T")
SinkTarget = str | IO[bytes]


@dataclass(frozen=True)
class ObjectInfo:
    """What the store knows about one object without reading it."""

    key: str
    size: int
    digest: str  # content digest in the store's own scheme (sha256:… locally, md5:… on GCS)


class Storage(Protocol):
    """The operations baton needs from a lake."""

    root: str

    def uri(self, key: str) -> str: ...
    def stat(self, key: str) -> ObjectInfo | None: ...
    def size(self, key: str) -> int | None: ...
    def list(self, prefix: str) -> list[str]: ...
    def read_bytes(self, key: str) -> bytes: ...
    def write_bytes(self, key: str, data: bytes) -> None: ...
    def delete(self, key: str) -> None: ...
    def scan_parquet(self, keys: Sequence[str]) -> pl.LazyFrame: ...
    def scan_csv(self, key: str, **options: Any) -> pl.LazyFrame: ...
    def sink_targets(
        self, keys: Sequence[str]
    ) -> contextlib.AbstractContextManager[list[SinkTarget]]: ...
    def local_path(self, key: str) -> Path | None: ...


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
        sha = hashlib.sha256()
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                sha.update(block)
        return ObjectInfo(key, path.stat().st_size, f"sha256:{sha.hexdigest()}")

    def size(self, key: str) -> int | None:
        path = self._path(key)
        return path.stat().st_size if path.is_file() else None

    def list(self, prefix: str) -> list[str]:
        start = self._path(prefix)
        if not start.is_dir():
            return []
        return sorted(p.relative_to(self.base).as_posix() for p in start.rglob("*") if p.is_file())

    def read_bytes(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def write_bytes(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
        with tmp.open("wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)  # atomic on POSIX: readers see the old or the new object

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def scan_parquet(self, keys: Sequence[str]) -> pl.LazyFrame:
        return pl.scan_parquet([self.uri(k) for k in keys])

    def scan_csv(self, key: str, **options: Any) -> pl.LazyFrame:
        return pl.scan_csv(self.uri(key), **options)

    @contextlib.contextmanager
    def sink_targets(self, keys: Sequence[str]) -> Iterator[list[SinkTarget]]:
        paths = [self._path(k) for k in keys]
        for path in paths:
            path.parent.mkdir(parents=True, exist_ok=True)
        try:
            yield [str(p) for p in paths]
        except BaseException:
            for path in paths:
                path.unlink(missing_ok=True)
            raise


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
        from google.api_core import exceptions as gexc

        guarded = retry(
            retry=retry_if_exception_type(self._transient),
            stop=stop_after_attempt(5),
            wait=wait_exponential_jitter(multiplier=0.5, max=8),
            reraise=True,
        )(fn)
        try:
            return guarded()
        except self._transient as err:
            raise TransientError(f"{what}: {err}", reason="storage_transient") from err
        except (gexc.Forbidden, gexc.Unauthorized) as err:
            raise UnavailableError(
                f"{what}: access denied ({err}); grant this job's service account access",
                reason="storage_denied",
            ) from err

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

    def read_bytes(self, key: str) -> bytes:
        from google.api_core import exceptions as gexc

        try:
            return self._call(
                f"read {self.uri(key)}",
                lambda: self.bucket.blob(self._name(key)).download_as_bytes(),
            )
        except gexc.NotFound as err:
            raise FileNotFoundError(self.uri(key)) from err

    def write_bytes(self, key: str, data: bytes) -> None:
        # A single-request upload: the object appears whole or not at all.
        self._call(
            f"write {self.uri(key)}",
            lambda: self.bucket.blob(self._name(key)).upload_from_string(
                data, content_type=_content_type(key)
            ),
        )

    def delete(self, key: str) -> None:
        from google.api_core import exceptions as gexc

        with contextlib.suppress(gexc.NotFound):
            self._call(
                f"delete {self.uri(key)}", lambda: self.bucket.blob(self._name(key)).delete()
            )

    def _reader(self, key: str) -> IO[bytes]:
        return self.bucket.blob(self._name(key)).open("rb", chunk_size=self.CHUNK)

    def scan_parquet(self, keys: Sequence[str]) -> pl.LazyFrame:
        return pl.scan_parquet([self._reader(k) for k in keys])

    def scan_csv(self, key: str, **options: Any) -> pl.LazyFrame:
        return pl.scan_csv(self._reader(key), **options)

    @contextlib.contextmanager
    def sink_targets(self, keys: Sequence[str]) -> Iterator[list[SinkTarget]]:
        writers = [
            self.bucket.blob(self._name(k)).open("wb", chunk_size=self.CHUNK, ignore_flush=True)
            for k in keys
        ]
        try:
            yield writers
        except BaseException:
            for writer in writers:
                with contextlib.suppress(Exception):
                    writer.close()
            for key in keys:
                with contextlib.suppress(Exception):
                    self.delete(key)
            raise
        for writer in writers:
            self._call("finish upload", writer.close)


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
