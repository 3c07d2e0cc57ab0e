"""A lake that checks each call against the deployed IAM policy before making it, as Cloud
Storage would for the caller's service account: the local twin's enforcement of GCS IAM, on a
local directory and on a `gs://` lake alike (the emulator enforces nothing).

Which permission each operation needs, and on what
(https://cloud.google.com/storage/docs/access-control/iam-json): reading an object or its
metadata, storage.objects.get on the object; listing, storage.objects.list on the bucket;
writing, storage.objects.create, plus storage.objects.delete when it replaces an existing
object; deleting, storage.objects.delete.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import polars as pl

from baton.errors import ConfigError
from baton.iam import Policy
from baton.storage import ObjectInfo, SinkTarget, Storage

GET, LIST = "storage.objects.get", "storage.objects.list"
CREATE, DELETE = "storage.objects.create", "storage.objects.delete"


class PolicedStorage:
    """`inner`, refusing with PermissionDenied (exit code 5) what `who` may not do."""

    def __init__(self, inner: Storage, policy: Policy, who: str) -> None:
        self.inner = inner
        self.policy = policy
        self.who = who
        self.root = inner.root
        policy.email(who)  # an unknown caller fails at start, not at the first call

    def _check(self, permission: str, key: str) -> None:
        self.policy.check(self.who, permission, self.policy.deployment.object_resource(key))

    def _check_write(self, key: str, *, must_be_new: bool = False) -> None:
        self._check(CREATE, key)
        if not must_be_new and self.inner.size(key) is not None:
            self._check(DELETE, key)

    def _check_list(self) -> None:
        self.policy.check(self.who, LIST, self.policy.deployment.resource("bucket"))

    def uri(self, key: str) -> str:
        return self.inner.uri(key)

    def local_path(self, key: str) -> Path | None:
        # Callers open the path to read it (a landing file, the warehouse's Parquet).
        self._check(GET, key)
        return self.inner.local_path(key)

    def stat(self, key: str) -> ObjectInfo | None:
        self._check(GET, key)
        return self.inner.stat(key)

    def size(self, key: str) -> int | None:
        self._check(GET, key)
        return self.inner.size(key)

    def list(self, prefix: str) -> list[str]:
        self._check_list()
        return self.inner.list(prefix)

    def sizes(self, prefix: str) -> dict[str, int]:
        self._check_list()
        return self.inner.sizes(prefix)

    def listing(self, prefix: str) -> dict[str, tuple[int, float]]:
        self._check_list()
        return self.inner.listing(prefix)

    def read_bytes(self, key: str) -> bytes:
        self._check(GET, key)
        return self.inner.read_bytes(key)

    def read_versioned(self, key: str) -> tuple[bytes, int] | None:
        self._check(GET, key)
        return self.inner.read_versioned(key)

    def write_bytes(self, key: str, data: bytes, *, if_generation_match: int | None = None) -> None:
        self._check_write(key, must_be_new=if_generation_match == 0)
        self.inner.write_bytes(key, data, if_generation_match=if_generation_match)

    def write_scratch(self, key: str, data: bytes) -> None:
        self._check_write(key)
        self.inner.write_scratch(key, data)

    def delete(self, key: str) -> None:
        self._check(DELETE, key)
        self.inner.delete(key)

    def scan_parquet(self, keys: Sequence[str]) -> pl.LazyFrame:
        for key in keys:
            self._check(GET, key)
        return self.inner.scan_parquet(keys)

    def scan_csv(self, key: str, **options: Any) -> pl.LazyFrame:
        self._check(GET, key)
        return self.inner.scan_csv(key, **options)

    @contextlib.contextmanager
    def sink_targets(self, keys: Sequence[str]) -> Iterator[list[SinkTarget]]:
        for key in keys:
            self._check_write(key)
        with self.inner.sink_targets(keys) as targets:
            yield targets

    def __getattr__(self, name: str) -> Any:
        # The store's own attributes (a GCS lake's `bucket`, read by the landing reader after
        # `local_path` checked the read); every Storage operation is checked above.
        return getattr(self.inner, name)


def policed(storage: Storage, policy: Policy | None, who: str | None) -> Storage:
    """`storage` under `policy` as caller `who`; unchanged when no policy is enforced."""
    if policy is None:
        return storage
    if who is None:
        raise ConfigError(
            "BATON_TWIN_IAM=enforce, but this process does not know whom it runs as: set "
            "BATON_TWIN_IDENTITY (the local job runner sets step:<step>)",
            reason="policy_identity_missing",
        )
    return PolicedStorage(storage, policy, who)
