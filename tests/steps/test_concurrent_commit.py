"""Two writers of one partition, the second committing between the first's plan and its commit:
on both lakes the first's manifest write is conditional on the generation it read, so it loses
with a retryable commit_conflict, deletes its own files and leaves the winner's commit whole
(never deleting files the winner names). On gs:// this runs behind tests/gcs_proxy.py, which
enforces the precondition the emulator ignores."""

from __future__ import annotations

import dataclasses

import pytest
from gcs_proxy import PreconditionProxy
from lakes import BUCKET, JAN_2

from baton import datasets
from baton.config import load_settings
from baton.errors import ExitCode
from baton.lake import manifest_key
from baton.manifest import read_manifest, verify_files
from baton.step import Partition, StepPlan, new_run_id, run_partition
from baton.storage import CommitConflictError, GcsStorage, LocalStorage
from baton.task import TaskContext
from baton_cli.demo import seed
from baton_extract.job import STEP as EXTRACT
from baton_transform.job import STEP as TRANSFORM


class Overtaken:
    """Transform, except that another writer commits the same partition while it works."""

    name = "transform"

    def plan(self, part: Partition) -> StepPlan:
        mine = TRANSFORM.plan(part)

        def execute():
            rival = dataclasses.replace(part, run_id=new_run_id(part.task))
            run_partition(TRANSFORM, rival, force=True)
            return mine.execute()

        return StepPlan(mine.inputs, execute, mine.reads)


def _partition(storage, home, step: str) -> Partition:
    settings = load_settings({}, {"BATON_HOME": str(home), "BATON_LAKE": storage.root})
    task = TaskContext.from_env({})
    flights = datasets.get("flights")
    return Partition(step, flights, JAN_2, storage, settings, task, new_run_id(task))


@pytest.fixture(params=["local", "gcs"])
def lake(request, tmp_path):
    if request.param == "local":
        (tmp_path / "lake").mkdir()
        storage = LocalStorage(tmp_path / "lake")
    else:
        proxy = PreconditionProxy(request.getfixturevalue("gcs")).__enter__()
        request.addfinalizer(lambda: proxy.__exit__(None, None, None))
        patch = pytest.MonkeyPatch()
        patch.setenv("STORAGE_EMULATOR_HOST", proxy.url)
        request.addfinalizer(patch.undo)
        storage = GcsStorage(f"gs://{BUCKET}/race-{tmp_path.name}")
    seed(storage, JAN_2, JAN_2)
    run_partition(EXTRACT, _partition(storage, tmp_path, "extract"))
    run_partition(TRANSFORM, _partition(storage, tmp_path, "transform"))
    return storage, tmp_path


def test_the_writer_that_lost_the_race_fails_retryably_and_leaves_the_winner_whole(lake):
    storage, home = lake
    loser = _partition(storage, home, "transform")
    key = manifest_key("transform", "flights", JAN_2)

    with pytest.raises(CommitConflictError) as caught:
        run_partition(Overtaken(), loser, force=True)

    assert caught.value.exit_code == ExitCode.TRANSIENT
    winner, _ = read_manifest(storage, key)
    assert winner.run_id != loser.run_id
    verify_files(storage, winner, key)  # every file the winner names is there, whole
    left = storage.list("staged/flights") + storage.list("quarantine/flights")
    assert not [k for k in left if loser.run_id in k]  # nothing of the loser is left
