"""Manifests: the commit record of one step's output for one partition, and attempt records.

A step writes its data files first and `_manifest.json` last; readers read only the files a
manifest names. The attempt record (`_attempt.json`) says how the latest attempt ended,
including the exit code Cloud Run itself does not report.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from baton.errors import DataError
from baton.lake import manifest_key
from baton.storage import Storage
from baton.typed_record import Record, RecordError

FORMAT_VERSION = 1
_NATURAL = {"ge": 0}


@dataclass(frozen=True, kw_only=True)
class FileEntry(Record):
    """One data file a manifest commits."""

    key: str
    rows: int = field(metadata=_NATURAL)
    bytes: int = field(metadata=_NATURAL)
    digest: str = ""  # the store's content digest when written ("" in older manifests)


@dataclass(frozen=True, kw_only=True)
class InputRef(Record):
    """One input a step read: an upstream manifest or a source object, with its digest."""

    key: str
    digest: str


@dataclass(frozen=True, kw_only=True)
class Manifest(Record):
    """The commit of one step's output for one partition. Its JSON layout (field order, names,
    formats) is the one the pydantic model before it wrote, so old commits keep their digests."""

    format_version: int = FORMAT_VERSION
    dataset: str
    step: str
    partition: date
    files: tuple[FileEntry, ...]
    quarantine: tuple[FileEntry, ...] = ()
    rows_in: int
    rows_out: int
    rows_quarantined: int
    quarantine_reasons: dict[str, int] = field(default_factory=dict)
    schema: dict[str, str] = field(default_factory=dict)
    schema_fingerprint: str = ""
    inputs: tuple[InputRef, ...]
    code_version: str
    execution_id: str
    run_id: str
    started_at: datetime
    finished_at: datetime
    duration_s: float
    extra: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class AttemptRecord(Record):
    """How the latest attempt of a step for a partition ended."""

    dataset: str
    step: str
    partition: date
    outcome: str  # committed | skipped | failed
    exit_code: int
    reason: str = ""
    message: str = ""
    execution_id: str
    run_id: str
    task_execution: str
    task_index: int
    task_attempt: int
    finished_at: datetime
    quarantine: tuple[FileEntry, ...] = ()
    quarantine_reasons: dict[str, int] = field(default_factory=dict)
    inputs: tuple[InputRef, ...] = ()  # what the attempt planned to read (empty: failed first)
    code_version: str = ""


def digest(data: bytes) -> str:
    """The digest downstream steps record for an upstream manifest."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def schema_fingerprint(schema: dict[str, str]) -> str:
    """A short stable fingerprint of column names and types, in order."""
    return hashlib.sha256(json.dumps(list(schema.items())).encode()).hexdigest()[:16]


def read_manifest(storage: Storage, key: str) -> tuple[Manifest, str] | None:
    """The committed manifest at `key` and its digest, or None when nothing is committed.

    A manifest that is not valid JSON of the right shape is a DataError naming it.
    """
    try:
        data = storage.read_bytes(key)
    except FileNotFoundError:
        return None
    return parse_manifest(storage, key, data)


def parse_manifest(storage: Storage, key: str, data: bytes) -> tuple[Manifest, str]:
    """The manifest in `data` (read from `key`) and its digest; DataError when corrupt."""
    try:
        return Manifest.from_bytes(data), digest(data)
    except RecordError as err:
        raise DataError(
            f"manifest {storage.uri(key)} is corrupt ({err.where}: {err.msg}); rerun the step "
            "that wrote it with --force",
            reason="manifest_corrupt",
        ) from err


def verify_files(storage: Storage, manifest: Manifest, key: str) -> None:
    """Every file the manifest names must exist with the size it recorded (a size lookup:
    no file is read, where a local `stat` would hash it whole)."""
    for entry in manifest.files:
        size = storage.size(entry.key)
        if size != entry.bytes:
            state = "is missing" if size is None else f"has {size} bytes, not {entry.bytes}"
            raise DataError(
                f"manifest {storage.uri(key)} lists {storage.uri(entry.key)}, which {state}; "
                f"rerun the {manifest.step} step for {manifest.partition} with --force",
                reason="manifest_missing_file",
            )


