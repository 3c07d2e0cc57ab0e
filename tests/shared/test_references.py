"""Reference tables are read whole, supplemented on purpose, and digested as step inputs."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from baton.datasets import flights
from baton.errors import DataError
from baton.references import ReferenceCache, load_references
from baton.storage import LocalStorage


def test_the_real_airports_table_is_supplemented_with_the_four_missing_destinations(lake):
    refs, inputs = load_references(lake.storage, flights.DATASET)
    airports = refs["airports"]
    added = airports.filter(pl.col("faa").is_in(["BQN", "PSE", "SJU", "STT"]))
    assert added.select("faa", "tzone").sort("faa").rows() == [
        ("BQN", "America/Puerto_Rico"),
        ("PSE", "America/Puerto_Rico"),
        ("SJU", "America/Puerto_Rico"),
        ("STT", "America/St_Thomas"),
    ]
    assert airports.columns == list(flights.AIRPORTS.schema)
    assert [i.key for i in inputs] == [flights.AIRLINES.path, flights.AIRPORTS.path]
    assert all(i.digest.startswith("crc32c:") for i in inputs)


def test_a_missing_reference_table_is_a_data_error_saying_how_to_land_it(tmp_path: Path):
    with pytest.raises(DataError) as caught:
        load_references(LocalStorage(tmp_path), flights.DATASET)
    assert caught.value.reason == "missing_reference"
    assert "reference table airlines is missing" in caught.value.message
    assert "baton seed" in caught.value.message


def test_a_reference_table_without_a_needed_column_names_it(tmp_path: Path):
    storage = LocalStorage(tmp_path)
    storage.write_bytes(flights.AIRLINES.path, b"carrier,label\nAA,American\n")
    storage.write_bytes(flights.AIRPORTS.path, b"faa\nJFK\n")
    with pytest.raises(
        DataError, match=r"reference table airlines .* lacks column\(s\) \['name'\]"
    ):
        load_references(storage, flights.DATASET)


class CountingStorage(LocalStorage):
    """A local lake that counts the CSV reads (each reference table parse is one)."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.parsed: list[str] = []

    def scan_csv(self, key: str, **options):
        self.parsed.append(key)
        return super().scan_csv(key, **options)


def _land_references(storage: LocalStorage, airline: str) -> None:
    storage.write_bytes(flights.AIRLINES.path, f"carrier,name\nAA,{airline}\n".encode())
    storage.write_bytes(flights.AIRPORTS.path, b"faa,name,lat,lon,alt,tz,dst,tzone\n")


def test_a_cache_reads_an_unchanged_table_once_and_a_changed_one_again(tmp_path: Path):
    storage = CountingStorage(tmp_path)
    _land_references(storage, "American")
    cache = ReferenceCache()
    first, inputs = load_references(storage, flights.DATASET, cache)
    again, inputs_again = load_references(storage, flights.DATASET, cache)
    assert again["airlines"] is first["airlines"] and inputs_again == inputs
    assert sorted(storage.parsed) == [flights.AIRLINES.path, flights.AIRPORTS.path]
    _land_references(storage, "American Airlines")
    changed, _ = load_references(storage, flights.DATASET, cache)
    assert changed["airlines"]["name"].to_list() == ["American Airlines"]
