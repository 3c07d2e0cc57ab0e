"""What the operator verbs read from the status grid besides the cell states: the latest
attempt of each cell, recorded run times, and the partitions a lake knows."""

from __future__ import annotations

from lakes import JAN_1, JAN_2, SEEDED_DAYS

from baton import datasets
from baton.lake import STEPS
from baton_cli.status import known_days, recorded_durations, status_grid

FLIGHTS = datasets.get("flights")


def test_cells_carry_their_latest_attempt_and_its_execution(committed_lake):
    assert committed_lake.run("transform", JAN_1, env={"BATON_EXECUTION_ID": "again"}) == 0
    (row,) = status_grid(committed_lake.storage, FLIGHTS, [JAN_1])
    transform = row.cell("transform")
    assert (transform.attempt, transform.attempt_execution_id) == ("skipped", "again")
    assert transform.execution_id != "again"  # the commit is still the first run's


def test_recorded_durations_are_the_median_run_time_of_each_committed_step(committed_lake):
    grid = status_grid(committed_lake.storage, FLIGHTS, [JAN_1, JAN_2])
    durations = recorded_durations(grid)
    assert set(durations) == set(STEPS)
    for step in STEPS:
        runs = sorted(committed_lake.manifest(step, d).duration_s for d in (JAN_1, JAN_2))
        assert durations[step] == round(sum(runs) / 2, 3)


def test_a_lake_knows_its_landed_days_and_the_days_with_outputs(committed_lake):
    assert known_days(committed_lake.storage, "flights") == sorted(SEEDED_DAYS)
    assert known_days(committed_lake.storage, "flights", landed=False) == [JAN_1, JAN_2]
    assert known_days(committed_lake.storage, "no_such_dataset") == []
