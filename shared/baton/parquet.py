"""Writing lazy frames to the lake as Parquet in one streaming pass, and counting what landed."""

from __future__ import annotations

from collections.abc import MutableMapping, Sequence
from typing import Any

import polars as pl

from baton.contract import REASONS
from baton.manifest import FileEntry
from baton.storage import Storage

ROW_GROUP_ROWS = 20_000
"""Rows per Parquet row group we write. A polars scan decodes several row groups ahead, so
their size bounds the reader's memory: with polars' default (~100k rows) a step reading a
650k-row partition peaked ~60 MiB higher, and ~75 MiB more again at twice the rows; with
20k rows per group its peak stays flat as the partition grows (files grow ~9%)."""


HANDOFF: dict[str, Any] = {
    "compression": "zstd",
    # Null counts only. Min/max statistics cost 0.01-0.1 CPU-second per 650k-row file
    # written (measured one file at a time; within the noise of a whole chain), and nothing
    # reads them: no step or warehouse load filters a hand-off by a column's range. Null
    # counts cost nothing measurable and are kept.
    "statistics": {"min": False, "max": False, "distinct_count": False, "null_count": True},
    "row_group_size": ROW_GROUP_ROWS,
}
"""The `sink_parquet` options of every file a step writes (docs/benchmarks.md has what each
costs). zstd: a BigQuery load reads GZip, LZO, Snappy or ZSTD data blocks and not LZ4
(https://cloud.google.com/bigquery/docs/loading-data-cloud-storage-parquet#parquet_compression),
and snappy or no compression saved at most 0.1 CPU-second per 650k-row file (none visible in
a whole chain) for files 18-25% larger. Row groups of ROW_GROUP_ROWS rows, for flat memory
(that page advises row groups of at least 16 MiB for load speed; ours are ~0.4 MiB, a trade
for the 512 MiB jobs)."""


READ_AHEAD = {
    # Row groups a Parquet scan fetches and decodes ahead of the pipeline (default up to
    # 512, within 64 MiB of compressed bytes: a whole day's file). With 2, a step's peak
    # stays flat as the partition grows: on a numbered scan (with_row_index) 125/140 MiB
    # at 650k/1.3M rows instead of 155/195; no slower at 1 or 2 cores.
    "POLARS_ROW_GROUP_PREFETCH_SIZE": "2",
    # Bytes per CSV read chunk; the default grows with the file and several chunks are in
    # flight, so extract's peak grew with the landing file (195/274 MiB at 650k/1.3M rows,
    # 133/140 with 1 MB chunks, parsing as fast).
    "POLARS_CSV_CHUNK_SIZE": "1000000",
    # Files of a multi-file scan opened and read at once (default: several). Extract scans a
    # source's spool parts (a database's COPY parts, an API's pages, decoded JSON) as one
    # frame; with several in flight its peak grew with the partition (a 650k-row PostgreSQL
    # day's typing and sinking peaked 232-251/316-322 MiB at 1x/2x; with 1, 236-246/222-227,
    # no slower).
    "POLARS_MAX_CONCURRENT_SCANS": "1",
}


def bound_read_ahead(environ: MutableMapping[str, str]) -> None:
    """Bound how far polars reads ahead of the rows it is working on, so a step's memory does
    not grow with its partition. polars reads these variables process-wide at each scan; a
    value the operator set wins."""
    for name, value in READ_AHEAD.items():
        environ.setdefault(name, value)


def row_count(storage: Storage, key: str) -> int:
    """Rows in one Parquet object (read from its footer)."""
    return int(storage.scan_parquet([key]).select(pl.len()).collect().item())


