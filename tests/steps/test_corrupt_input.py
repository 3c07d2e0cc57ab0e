"""Garbage bytes in a file a committed manifest names (same size, so the size check passes): the
step that reads it fails as bad data (exit 4, reason input_corrupt) naming the file and the
step to rerun - never as a bug (exit 1) - and every commit and warehouse row stays as it was."""

from __future__ import annotations

import importlib

import pytest
from lakes import JAN_2, Lake, assert_untouched, committed_snapshot, warehouse_tables
from typer.testing import CliRunner

from baton.errors import ExitCode
from baton.lake import INPUT_STEP, attempt_key
from baton.manifest import read_attempt


def _garble(lake: Lake, step: str) -> str:
    """Overwrite the middle of `step`'s committed data file for JAN_2; its key."""
    (entry,) = lake.manifest(step, JAN_2).files
    path = lake.root / entry.key
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle - 2000 : middle + 2000] = bytes(range(256)) * 15 + bytes(160)
    path.write_bytes(bytes(data))
    return entry.key


@pytest.mark.parametrize("step", ["transform", "validate", "load"])
def test_a_corrupt_input_file_is_bad_data_naming_it(committed_lake, step):
    lake = committed_lake
    upstream = INPUT_STEP[step]
    key = _garble(lake, upstream)
    before, tables = committed_snapshot(lake), warehouse_tables(lake)
    app = importlib.import_module(f"baton_{step}.cli").app

    result = CliRunner().invoke(app, ["run", "--date", str(JAN_2), "--force"], env=lake.environ())

    assert result.exit_code == ExitCode.DATA, result.output
    assert str(lake.root / key) in result.output
    assert f"rerun the {upstream} step for {JAN_2} with --force" in result.output
    assert "Traceback" not in result.output
    record = read_attempt(lake.storage, attempt_key(step, "flights", JAN_2))
    assert (record.exit_code, record.reason) == (ExitCode.DATA, "input_corrupt")
    assert_untouched(lake, before, tables)


def test_a_landing_file_of_garbage_bytes_is_bad_data_naming_it(committed_lake):
    lake = committed_lake
    landing = lake.root / "landing" / "flights" / f"{JAN_2}.csv"
    data = bytearray(landing.read_bytes())
    data[100:4196] = bytes(range(256)) * 16
    landing.write_bytes(bytes(data))
    before, tables = committed_snapshot(lake), warehouse_tables(lake)
    app = importlib.import_module("baton_extract.cli").app

    result = CliRunner().invoke(app, ["run", "--date", str(JAN_2)], env=lake.environ())

    assert result.exit_code == ExitCode.DATA, result.output
    assert str(landing) in result.output
    assert "Traceback" not in result.output
    assert_untouched(lake, before, tables)
