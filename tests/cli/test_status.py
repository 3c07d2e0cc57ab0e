"""The status grid tells committed, stale, failed and missing partitions apart from manifests alone."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from baton import datasets
from baton.lake import step_prefix
from baton.stepcli import execute
from baton.storage import LocalStorage
from baton_cli.demo import seed
from baton_cli.status import State, status_grid
from baton_extract.job import STEP as EXTRACT
from baton_load.job import STEP as LOAD
from baton_transform.job import STEP as TRANSFORM
from baton_validate.job import STEP as VALIDATE

DAY, OTHER, ABSENT = date(2013, 1, 2), date(2013, 1, 3), date(2013, 2, 1)
CHAIN = (EXTRACT, TRANSFORM, VALIDATE, LOAD)
FLIGHTS = datasets.get("flights")


def run(home: Path, step, day: date, force: bool = False) -> int:
    return execute(
        step,
        day,
        "flights",
        force=force,
        dry_run=False,
        verbose=False,
        environ={"BATON_HOME": str(home)},
    )


@pytest.fixture
def lake(tmp_path: Path) -> tuple[Path, LocalStorage]:
    (tmp_path / "lake").mkdir()
    storage = LocalStorage(tmp_path / "lake")
    seed(storage, DAY, OTHER)
    for day in (DAY, OTHER):
        for step in CHAIN:
            assert run(tmp_path, step, day) == 0
    return tmp_path, storage


def states(storage: LocalStorage, day: date) -> list[str]:
    (row,) = status_grid(storage, FLIGHTS, [day])
    return [c.state.value for c in row.cells]


def test_a_loaded_partition_is_committed_in_every_step_with_its_row_counts(lake):
    _, storage = lake
    (row,) = status_grid(storage, FLIGHTS, [DAY])
    assert row.current
    assert row.cell("extract").rows_in == row.cell("load").rows_out + sum(
        row.cell(s).rows_quarantined for s in ("extract", "transform", "validate")
    )
    assert row.cell("validate").quarantined_share == 0.0


def test_a_partition_never_run_is_missing_everywhere(lake):
    _, storage = lake
    assert states(storage, date(2013, 1, 9)) == ["missing"] * 4


def test_a_deleted_staged_partition_is_missing_and_everything_after_it_stale(lake):
    _, storage = lake
    shutil.rmtree(storage.local_path(step_prefix("transform", "flights", DAY)))
    assert states(storage, DAY) == ["committed", "missing", "stale", "stale"]
    assert states(storage, OTHER) == ["committed"] * 4


def test_a_changed_landing_file_makes_the_whole_chain_stale(lake):
    _, storage = lake
    key = f"landing/flights/{DAY.isoformat()}.csv"
    storage.write_bytes(
        key, storage.read_bytes(key) + storage.read_bytes(key).splitlines(keepends=True)[-1]
    )
    assert states(storage, DAY) == ["stale"] * 4


def test_a_forced_rerun_of_one_step_makes_only_the_steps_after_it_stale(lake):
    home, storage = lake
    assert run(home, TRANSFORM, DAY, force=True) == 0
    assert states(storage, DAY) == ["committed", "committed", "stale", "stale"]


def test_a_failed_attempt_shows_its_reason_until_a_later_commit(lake):
    home, storage = lake
    assert run(home, EXTRACT, ABSENT) == 4
    (row,) = status_grid(storage, FLIGHTS, [ABSENT])
    assert row.cell("extract").state is State.FAILED
    assert row.cell("extract").reason == "missing_input"


def test_a_corrupt_manifest_is_reported_as_failed_not_raised(lake):
    _, storage = lake
    storage.write_bytes(
        f"{step_prefix('validate', 'flights', DAY)}/_manifest.json", b'{"dataset": "fli'
    )
    (row,) = status_grid(storage, FLIGHTS, [DAY])
    assert row.cell("validate").state is State.FAILED
    assert row.cell("validate").reason == "manifest_corrupt"
    assert row.cell("load").state is State.STALE
