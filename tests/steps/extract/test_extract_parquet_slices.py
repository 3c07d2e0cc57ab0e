"""A landing Parquet file larger than one slice is re-spooled slice by slice (so the reader's
peak stays flat as the file grows): the rows committed are exactly the file's, in order, and
the slices are deleted once the partition commits."""

from __future__ import annotations

import io
from pathlib import Path

import polars as pl
from lakes import JAN_2
from polars.testing import assert_frame_equal

from baton.errors import ExitCode
from baton.sources import files


def _raw(lake, dataset: str) -> pl.DataFrame:
    manifest = lake.manifest("extract", JAN_2, dataset)
    return pl.read_parquet([lake.root / f.key for f in manifest.files])


def test_a_parquet_file_read_in_slices_commits_exactly_its_rows(
    committed_lake, format_datasets, monkeypatch
):
    monkeypatch.setattr(files, "SLICE_ROWS", 100)  # 943 rows: ten slices
    expected = _raw(committed_lake, "flights")
    landing = committed_lake.root / "landing" / "flights_parquet" / f"{JAN_2}.parquet"
    landing.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    expected.write_parquet(buffer)
    landing.write_bytes(buffer.getvalue())

    assert committed_lake.run("extract", JAN_2, "flights_parquet") == ExitCode.OK

    assert_frame_equal(_raw(committed_lake, "flights_parquet"), expected)
    raw = committed_lake.root / "raw" / "flights_parquet" / f"dt={JAN_2}"
    named = {
        Path(f.key).name for f in committed_lake.manifest("extract", JAN_2, "flights_parquet").files
    }
    assert {p.name for p in raw.rglob("*.parquet")} == named  # the slices are gone