def write_parquet(storage: Storage, outputs: Sequence[tuple[pl.LazyFrame, str]]) -> list[FileEntry]:
    """Sink every (frame, key) pair in one streaming run and describe the files written."""
    keys = [key for _, key in outputs]
    with storage.sink_targets(keys) as targets:
        sinks = [
            frame.sink_parquet(
                target,
                lazy=True,
                **HANDOFF,
            )
            for (frame, _), target in zip(outputs, targets, strict=True)
        ]
        pl.collect_all(sinks, engine="streaming")
    return [_entry(storage, k) for k in keys]


def _entry(storage: Storage, key: str) -> FileEntry:
    """The manifest entry of a file just written: rows from its footer, size and the store's
    digest (one metadata GET on GCS; a local digest re-reads the file, from the page cache)."""
    info = storage.stat(key)
    size, digest = (info.size, info.digest) if info is not None else (0, "")
    return FileEntry(key=key, rows=row_count(storage, key), bytes=size, digest=digest)


def write_with_quarantine(
    storage: Storage, kept: tuple[pl.LazyFrame, str], rejected: tuple[pl.LazyFrame, str]
) -> tuple[FileEntry, list[FileEntry]]:
    """Sink a step's kept rows and its rejected rows (strings detached) in one streaming run.

    Returns the kept file and the quarantine: its one file, or none (and the empty file
    deleted) when no row was rejected.
    """
    rejects, q_key = rejected
    written, quarantined = write_parquet(storage, [kept, (detach_strings(rejects), q_key)])
    if quarantined.rows:
        return written, [quarantined]
    storage.delete(q_key)
    return written, []


def detach_strings(frame: pl.LazyFrame) -> pl.LazyFrame:
    """`frame` with its string values copied into buffers of their own.

    For outputs that keep a few rows out of many (quarantine): a filtered string still points
    into the buffer of the whole chunk it was read with, and a sink holds its rows until a row
    group fills, so a few hundred scattered rejects pinned one buffer per chunk - memory that
    grew with the partition (~70 MiB per 650k landing rows). Values are unchanged.
    """
    schema = peek_schema(frame)
    return frame.with_columns(
        pl.concat_str([pl.col(name), pl.lit("")]).alias(name)
        for name, dtype in schema.items()
        if dtype == pl.String()
    )


def peek_schema(frame: pl.LazyFrame) -> pl.Schema:
    """`frame`'s schema, resolved on a copy of its plan.

    polars keeps what it resolved to answer `collect_schema` on the LazyFrame itself, and a
    later streaming run of that same frame then read its Parquet input with far more in
    flight: validate peaked at ~245 MiB instead of ~170 on a 650k-row day, and ~300 instead
    of ~185 at twice the rows. Asking a clone leaves the frame to be planned afresh.
    """
    return frame.clone().collect_schema()


def schema_of(frame: pl.LazyFrame) -> dict[str, str]:
    """Column name -> polars type name, as recorded in manifests."""
    return {name: str(dtype) for name, dtype in peek_schema(frame).items()}


def first_unreadable(storage: Storage, keys: Sequence[str]) -> tuple[str, str] | None:
    """The first of `keys` whose Parquet cannot be decoded whole, and the reader's diagnosis
    (its first line), or None when every one decodes. Counting nulls of every column makes
    the reader decompress and decode every page, in a streaming pass of bounded memory."""
    for key in keys:
        try:
            storage.scan_parquet([key]).select(pl.all().null_count()).collect(engine="streaming")
        except (pl.exceptions.PolarsError, OSError) as err:
            text = str(err).strip()
            return key, text.splitlines()[0] if text else type(err).__name__
    return None


def reason_counts(storage: Storage, entries: Sequence[FileEntry]) -> dict[str, int]:
    """How many quarantined rows broke each rule (a row may break several)."""
    keys = [e.key for e in entries if e.rows]
    if not keys:
        return {}
    counts = (
        storage.scan_parquet(keys)
        .select(pl.col(REASONS).explode().alias("rule"))
        .group_by("rule")
        .len()
        .collect()
    )
    return {str(r): int(n) for r, n in counts.iter_rows()}
