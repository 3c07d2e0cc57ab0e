"""Writing a step's kept and rejected rows: the quarantine exists only when rows were rejected."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

from baton.parquet import write_with_quarantine
from baton.storage import LocalStorage

FRAME = pl.LazyFrame({"n": [1, 2, 3], "s": ["a", "b", "c"]})


def test_rejected_rows_are_written_to_the_quarantine(tmp_path: Path):
    storage = LocalStorage(tmp_path)
    good, bad = FRAME.filter(pl.col("n") < 3), FRAME.filter(pl.col("n") == 3)
    written, quarantine = write_with_quarantine(storage, (good, "out.parquet"), (bad, "q.parquet"))
    assert (written.key, written.rows) == ("out.parquet", 2)
    assert [(q.key, q.rows) for q in quarantine] == [("q.parquet", 1)]
    assert storage.scan_parquet(["q.parquet"]).collect()["s"].to_list() == ["c"]


def test_no_rejected_rows_leave_no_quarantine_file(tmp_path: Path):
    storage = LocalStorage(tmp_path)
    bad = FRAME.filter(pl.lit(False))
    written, quarantine = write_with_quarantine(storage, (FRAME, "out.parquet"), (bad, "q.parquet"))
    assert written.rows == 3
    assert quarantine == []
    assert storage.stat("q.parquet") is None


def test_hand_off_files_are_zstd_with_null_counts_and_no_min_max(tmp_path: Path):
    # BigQuery loads zstd (not lz4); min/max cost a third of a write and nothing reads them.
    storage = LocalStorage(tmp_path)
    frame = pl.LazyFrame({"n": [1, None, 3], "s": ["a", "b", None]})
    write_with_quarantine(storage, (frame, "out.parquet"), (frame.head(0), "q.parquet"))
    chunks = duckdb.sql(
        "SELECT path_in_schema, compression, stats_min_value, stats_max_value, stats_null_count "
        f"FROM parquet_metadata('{tmp_path / 'out.parquet'}') ORDER BY path_in_schema"
    ).fetchall()
    assert chunks == [("n", "ZSTD", None, None, 1), ("s", "ZSTD", None, None, 1)]