def file_problems(manifest: Manifest, sizes: Mapping[str, int]) -> list[str]:
    """What is wrong with the files (data and quarantine) a manifest names, given the size of
    every object that exists: each missing or resized one, described (empty: intact)."""
    problems = []
    for entry in (*manifest.files, *manifest.quarantine):
        size = sizes.get(entry.key)
        if size is None:
            problems.append(f"{entry.key} is missing")
        elif size != entry.bytes:
            problems.append(f"{entry.key} has {size} bytes, not {entry.bytes}")
    return problems


def damage(
    storage: Storage, manifest: Manifest, *, verify: bool = False, listing: bool = True
) -> list[str]:
    """What is wrong with the files a committed manifest names: sizes from one listing per
    folder they live in (no object is read); with `verify`, also their content digests (a
    metadata read on GCS, a full read of each file locally).

    With `listing=False`, sizes come from one metadata read per file instead: storage.objects.get
    on each object, which is all a step's service account holds. Its grants are conditioned on
    object-name prefixes, and objects.list is checked on the bucket, whose name no such
    condition matches (https://cloud.google.com/iam/docs/conditions-resource-attributes#resource-name;
    the twin enforces that reading under BATON_TWIN_IAM=enforce)."""
    entries = (*manifest.files, *manifest.quarantine)
    sizes: dict[str, int] = {}
    if listing:
        for folder in sorted({e.key.rsplit("/", 1)[0] for e in entries}):
            sizes |= storage.sizes(folder)
    else:
        found = {e.key: storage.size(e.key) for e in entries}
        sizes = {key: size for key, size in found.items() if size is not None}
    problems = file_problems(manifest, sizes)
    if verify and not problems:
        digests = {}
        for entry in entries:
            info = storage.stat(entry.key)
            digests[entry.key] = None if info is None else info.digest
        problems = digest_problems(manifest, digests)
    return problems


def digest_problems(manifest: Manifest, digests: Mapping[str, str | None]) -> list[str]:
    """Files whose content digest now differs from the one recorded when they were written.

    Not judged: files written before digests were recorded, and those recorded in another
    scheme than the store's now (`sha256:` by a local lake before baton took CRC32C, `md5:`
    and `crc32c:` as GCS offers them): their digests cannot be compared."""
    return [
        f"{entry.key} has digest {now}, not the recorded {entry.digest}"
        for entry in (*manifest.files, *manifest.quarantine)
        if entry.digest
        and (now := digests.get(entry.key)) is not None
        and _scheme(now) == _scheme(entry.digest)
        and now != entry.digest
    ]


def _scheme(digest: str) -> str:
    return digest.partition(":")[0]


def read_attempt(storage: Storage, key: str) -> AttemptRecord | None:
    """The latest attempt record at `key`, or None (also when unreadable: it is advisory)."""
    try:
        return AttemptRecord.from_bytes(storage.read_bytes(key))
    except (FileNotFoundError, RecordError):
        return None


def found_corrupt(
    downstream: AttemptRecord | None, committed: Manifest, committed_digest: str | None = None
) -> bool:
    """Whether the reading step's latest attempt failed on a corrupt file of this very commit
    (`input_corrupt`, finished after it; with `committed_digest`, planned on it): the commit is
    damaged even when every file has its recorded size (garbage bytes written in place)."""
    if downstream is None or downstream.outcome != "failed" or downstream.reason != "input_corrupt":
        return False
    if downstream.finished_at <= committed.finished_at:
        return False  # the commit was redone since
    key = manifest_key(committed.step, committed.dataset, committed.partition)
    read = [ref.digest for ref in downstream.inputs if ref.key == key]
    return committed_digest is None or not read or read[0] == committed_digest
