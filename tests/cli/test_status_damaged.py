"""A committed partition whose named files are gone or resized is not healthy: `baton status`
shows the step `damaged` (reason manifest_missing_file) and the steps after it stale, from size
lookups alone; `--verify` also compares recorded digests; `backfill --only-missing` redoes it
to the same warehouse contents."""

from __future__ import annotations

import json
from dataclasses import replace

from lakes import JAN_1, JAN_2, warehouse_rows
from typer.testing import CliRunner

from baton import datasets
from baton.manifest import FileEntry, file_problems
from baton_cli.app import app
from baton_cli.status import State, status_grid

FLIGHTS = datasets.get("flights")
TABLES = ("flights", "carrier_daily_performance")


def _baton(lake, *args: str):
    return CliRunner().invoke(app, list(args), env={"BATON_HOME": str(lake.home)})


def _states(lake, day=JAN_2) -> dict[str, str]:
    (row,) = status_grid(lake.storage, FLIGHTS, [day])
    return {c.step: c.state.value for c in row.cells}


def test_a_deleted_data_file_marks_its_step_damaged_and_the_later_steps_stale(committed_lake):
    lake = committed_lake
    (entry,) = lake.manifest("transform", JAN_2).files
    (lake.root / entry.key).unlink()

    (row,) = status_grid(lake.storage, FLIGHTS, [JAN_2])

    assert _states(lake) == {
        "extract": "committed",
        "transform": "damaged",
        "validate": "stale",
        "load": "stale",
    }
    assert not row.current
    cell = row.cell("transform")
    assert cell.reason == "manifest_missing_file"
    assert entry.key in cell.message and "is missing" in cell.message
    assert _states(lake, JAN_1)["transform"] == "committed"


def test_a_truncated_data_file_is_damage_too(committed_lake):
    lake = committed_lake
    (entry,) = lake.manifest("extract", JAN_2).files
    path = lake.root / entry.key
    path.write_bytes(path.read_bytes()[:10])

    assert _states(lake)["extract"] == State.DAMAGED
    (row,) = status_grid(lake.storage, FLIGHTS, [JAN_2])
    assert f"has 10 bytes, not {entry.bytes}" in row.cell("extract").message


def test_a_missing_quarantine_file_is_damage_too(committed_lake):
    manifest = committed_lake.manifest("validate", JAN_2)
    lost = FileEntry(key="quarantine/flights/dt=2013-01-02/validate-x.parquet", rows=1, bytes=9)
    sizes = {f.key: f.bytes for f in manifest.files}

    problems = file_problems(replace(manifest, quarantine=(lost,)), sizes)

    assert problems == [f"{lost.key} is missing"]


def test_verify_finds_a_file_changed_in_place_that_sizes_alone_miss(committed_lake):
    lake = committed_lake
    (entry,) = lake.manifest("validate", JAN_2).files
    path = lake.root / entry.key
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))

    assert _states(lake)["validate"] == "committed"
    (row,) = status_grid(lake.storage, FLIGHTS, [JAN_2], verify=True)
    assert row.cell("validate").state is State.DAMAGED
    assert "digest" in row.cell("validate").message


def test_status_json_and_table_show_the_damaged_cell(committed_lake):
    lake = committed_lake
    (entry,) = lake.manifest("transform", JAN_2).files
    (lake.root / entry.key).unlink()

    table = _baton(lake, "status", "--date", str(JAN_2))
    doc = json.loads(_baton(lake, "status", "--date", str(JAN_2), "--json").stdout)

    assert "damaged" in table.stdout
    assert doc["partitions"][0]["steps"]["transform"]["state"] == "damaged"
    assert doc["totals"]["damaged"] == 1


def test_only_missing_repairs_a_damaged_partition_to_identical_warehouse_contents(
    committed_lake,
):
    lake = committed_lake
    before = {t: warehouse_rows(lake, t) for t in TABLES}
    (entry,) = lake.manifest("transform", JAN_2).files
    (lake.root / entry.key).unlink()

    result = _baton(lake, "backfill", "--start", str(JAN_1), "--end", str(JAN_2), "--only-missing")

    assert result.exit_code == 0, result.output
    assert "1 of 2 partitions are loaded" in result.output
    assert set(_states(lake).values()) == {"committed"}
    for table in TABLES:
        assert warehouse_rows(lake, table).equals(before[table]), table


def _garble(lake, step: str, day=JAN_2):
    """Garbage bytes in the middle of the file `step` committed: the size stays the same."""
    (entry,) = lake.manifest(step, day).files
    path = lake.root / entry.key
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle - 2000 : middle + 2000] = bytes(range(256)) * 15 + bytes(160)
    path.write_bytes(bytes(data))
    return entry


def test_a_file_the_next_step_found_corrupt_marks_its_commit_damaged(committed_lake):
    lake = committed_lake
    entry = _garble(lake, "transform")
    assert _states(lake)["transform"] == "committed"  # same size: a listing cannot tell

    assert lake.run("validate", JAN_2, force=True) == 4

    (row,) = status_grid(lake.storage, FLIGHTS, [JAN_2])
    assert _states(lake) == {
        "extract": "committed",
        "transform": "damaged",
        "validate": "failed",
        "load": "stale",
    }
    cell = row.cell("transform")
    assert cell.reason == "input_corrupt"
    assert entry.key in cell.message and "rerun the transform step" in cell.message


def test_a_commit_redone_since_the_corrupt_read_is_healthy_again(committed_lake):
    lake = committed_lake
    _garble(lake, "transform")
    assert lake.run("validate", JAN_2, force=True) == 4
    garbled = lake.manifest("transform", JAN_2).run_id

    assert lake.run("transform", JAN_2) == 0

    assert lake.manifest("transform", JAN_2).run_id != garbled  # redone, not skipped
    assert _states(lake)["transform"] == "committed"


def test_only_missing_repairs_a_commit_its_reader_found_corrupt(committed_lake):
    lake = committed_lake
    before = {t: warehouse_rows(lake, t) for t in TABLES}
    _garble(lake, "transform")
    assert lake.run("validate", JAN_2, force=True) == 4

    result = _baton(lake, "backfill", "--start", str(JAN_1), "--end", str(JAN_2), "--only-missing")

    assert result.exit_code == 0, result.output
    assert "1 of 2 partitions are loaded" in result.output
    assert set(_states(lake).values()) == {"committed"}
    for table in TABLES:
        assert warehouse_rows(lake, table).equals(before[table]), table
