"""The progress grid: only this execution's attempts count, the summary settles the end, and
off a terminal every change is one plain line."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

from rich.console import Console

from baton.manifest import AttemptRecord
from baton_cli.progress import (
    Mark,
    ProgressCell,
    ProgressView,
    Tracked,
    cells_from_attempts,
    cells_from_summary,
)
from baton_cli.targets.protocol import ExecutionInfo

D1, D2 = date(2013, 2, 1), date(2013, 2, 2)
STEPS = ("extract", "transform", "validate", "load")
TRACKED = Tracked("exec-1", "flights", (D1, D2), STEPS)


def attempt(day, step, outcome, execution="exec-1", reason="", exit_code=0):
    return AttemptRecord(
        dataset="flights",
        step=step,
        partition=day,
        outcome=outcome,
        exit_code=exit_code,
        reason=reason,
        message="why" if reason else "",
        execution_id=execution,
        run_id="r",
        task_execution="t",
        task_index=0,
        task_attempt=0,
        finished_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


def test_attempts_of_other_executions_leave_a_cell_pending():
    cells = cells_from_attempts(
        TRACKED,
        {
            (D1, "extract"): attempt(D1, "extract", "committed"),
            (D1, "transform"): attempt(D1, "transform", "committed", execution="yesterday"),
        },
    )
    assert cells[(D1, "extract")].mark is Mark.COMMITTED
    assert cells[(D1, "transform")].mark is Mark.PENDING
    assert cells[(D2, "extract")].mark is Mark.PENDING


def test_a_skip_for_unchanged_inputs_shows_as_unchanged():
    cells = cells_from_attempts(TRACKED, {(D1, "extract"): attempt(D1, "extract", "skipped")})
    assert cells[(D1, "extract")].mark is Mark.UNCHANGED


def test_after_a_failure_the_later_steps_of_that_partition_are_skipped():
    cells = cells_from_attempts(
        TRACKED,
        {(D1, "transform"): attempt(D1, "transform", "failed", reason="contract", exit_code=4)},
    )
    assert [cells[(D1, s)].mark for s in STEPS] == [
        Mark.PENDING,
        Mark.FAILED,
        Mark.SKIPPED,
        Mark.SKIPPED,
    ]
    assert cells[(D1, "transform")].reason == "contract"


def test_the_summary_settles_every_cell_and_keeps_unchanged_apart():
    seen = {(D1, "extract"): ProgressCell(Mark.UNCHANGED)}
    summary = {
        "partitions": {
            "2013-02-01": {s: {"status": "succeeded"} for s in STEPS},
            "2013-02-02": {
                "extract": {"status": "failed", "reason": "no_attempt_record", "message": "died"},
                "transform": {"status": "skipped"},
                "validate": {"status": "skipped"},
                "load": {"status": "skipped"},
            },
        }
    }
    cells = cells_from_summary(TRACKED, summary, seen)
    assert cells[(D1, "extract")].mark is Mark.UNCHANGED
    assert cells[(D1, "load")].mark is Mark.COMMITTED
    assert cells[(D2, "extract")] == ProgressCell(Mark.FAILED, "no_attempt_record", "died")
    assert cells[(D2, "load")].mark is Mark.SKIPPED


def info(state: str) -> ExecutionInfo:
    return ExecutionInfo("exec-1", "n/exec-1", "baton-pipeline", state, start=0.0, end=None)


def test_off_a_terminal_each_change_is_printed_once_as_a_plain_line():
    out = io.StringIO()
    view = ProgressView(Console(file=out, width=200), TRACKED)
    assert not view.live
    pending = {k: ProgressCell(Mark.PENDING) for k in TRACKED.cells()}
    with view:
        view.update(info("ACTIVE"), pending)
        one = pending | {(D1, "extract"): ProgressCell(Mark.COMMITTED)}
        view.update(info("ACTIVE"), one)
        view.update(info("ACTIVE"), one)
    lines = out.getvalue().splitlines()
    assert lines == ["execution exec-1: ACTIVE", "2013-02-01  extract   committed"]


def test_the_live_table_shows_failed_and_unfinished_partitions_first_when_rows_run_out():
    days = tuple(date(2013, 2, d) for d in range(1, 11))
    tracked = Tracked("exec-1", "flights", days, ("extract",))
    cells = {(d, "extract"): ProgressCell(Mark.COMMITTED) for d in days}
    cells[(days[7], "extract")] = ProgressCell(Mark.FAILED, "bad_rows")
    cells[(days[9], "extract")] = ProgressCell(Mark.PENDING)
    out = io.StringIO()
    view = ProgressView(Console(file=out, width=120), tracked, live=True, max_rows=3)
    Console(file=out, width=120).print(view.render(info("ACTIVE"), cells))
    text = out.getvalue()
    assert "2013-02-08" in text and "bad_rows" in text and "2013-02-10" in text
    assert "and 7 more partitions" in text
