"""Writing lazy frames to the lake as Parquet in one streaming pass, and counting what landed."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from baton.manifest import FileEntry
from baton.storage import Storage


def row_count(storage: Storage, key: str) -> int:
    """Rows in one Parquet object (read from its footer)."""
    return int(storage.scan_parquet([key]).select(pl.len()).collect().item())


def write_parquet(storage: Storage, outputs: Sequence[tuple[pl.LazyFrame, str]]) -> list[FileEntry]:
    """Sink every (frame, key) pair in one streaming run and describe the files written."""
    written, _ = write_parquet_and_collect(storage, outputs, ())
    return written


def write_parquet_and_collect(
    storage: Storage, outputs: Sequence[tuple[pl.LazyFrame, str]], frames: Sequence[pl.LazyFrame]
) -> tuple[list[FileEntry], list[pl.DataFrame]]:
    """`write_parquet`, collecting `frames` in the same run: a plan they share with the
    outputs is evaluated once, not once per result."""
    keys = [key for _, key in outputs]
    with storage.sink_targets(keys) as targets:
        sinks = [
            frame.sink_parquet(target, lazy=True, compression="zstd", statistics=True)
            for (frame, _), target in zip(outputs, targets, strict=True)
        ]
        results = pl.collect_all([*sinks, *frames], engine="streaming")
    written = [
        FileEntry(key=k, rows=row_count(storage, k), bytes=storage.size(k) or 0) for k in keys
    ]
    return written, list(results[len(sinks) :])


def schema_of(frame: pl.LazyFrame) -> dict[str, str]:
    """Column name -> polars type name, as recorded in manifests."""
    return {name: str(dtype) for name, dtype in frame.collect_schema().items()}


def reason_counts(
    storage: Storage, entries: Sequence[FileEntry], column: str = "_reasons"
) -> dict[str, int]:
    """How many quarantined rows broke each rule (a row may break several)."""
    keys = [e.key for e in entries if e.rows]
    if not keys:
        return {}
    counts = (
        storage.scan_parquet(keys)
        .select(pl.col(column).explode().alias("rule"))
        .group_by("rule")
        .len()
        .collect()
    )
    return {str(r): int(n) for r, n in counts.iter_rows()}
