"""The run report's pure halves: the grid cells an execution's records make, the durations and
row accounting it shows, and the page it renders (self-contained, escaped, small)."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from baton.lake import STEPS
from baton_cli.report.cells import build_cell, last_attempts, rerun_command
from baton_cli.report.model import (
    Attempt,
    Cell,
    CellState,
    Flow,
    Header,
    RunReport,
    percentile,
    slowest_partitions,
    step_durations,
)
from baton_cli.report.render import render_report

DAY = date(2013, 1, 5)
T0 = 1_700_000_000.0


def attempt(
    step: str,
    outcome: str = "committed",
    *,
    day: date = DAY,
    start: float = 0.0,
    seconds: float = 1.0,
    number: int = 0,
) -> Attempt:
    return Attempt(
        day,
        step,
        f"baton-{step}-abcde",
        0,
        number,
        T0 + start,
        T0 + start + seconds,
        outcome,
        0 if outcome != "failed" else 4,
        log_uri="/home/x/jobs/baton-extract-abcde/task-0.log",
    )


def cell(entry, last=None, lake=("committed", True)) -> Cell:
    return build_cell(DAY, "extract", entry, last, lake, ("flights", "flights"))


def test_a_failed_step_carries_its_reason_message_and_the_exact_rerun_command():
    got = cell(
        {"status": "failed", "reason": "missing_input", "message": "no landing file"},
        attempt("extract", "failed"),
        ("failed", False),
    )
    assert got.state is CellState.FAILED
    assert (got.reason, got.message) == ("missing_input", "no landing file")
    assert got.rerun == "baton rerun --date 2013-01-05 --step extract --downstream"


def test_the_rerun_command_names_the_dataset_only_when_it_is_not_the_default():
    assert rerun_command(DAY, "load", "weather", "flights").endswith(
        "--downstream --dataset weather"
    )


def test_a_step_after_a_failure_is_skipped():
    assert cell({"status": "skipped"}).state is CellState.SKIPPED


def test_a_succeeded_step_is_committed_or_unchanged_by_what_its_last_attempt_did():
    assert cell({"status": "succeeded"}, attempt("extract")).state is CellState.COMMITTED
    assert cell({"status": "succeeded"}, attempt("extract", "skipped")).state is (
        CellState.UNCHANGED
    )


def test_without_attempt_logs_the_manifest_says_whether_this_execution_committed_it():
    assert cell({"status": "succeeded"}, None, ("committed", True)).state is CellState.COMMITTED
    assert cell({"status": "succeeded"}, None, ("committed", False)).state is CellState.UNCHANGED


def test_a_succeeded_step_whose_inputs_changed_since_is_stale():
    assert cell({"status": "succeeded"}, attempt("extract"), ("stale", True)).state is (
        CellState.STALE
    )


def test_a_step_the_execution_has_no_word_on_is_not_run():
    assert cell(None).state is CellState.NOT_RUN


def test_the_last_attempt_of_a_step_is_the_one_that_ended_last():
    first = attempt("extract", "failed", start=0)
    retry = attempt("extract", "committed", start=5, number=1)
    assert last_attempts([retry, first])[(DAY, "extract")] is retry


def test_p95_is_the_nearest_rank():
    assert percentile([float(i) for i in range(1, 101)], 0.95) == 95.0
    assert percentile([3.0], 0.95) == 3.0


def test_step_durations_count_only_the_runs_that_did_work():
    runs = [attempt("load", seconds=s) for s in (1.0, 2.0, 9.0)] + [
        attempt("load", "skipped", seconds=50.0)
    ]
    (load,) = step_durations(runs, STEPS)
    assert (load.count, load.median_s, load.p95_s, load.max_s) == (3, 2.0, 9.0, 9.0)


def test_slowest_partitions_add_up_every_attempt_of_a_date():
    runs = [
        attempt("extract", day=DAY, seconds=2),
        attempt("load", day=DAY, seconds=3),
        attempt("extract", day=DAY + timedelta(1), seconds=4),
    ]
    assert slowest_partitions(runs) == [(DAY, 5.0), (DAY + timedelta(1), 4.0)]


def test_a_partition_balances_when_landed_equals_loaded_plus_quarantined():
    flow = Flow(DAY, 914, 914, 914, 909, 909, {"validate": 5}, {"validate": {"carrier_known": 3}})
    assert flow.imbalance == 0
    assert Flow(DAY, 914, 914, 914, 909, 908, {"validate": 5}).imbalance == 1
    assert Flow(DAY, 914, None, None, None, None).imbalance is None


def report(days: int, *, message: str = "no landing file") -> RunReport:
    dates = tuple(DAY + timedelta(i) for i in range(days))
    cells, attempts, flows = [], [], []
    for i, d in enumerate(dates):
        for j, step in enumerate(STEPS):
            failed = i == 0 and step == "extract"
            entry = {"status": "failed", "reason": "missing_input", "message": message}
            cells.append(
                build_cell(
                    d,
                    step,
                    entry if failed else {"status": "succeeded"},
                    None,
                    ("committed", True),
                    ("flights", "flights"),
                )
            )
            attempts.append(
                attempt(
                    step, "failed" if failed else "committed", day=d, start=i * 3.0 + j, seconds=0.8
                )
            )
        flows.append(
            Flow(
                d,
                900,
                900,
                900,
                895,
                895,
                {"validate": 5},
                {"validate": {"carrier_known": 3, "distance_positive": 2}},
            )
        )
    header = Header(
        "ex-1",
        "baton-pipeline",
        "FAILED",
        '{"start": "2013-01-05"}',
        "flights",
        "batched",
        T0,
        T0 + days * 3.0 + 4,
        "baton",
        ("0.1.0",),
    )
    return RunReport(
        header,
        STEPS,
        dates,
        tuple(cells),
        tuple(attempts),
        tuple(flows),
        "baton rerun --execution ex-1",
    )


def test_the_page_loads_nothing_from_anywhere():
    page = render_report(report(3))
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "@import" not in page and "url(" not in page
    assert "default-src 'none'" in page  # the browser itself refuses any fetch


def test_messages_are_escaped_so_a_message_cannot_inject_markup():
    page = render_report(report(1, message="<script>alert(1)</script>"))
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_the_failed_cell_shows_the_rerun_command_and_the_header_the_execution_rerun():
    page = render_report(report(2))
    assert "baton rerun --date 2013-01-05 --step extract --downstream" in page
    assert "baton rerun --execution ex-1" in page


@pytest.mark.parametrize("days", [365])
def test_a_year_of_partitions_renders_under_one_megabyte(days):
    page = render_report(report(days))
    assert len(page.encode()) < 1_000_000
    assert page.count('<tr class="fine"') + page.count('<tr class="problem"') == days
