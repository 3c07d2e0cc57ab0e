"""A load task that runs several dates shares one warehouse across them, closes it after the
last date, and still commits or fails each date alone."""

from __future__ import annotations

import json

from lakes import JAN_1, JAN_2, JAN_3, Lake, warehouse_rows

from baton.errors import ExitCode
from baton.step import Partition
from baton.stepcli import execute
from baton.warehouse import Warehouse
from baton_load.job import Load


class _Watched(Load):
    """The real load step, noting the warehouse each date used and when it is closed."""

    def __init__(self) -> None:
        super().__init__()
        self.used: list[int] = []
        self.closed = 0

    def _warehouse(self, part: Partition) -> tuple[Warehouse, bool]:
        warehouse, shared = super()._warehouse(part)
        self.used.append(id(warehouse))
        return warehouse, shared

    def close(self) -> None:
        self.closed += 1
        super().close()


def _run(lake: Lake, step: Load, *days) -> ExitCode:
    env = lake.environ(BATON_DATES=json.dumps([d.isoformat() for d in days]))
    return execute(step, None, "flights", force=True, dry_run=False, verbose=False, environ=env)


def test_a_tasks_dates_share_one_warehouse_closed_after_the_last(committed_lake, capsys):
    step = _Watched()
    assert _run(committed_lake, step, JAN_1, JAN_2) == ExitCode.OK
    assert len(step.used) == 2
    assert len(set(step.used)) == 1
    assert step.closed == 1
    loaded = warehouse_rows(committed_lake, "flights").group_by("flight_date").len()
    expected = {d: committed_lake.manifest("validate", d).rows_out for d in (JAN_1, JAN_2)}
    assert dict(loaded.rows()) == expected


def test_a_date_that_fails_in_a_shared_warehouse_leaves_the_others_committed(
    committed_lake, capsys
):
    # JAN_3 was never validated: its load fails; the two dates around it still load.
    before = warehouse_rows(committed_lake, "flights")
    loaded_before = {d: committed_lake.manifest("load", d).run_id for d in (JAN_1, JAN_2)}
    assert _run(committed_lake, _Watched(), JAN_1, JAN_3, JAN_2) == ExitCode.DATA
    for day, run_id in loaded_before.items():
        assert committed_lake.manifest("load", day).run_id != run_id  # recommitted (forced)
    assert not (committed_lake.root / "loaded/flights/dt=2013-01-03/_manifest.json").exists()
    after = warehouse_rows(committed_lake, "flights")
    assert sorted(after.rows()) == sorted(before.rows())
