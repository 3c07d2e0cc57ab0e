"""The deployed garbage collector: `baton.garbage.sweep` over a `gs://` lake on the emulator
deletes only the unnamed attempt files older than the window, and the gc job's entrypoint
(`python -m baton_transform gc`, what the scheduled Cloud Run job runs) sweeps every dataset
with the same logic as `baton gc`, logging files and bytes as one JSON line per dataset."""

from __future__ import annotations

import json
import os
import time

import pytest
from lakes import BUCKET, JAN_1, JAN_2, assert_untouched, committed_snapshot, warehouse_tables
from typer.testing import CliRunner

from baton import datasets
from baton.config import load_settings
from baton.garbage import sweep
from baton.lake import STEPS, manifest_key
from baton.manifest import read_manifest, verify_files
from baton.step import Partition, new_run_id, run_partition
from baton.storage import GcsStorage
from baton.task import TaskContext
from baton_cli.demo import seed
from baton_extract.job import STEP as EXTRACT
from baton_transform.cli import app as transform_app
from baton_transform.job import STEP as TRANSFORM

TWO_DAYS = 2 * 86400
ORPHANS = {  # what killed attempts leave: data, quarantine, an interrupted temporary
    f"raw/flights/dt={JAN_2}/part-dead-t0-a0-0000.parquet": 1000,
    f"staged/flights/dt={JAN_2}/part-dead-t0-a0-0000.parquet": 500,
    f"quarantine/flights/dt={JAN_2}/transform-dead-t0-a0.parquet": 200,
}


def _run(storage: GcsStorage, home, step) -> None:
    settings = load_settings({}, {"BATON_HOME": str(home), "BATON_LAKE": storage.root})
    task = TaskContext.from_env({})
    part = Partition(
        step.name, datasets.get("flights"), JAN_2, storage, settings, task, new_run_id(task)
    )
    run_partition(step, part)


@pytest.fixture(scope="module")
def gcs_lake(gcs, tmp_path_factory) -> GcsStorage:
    """A gs:// lake with flights 2013-01-02 committed through transform (each test adds the
    orphans it needs: the tests may run in any order)."""
    home = tmp_path_factory.mktemp("gc-gcs")
    storage = GcsStorage(f"gs://{BUCKET}/gc-{home.name}")
    seed(storage, JAN_2, JAN_2)
    _run(storage, home, EXTRACT)
    _run(storage, home, TRANSFORM)
    return storage


def _named(storage: GcsStorage) -> set[str]:
    named = set()
    for step in STEPS:
        found = read_manifest(storage, manifest_key(step, "flights", JAN_2))
        if found is not None:
            verify_files(storage, found[0], manifest_key(step, "flights", JAN_2))
            named |= {f.key for f in found[0].files}
    return named


def test_on_gcs_files_written_just_now_are_inside_the_window(gcs_lake):
    gcs_lake.write_bytes(f"validated/flights/dt={JAN_2}/part-running-t0-a0-0000.parquet", b"x")

    found = sweep(gcs_lake, "flights", older_than_s=86400, now=time.time(), delete=True)

    assert found.garbage == []
    assert found.young >= 1
    assert gcs_lake.size(f"validated/flights/dt={JAN_2}/part-running-t0-a0-0000.parquet") == 1


def test_on_gcs_gc_deletes_only_the_old_unnamed_attempt_files(gcs_lake):
    for key, size in ORPHANS.items():
        gcs_lake.write_bytes(key, b"x" * size)
    named, landing = _named(gcs_lake), gcs_lake.list("landing/")

    found = sweep(gcs_lake, "flights", older_than_s=86400, now=time.time() + TWO_DAYS, delete=True)

    swept = {g.key: g.size for g in found.garbage}
    assert set(ORPHANS) <= set(swept) and not set(swept) & named
    assert all(swept[key] == size for key, size in ORPHANS.items())
    assert not any(gcs_lake.size(key) is not None for key in ORPHANS)
    assert _named(gcs_lake) == named  # every committed file still there, whole
    assert gcs_lake.list("landing/") == landing


def _orphans(lake) -> list:
    paths = []
    for key, size in ORPHANS.items():
        path = lake.root / key.replace(str(JAN_2), str(JAN_1))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x" * size)
        os.utime(path, (time.time() - TWO_DAYS,) * 2)
        paths.append(path)
    return paths


def _gc_job(lake, *args: str):
    env = {"BATON_HOME": str(lake.home), "BATON_LOG_LEVEL": "info"}
    result = CliRunner().invoke(transform_app, ["gc", *args], env=env)
    return result, [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


def test_the_gc_job_sweeps_every_dataset_and_logs_files_and_bytes(committed_lake):
    orphans = _orphans(committed_lake)
    before, tables = committed_snapshot(committed_lake), warehouse_tables(committed_lake)

    result, lines = _gc_job(committed_lake)

    assert result.exit_code == 0, result.output
    swept = {line["dataset"]: line for line in lines if line["message"] == "gc deleted"}
    assert set(swept) == set(datasets.registry())
    assert swept["flights"]["files"] == len(ORPHANS)
    assert swept["flights"]["bytes"] == sum(ORPHANS.values())
    assert not any(p.exists() for p in orphans)
    assert_untouched(committed_lake, before, tables)


def test_the_gc_job_dry_run_deletes_nothing(committed_lake):
    orphans = _orphans(committed_lake)

    result, lines = _gc_job(committed_lake, "--dry-run", "--dataset", "flights")

    assert result.exit_code == 0, result.output
    (line,) = [ln for ln in lines if ln["message"] == "gc would delete"]
    assert line["files"] == len(ORPHANS)
    assert all(p.exists() for p in orphans)


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (("--older-than", "1m"), "gc_window_too_short"),
        (("--older-than", "soon"), "gc_window_invalid"),
        (("--dataset", "nope"), "unknown_dataset"),
    ],
)
def test_the_gc_job_refuses_bad_settings_with_exit_3_before_deleting(committed_lake, args, reason):
    orphans = _orphans(committed_lake)

    result, lines = _gc_job(committed_lake, *args)

    assert result.exit_code == 3, result.output
    assert [ln["reason"] for ln in lines if ln["message"] == "gc failed"] == [reason]
    assert all(p.exists() for p in orphans)
