"""What a source hands extract: one partition's rows as text (or typed) columns, and the
spool in the lake that Python-decoded sources write their batches to as they arrive."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import IO, Any

import polars as pl

from baton.manifest import FileEntry, Manifest
from baton.parquet import ROW_GROUP_ROWS
from baton.storage import Storage

MALFORMED = "_malformed"
"""Text column a decoder sets on a record it could not decode (why, never the content); the
row is quarantined as `malformed_record`."""

BATCH_ROWS = 50_000
"""Rows a decoder gathers before writing a spool part: bounds its memory whatever the size of
the partition (~10 MiB of text for a flights day's 19 columns)."""


@dataclass(frozen=True)
class ReadContext:
    """What a source may use to read one partition: the lake, the run-time environment (for
    credentials and endpoints; read here, never at import), and where to spool."""

    storage: Storage
    dataset: str
    day: date
    environ: Mapping[str, str]
    spool_prefix: str
    """An attempt-unique lake prefix for decoded batches; extract deletes it after the run."""
    committed: Manifest | None = None
    """The partition's current extract commit (an incremental source merges into it)."""


@dataclass(frozen=True)
class Base:
    """The committed rows an incremental read merges its changes into: a committed row, loaded
    or quarantined, whose `key` comes again is replaced by its new version (loaded or
    quarantined as that one parses); the others are kept where they were."""

    frame: pl.LazyFrame | None
    """The committed loaded rows (typed)."""
    key: tuple[str, ...]
    quarantine: tuple[FileEntry, ...]
    rows: int
    key_types: Mapping[str, pl.DataType] = field(default_factory=dict)
    """The type of each key column (integers or text)."""
    rejected: pl.LazyFrame | None = None
    """The committed quarantined rows (text, with their reasons); None: none."""

    def keys_of(self, text: pl.LazyFrame) -> pl.LazyFrame:
        """The typed key columns of text rows (a value that does not parse is null, and a null
        key matches nothing: such a row is never replaced)."""
        return text.select(pl.col(c).cast(self.key_types[c], strict=False) for c in self.key)

    def unchanged(self, changes: pl.LazyFrame) -> tuple[pl.LazyFrame | None, pl.LazyFrame | None]:
        """(loaded, quarantined) committed rows whose key is not among the `changes` (text
        rows, good or bad)."""
        changed = self.keys_of(changes)
        key = list(self.key)
        loaded = self.frame.join(changed, on=key, how="anti") if self.frame is not None else None
        if self.rejected is None:
            return loaded, None
        typed = {c: f"__key_{n}" for n, c in enumerate(key)}
        quarantined = (
            self.rejected.with_columns(
                pl.col(c).cast(self.key_types[c], strict=False).alias(t) for c, t in typed.items()
            )
            .join(changed.rename(typed), on=list(typed.values()), how="anti")
            .drop(list(typed.values()))
        )
        return loaded, quarantined

    def rows_after(self, changes: pl.LazyFrame) -> int:
        """Rows the partition would hold once `changes` are merged: its distinct keys, loaded,
        quarantined or changed, plus each quarantined row whose key does not parse."""
        keys = [self.keys_of(changes)]
        if self.frame is not None:
            keys.append(self.frame.select(list(self.key)))
        if self.rejected is not None:
            keys.append(self.keys_of(self.rejected))
        every = pl.concat(keys)
        complete = pl.all_horizontal(pl.col(c).is_not_null() for c in self.key)
        distinct, unkeyed = pl.collect_all(
            [
                every.filter(complete).unique().select(pl.len()),
                every.filter(~complete).select(pl.len()),
            ]
        )
        return int(distinct.item()) + int(unkeyed.item())


@dataclass(frozen=True)
class LandingPart:
    """One landing object, read lazily, and the columns it was found to have."""

    uri: str
    frame: pl.LazyFrame
    columns: list[str] | None = None
    """The header found (CSV, Parquet), checked against the schema; None: records (JSON) whose
    missing fields read as null."""


@dataclass
class Landing:
    """One partition as read by its source."""

    parts: list[LandingPart]
    typed: bool = False
    """True when the columns already have the raw schema's types (Parquet): nothing to parse."""
    spooled: list[str] = field(default_factory=list)
    """Lake keys the source wrote and extract deletes once it has committed or failed."""
    expected_rows: int | None = None
    """Rows the source counted as it read (HTTP pages): checked against what extract wrote."""
    describe: str = ""
    """The source in words for messages (a file list or a redacted URL)."""
    base: Base | None = None
    """Committed rows the parts update (an incremental read's changes), merged by extract."""
    extra: dict[str, object] = field(default_factory=dict)
    """What the source records in the manifest (e.g. the watermark it read from and to)."""


def text_schema(columns: list[str], malformed: bool = True) -> dict[str, pl.DataType]:
    """Every column as text, plus the malformed-record marker."""
    schema: dict[str, pl.DataType] = dict.fromkeys(columns, pl.String())
    if malformed:
        schema[MALFORMED] = pl.String()
    return schema


class Spool:
    """Text batches written to the lake as Parquet parts as they arrive (never held whole)."""

    def __init__(self, storage: Storage, prefix: str, columns: list[str]) -> None:
        self.storage, self.prefix, self.columns = storage, prefix, columns
        self.schema = text_schema(columns)
        self.keys: list[str] = []
        self.rows = 0
        self._pending: list[pl.DataFrame] = []
        self._pending_rows = 0

    def add(self, batch: pl.DataFrame) -> None:
        """Queue a batch of text rows (missing columns become null); flush when big enough."""
        if batch.height == 0:
            return
        batch = batch.select(
            [
                pl.col(c).cast(pl.String)
                if c in batch.columns
                else pl.lit(None, pl.String).alias(c)
                for c in self.schema
            ]
        )
        self._pending.append(batch)
        self._pending_rows += batch.height
        self.rows += batch.height
        if self._pending_rows >= BATCH_ROWS:
            self.flush()

    def flush(self) -> None:
        """Write what is queued as one Parquet part."""
        if not self._pending:
            return
        frame = pl.concat(self._pending)
        self._pending, self._pending_rows = [], 0
        buffer = io.BytesIO()
        frame.write_parquet(
            buffer, compression="lz4", row_group_size=ROW_GROUP_ROWS, statistics=False
        )
        key = f"{self.prefix}/part-{len(self.keys):05d}.parquet"
        self.storage.write_bytes(key, buffer.getvalue())
        self.keys.append(key)

    def frame(self) -> pl.LazyFrame:
        """Everything spooled, as one lazy frame (empty, with the schema, when nothing was)."""
        self.flush()
        if not self.keys:
            return pl.LazyFrame(schema=self.schema)
        return self.storage.scan_parquet(self.keys)

    def discard(self) -> None:
        """Delete every part written so far."""
        for key in self.keys:
            with contextlib.suppress(Exception):
                self.storage.delete(key)


@contextlib.contextmanager
def open_object(storage: Storage, key: str) -> Iterator[IO[bytes]]:
    """A landing object as a binary stream read in chunks: a local file, or a GCS blob reader
    (google-cloud-storage `Blob.open`, 8 MiB chunks), so nothing is read whole."""
    path = storage.local_path(key)
    if path is not None:
        with path.open("rb") as fh:
            yield fh
        return
    bucket: Any = getattr(storage, "bucket", None)
    if bucket is None:  # an unknown store: read it whole rather than fail
        yield io.BytesIO(storage.read_bytes(key))
        return
    name = storage.uri(key).removeprefix(f"gs://{bucket.name}/")
    with bucket.blob(name).open("rb", chunk_size=8 * 1024 * 1024) as fh:
        yield fh
