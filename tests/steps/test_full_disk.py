"""A full disk under the lake and the warehouse (a real tmpfs filled to the last byte): every
step fails as `unavailable` (exit 5, reason no_space) with a message naming the path and the
free space - never as bad data (4) or a bug (1) - and every commit and warehouse row stays."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from full_disk import fill, tmpfs
from lakes import JAN_2, Lake, assert_untouched, committed_snapshot, warehouse_tables
from typer.testing import CliRunner

from baton.errors import ExitCode
from baton.lake import STEPS


@pytest.fixture
def full_lake(committed_template: Lake, tmp_path: Path):
    """The committed lake on a tmpfs with no byte free."""
    with tmpfs(tmp_path / "disk", "64m") as disk:
        lake = committed_template.copy_to(disk / "home")
        before, tables = committed_snapshot(lake), warehouse_tables(lake)
        fill(disk)
        yield lake, before, tables


@pytest.mark.parametrize("step", STEPS)
def test_a_full_disk_is_unavailable_naming_the_path_and_the_free_space(full_lake, step):
    lake, before, tables = full_lake
    app = importlib.import_module(f"baton_{step}.cli").app

    result = CliRunner().invoke(app, ["run", "--date", str(JAN_2), "--force"], env=lake.environ())

    assert result.exit_code == ExitCode.UNAVAILABLE, result.output
    assert '"reason": "no_space"' in result.output
    assert "no space left on the device (0 bytes free" in result.output
    assert str(lake.home) in result.output
    assert "Traceback" not in result.output
    assert_untouched(lake, before, tables)
