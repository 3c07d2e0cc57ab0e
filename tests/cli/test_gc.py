"""`baton gc` deletes the files killed or superseded attempts left (data, quarantine,
temporaries) that no manifest names, once older than the window; it never touches what a
commit or the latest attempt names, files younger than the window, or a partition whose
manifest cannot be read; --dry-run reports the same files and bytes and deletes nothing."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from lakes import JAN_1, JAN_2, assert_untouched, committed_snapshot, warehouse_tables
from typer.testing import CliRunner

from baton import datasets
from baton_cli.app import app
from baton_cli.status import status_grid

TWO_DAYS = 2 * 86400
CORPUS = Path(__file__).resolve().parents[1] / "corpus"
FLIGHTS = datasets.get("flights")


def _baton(lake, *args: str):
    return CliRunner().invoke(app, list(args), env={"BATON_HOME": str(lake.home)})


def _orphan(lake, key: str, size: int, age_s: float = TWO_DAYS):
    path = lake.root / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)
    then = time.time() - age_s
    os.utime(path, (then, then))
    return path


def _left_by_killed_attempts(lake):
    return [
        _orphan(lake, f"raw/flights/dt={JAN_2}/part-dead-t0-a0-0000.parquet", 1000),
        _orphan(lake, f"quarantine/flights/dt={JAN_1}/validate-dead-t0-a0.parquet", 200),
        _orphan(lake, f"staged/flights/dt={JAN_2}/._manifest.json.abc.tmp", 30),
    ]


def test_dry_run_reports_the_unnamed_files_and_bytes_and_deletes_nothing(committed_lake):
    orphans = _left_by_killed_attempts(committed_lake)

    result = _baton(committed_lake, "gc", "--dry-run")

    assert result.exit_code == 0, result.output
    assert "would delete 3 file(s), 1.2 KiB (1230 bytes)" in result.output
    assert all(p.exists() for p in orphans)


def test_gc_deletes_only_old_unnamed_files_and_keeps_every_commit(committed_lake):
    lake = committed_lake
    orphans = _left_by_killed_attempts(lake)
    young = _orphan(lake, f"validated/flights/dt={JAN_2}/part-running-t0-a0-0000.parquet", 5, 60)
    before, tables = committed_snapshot(lake), warehouse_tables(lake)

    result = _baton(lake, "gc")

    assert result.exit_code == 0, result.output
    assert "deleted 3 file(s)" in result.output and "kept 1 younger" in result.output
    assert not any(p.exists() for p in orphans)
    assert young.exists()
    assert_untouched(lake, before, tables)
    assert all(row.current for row in status_grid(lake.storage, FLIGHTS, [JAN_1, JAN_2]))


def test_a_partition_whose_manifest_cannot_be_read_is_left_alone(committed_lake):
    lake = committed_lake
    orphan = _orphan(lake, f"raw/flights/dt={JAN_2}/part-dead-t0-a0-0000.parquet", 10)
    (lake.root / f"staged/flights/dt={JAN_2}/_manifest.json").write_bytes(b"{not json")

    result = _baton(lake, "gc")

    assert result.exit_code == 0, result.output
    assert "left alone" in result.output and str(JAN_2) in result.output
    assert orphan.exists()


def test_the_quarantine_of_the_latest_failed_attempt_is_kept(committed_lake):
    lake = committed_lake
    shutil.copyfile(CORPUS / "unparsable_values.csv", lake.root / f"landing/flights/{JAN_2}.csv")
    lake.run("extract", JAN_2, env={"BATON_QUARANTINE_TOLERANCE": "0"})
    kept = lake.storage.list(f"quarantine/flights/dt={JAN_2}")
    assert kept  # the failed attempt's rejects
    for key in kept:
        os.utime(lake.root / key, (time.time() - TWO_DAYS,) * 2)

    assert _baton(lake, "gc").exit_code == 0

    assert lake.storage.list(f"quarantine/flights/dt={JAN_2}") == kept


def test_a_window_shorter_than_a_step_attempt_is_refused(committed_lake):
    result = _baton(committed_lake, "gc", "--older-than", "1m")

    assert result.exit_code == 3
    assert "shorter than the longest a step attempt can run" in " ".join(result.output.split())
