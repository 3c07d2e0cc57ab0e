"""Extract reads the same day from every landing format, compressed or not, in one file or
several, and commits exactly the rows it commits from the CSV."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

import polars as pl
import pytest
from lakes import JAN_2, Lake
from polars.testing import assert_frame_equal

from baton.datasets import flights
from baton.errors import ExitCode
from baton.sources.files import FileSource

TEXT_COLUMNS = {"carrier", "tailnum", "origin", "dest", "time_hour"}


def _day_csv(lake: Lake) -> bytes:
    return (lake.root / "landing" / "flights" / f"{JAN_2}.csv").read_bytes()


def _json_records(lake: Lake) -> list[dict]:
    """The day's rows as an API or an exporter would write them: numbers as JSON numbers."""
    text = pl.read_csv(io.BytesIO(_day_csv(lake)), infer_schema=False, null_values=["NA", ""])
    typed = text.with_columns(
        pl.col(c).cast(pl.Int64) for c in text.columns if c not in TEXT_COLUMNS
    )
    return typed.to_dicts()


def _ndjson(lake: Lake) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in _json_records(lake)).encode()


def _json(lake: Lake) -> bytes:
    return json.dumps(_json_records(lake), indent=1).encode()


def _raw(lake: Lake, dataset: str) -> pl.DataFrame:
    manifest = lake.manifest("extract", JAN_2, dataset)
    return pl.read_parquet([lake.root / f.key for f in manifest.files])


def _land(lake: Lake, dataset: str, name: str, data: bytes) -> None:
    path = lake.root / "landing" / dataset / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


LANDINGS = {
    "flights_ndjson": lambda lake: {f"{JAN_2}.ndjson": _ndjson(lake)},
    "flights_ndjson_gz": lambda lake: {f"{JAN_2}.ndjson.gz": gzip.compress(_ndjson(lake))},
    "flights_json": lambda lake: {f"{JAN_2}.json": _json(lake)},
    "flights_json_gz": lambda lake: {f"{JAN_2}.json.gz": gzip.compress(_json(lake))},
    "flights_csv_gz": lambda lake: {f"{JAN_2}.csv.gz": gzip.compress(_day_csv(lake))},
    "flights_glob": lambda lake: _split(lake, f"{JAN_2}/part-a.csv", f"{JAN_2}/part-b.csv"),
    "flights_list": lambda lake: _split(lake, f"{JAN_2}-morning.csv", f"{JAN_2}-evening.csv"),
}


def _split(lake: Lake, first: str, second: str) -> dict[str, bytes]:
    header, *rows = _day_csv(lake).decode().splitlines(keepends=True)
    half = len(rows) // 2
    return {
        first: (header + "".join(rows[:half])).encode(),
        second: (header + "".join(rows[half:])).encode(),
    }


@pytest.mark.parametrize("dataset", sorted(LANDINGS))
def test_every_format_commits_the_rows_the_csv_commits(committed_lake, format_datasets, dataset):
    for name, data in LANDINGS[dataset](committed_lake).items():
        _land(committed_lake, dataset, name, data)

    assert committed_lake.run("extract", JAN_2, dataset) == ExitCode.OK

    assert_frame_equal(_raw(committed_lake, dataset), _raw(committed_lake, "flights"))
    assert committed_lake.manifest("extract", JAN_2, dataset).rows_quarantined == 0


def test_a_parquet_landing_file_of_the_declared_schema_is_taken_as_typed(
    committed_lake, format_datasets
):
    expected = _raw(committed_lake, "flights")
    _land(committed_lake, "flights_parquet", f"{JAN_2}.parquet", _parquet_bytes(expected))

    assert committed_lake.run("extract", JAN_2, "flights_parquet") == ExitCode.OK

    assert_frame_equal(_raw(committed_lake, "flights_parquet"), expected)


def _parquet_bytes(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_parquet(buffer)
    return buffer.getvalue()


def test_the_spool_of_decoded_batches_is_deleted_after_the_commit(committed_lake, format_datasets):
    _land(committed_lake, "flights_ndjson", f"{JAN_2}.ndjson", _ndjson(committed_lake))

    assert committed_lake.run("extract", JAN_2, "flights_ndjson") == ExitCode.OK

    raw = committed_lake.root / "raw" / "flights_ndjson" / f"dt={JAN_2}"
    named = {
        Path(f.key).name for f in committed_lake.manifest("extract", JAN_2, "flights_ndjson").files
    }
    assert {p.name for p in raw.rglob("*") if p.is_file() and p.suffix == ".parquet"} == named


def test_a_glob_that_matches_nothing_names_the_pattern(committed_lake, format_datasets):
    assert committed_lake.run("extract", JAN_2, "flights_glob") == ExitCode.DATA


def test_gzip_is_inferred_from_the_name_unless_declared():
    source = FileSource(schema={"a": pl.String()}, format="ndjson")
    assert (
        source.gzipped("landing/x/2013-01-02.ndjson.gz"),
        source.gzipped("landing/x/a.ndjson"),
    ) == (True, False)
    forced = FileSource(schema={"a": pl.String()}, format="ndjson", compression="gzip")
    assert forced.gzipped("landing/x/a.ndjson")


def test_a_gzipped_parquet_source_is_refused_when_defined():
    with pytest.raises(ValueError, match="Parquet landing file cannot be gzip-compressed"):
        FileSource(schema={"a": pl.String()}, format="parquet", compression="gzip")


def test_the_default_path_follows_the_format():
    source = FileSource(schema=flights.SOURCE.schema, format="ndjson")
    assert source.landing_keys("orders", JAN_2) == [f"landing/orders/{JAN_2}.ndjson"]
