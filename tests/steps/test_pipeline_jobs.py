"""The four steps as jobs on a tiny real lake: row accounting, skipping, forced reruns, stale
files, quarantine tolerance, batched mode, and the weather dataset through the same containers."""

from __future__ import annotations

import json
import os
import tempfile
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lakes import FEB_12, JAN_1, JAN_2, JAN_3, STEP_OBJECTS, Lake, warehouse_rows

from baton.errors import ExitCode
from baton.lake import STEPS, attempt_key
from baton.manifest import read_attempt
from baton.stepcli import execute
from baton_cli.accounting import ledger

OK = [ExitCode.OK] * 4


def _attempt(lake: Lake, step: str, day: date, dataset: str = "flights"):
    return read_attempt(lake.storage, attempt_key(step, dataset, day))


@pytest.mark.slow
def test_every_landed_row_is_loaded_or_quarantined_on_every_day(lake):
    for day in (JAN_1, JAN_2, JAN_3):
        assert lake.chain(day) == OK
    rows = ledger(lake.storage, "flights", [JAN_1, JAN_2, JAN_3])
    assert [r.landed for r in rows] == [842, 943, 914]  # lines in the real files, less headers
    assert all(r.balanced for r in rows)
    loaded = warehouse_rows(lake, "flights").group_by("flight_date").len().sort("flight_date")
    assert loaded.rows() == [(r.day, r.loaded) for r in rows]


def test_load_fills_the_carrier_mart_for_the_partition(committed_lake):
    mart = warehouse_rows(committed_lake, "carrier_daily_performance")
    assert sorted(set(mart["flight_date"])) == [JAN_1, JAN_2]
    flights = warehouse_rows(committed_lake, "flights")
    assert mart["flights"].sum() == flights.height


def test_a_step_whose_inputs_are_unchanged_skips(committed_lake):
    for step in STEPS:
        before = committed_lake.manifest(step, JAN_2)
        assert committed_lake.run(step, JAN_2) == ExitCode.OK
        assert committed_lake.manifest(step, JAN_2) == before
        assert _attempt(committed_lake, step, JAN_2).outcome == "skipped"


def test_force_recommits_and_removes_the_files_of_the_previous_commit(committed_lake):
    old = committed_lake.manifest("extract", JAN_2)
    assert committed_lake.run("extract", JAN_2, force=True) == ExitCode.OK
    new = committed_lake.manifest("extract", JAN_2)
    assert new.run_id != old.run_id
    assert new.rows_out == old.rows_out
    for entry in old.files:
        assert not (committed_lake.root / entry.key).exists()
    assert sorted(
        p.name for p in (committed_lake.root / "raw/flights/dt=2013-01-02").iterdir()
    ) == sorted(["_attempt.json", "_manifest.json", *(Path(f.key).name for f in new.files)])


def test_a_changed_upstream_commit_makes_the_next_step_run_again(committed_lake):
    committed_lake.run("extract", JAN_2, force=True)
    before = committed_lake.manifest("transform", JAN_2)
    assert committed_lake.run("transform", JAN_2) == ExitCode.OK
    assert _attempt(committed_lake, "transform", JAN_2).outcome == "committed"
    assert committed_lake.manifest("transform", JAN_2).run_id != before.run_id


def test_dry_run_plans_and_writes_nothing(lake):
    assert lake.run("extract", JAN_1, dry_run=True) == ExitCode.OK
    assert not (lake.root / "raw").exists()


def test_a_step_without_its_upstream_commit_fails_with_exit_4_and_says_what_to_run(lake):
    assert lake.run("transform", JAN_1) == ExitCode.DATA
    record = _attempt(lake, "transform", JAN_1)
    assert (record.outcome, record.exit_code, record.reason) == ("failed", 4, "missing_input")
    assert "run extract for this date first" in record.message
    assert not (lake.root / "staged/flights/dt=2013-01-01/_manifest.json").exists()


def test_weather_runs_through_the_same_four_steps_quarantining_the_wind_outlier(lake):
    assert lake.chain(FEB_12, "weather") == OK
    validated = lake.manifest("validate", FEB_12, "weather")
    assert (validated.rows_in, validated.rows_out, validated.rows_quarantined) == (72, 71, 1)
    assert validated.quarantine_reasons == {"wind_speed_sane": 1}
    (rejected,) = validated.quarantine
    bad = pl.read_parquet(lake.root / rejected.key)
    assert bad.select("origin", "_reasons").rows() == [("EWR", ["wind_speed_sane"])]
    assert bad["wind_speed_mph"].item() > 1000
    loaded = warehouse_rows(lake, "weather")
    assert loaded.height == 71
    assert set(loaded["obs_date"]) == {FEB_12}
    (row,) = ledger(lake.storage, "weather", [FEB_12])
    assert (row.landed, row.loaded, row.quarantined, row.balanced) == (72, 71, 1, True)


def test_more_bad_rows_than_tolerated_fails_with_exit_4_and_commits_nothing(lake):
    for step in ("extract", "transform"):
        assert lake.run(step, FEB_12, "weather") == ExitCode.OK
    strict = {"BATON_QUARANTINE_TOLERANCE": "0"}
    assert lake.run("validate", FEB_12, "weather", env=strict) == ExitCode.DATA
    assert not (lake.root / "validated/weather/dt=2013-02-12/_manifest.json").exists()
    assert list((lake.root / "validated/weather/dt=2013-02-12").glob("*.parquet")) == []
    assert lake.run("load", FEB_12, "weather") == ExitCode.DATA  # nothing to load downstream
    record = _attempt(lake, "validate", FEB_12, "weather")
    assert (record.outcome, record.exit_code, record.reason) == ("failed", 4, "tolerance_exceeded")
    assert record.quarantine_reasons == {"wind_speed_sane": 1}
    assert "wind_speed_sane=1" in record.message
    (rejected,) = record.quarantine
    assert pl.read_parquet(lake.root / rejected.key).height == 1  # the rejects stay inspectable


def test_a_failed_rerun_leaves_the_previous_commit_in_place(lake):
    assert lake.chain(FEB_12, "weather") == OK
    committed = lake.manifest("validate", FEB_12, "weather")
    strict = {"BATON_QUARANTINE_TOLERANCE": "0"}
    assert lake.run("validate", FEB_12, "weather", force=True, env=strict) == ExitCode.DATA
    assert lake.manifest("validate", FEB_12, "weather") == committed
    for entry in (*committed.files, *committed.quarantine):
        assert (lake.root / entry.key).stat().st_size == entry.bytes


@pytest.mark.parametrize(("index", "share"), [(0, [JAN_1, JAN_3]), (1, [JAN_2])])
def test_a_batched_task_processes_exactly_its_share_of_baton_dates(lake, index, share):
    env = {
        "BATON_DATES": json.dumps([d.isoformat() for d in (JAN_3, JAN_1, JAN_2)]),
        "CLOUD_RUN_TASK_INDEX": str(index),
        "CLOUD_RUN_TASK_COUNT": "2",
    }
    assert lake.run("extract", None, env=env) == ExitCode.OK
    done = sorted(
        date.fromisoformat(p.parent.name[3:])
        for p in (lake.root / "raw/flights").glob("*/_manifest.json")
    )
    assert done == share
    assert {_attempt(lake, "extract", d).task_index for d in share} == {index}


def test_a_task_with_no_dates_in_its_share_does_nothing_and_succeeds(lake):
    env = {
        "BATON_DATES": '["2013-01-01"]',
        "CLOUD_RUN_TASK_INDEX": "3",
        "CLOUD_RUN_TASK_COUNT": "4",
    }
    assert lake.run("extract", None, env=env) == ExitCode.OK
    assert not (lake.root / "raw").exists()


def test_a_batched_task_reports_a_failed_date_but_commits_the_others(lake):
    env = {"BATON_DATES": '["2013-01-01", "2013-05-05"]'}  # 2013-05-05 never landed
    assert lake.run("extract", None, env=env) == ExitCode.DATA
    assert lake.manifest("extract", JAN_1).rows_out == 842


reruns = st.lists(
    st.tuples(st.sampled_from(STEPS), st.sampled_from([JAN_1, JAN_2]), st.booleans()),
    min_size=1,
    max_size=5,
)


@pytest.mark.slow
@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(reruns)
def test_any_sequence_of_reruns_leaves_the_same_warehouse_rows(committed_template, sequence):
    expected = {
        t: warehouse_rows(committed_template, t) for t in ("flights", "carrier_daily_performance")
    }
    with tempfile.TemporaryDirectory() as tmp:
        lake = committed_template.copy_to(Path(tmp) / "home")
        for step, day, force in sequence:
            assert lake.run(step, day, force=force) == ExitCode.OK
        for day in (JAN_1, JAN_2):  # catch every partition up, then compare
            assert lake.chain(day) == OK
        for table, rows in expected.items():
            assert warehouse_rows(lake, table).equals(rows), table


def test_a_run_logs_json_lines_and_one_summary_line_with_the_accounting(lake, capsys):
    code = execute(
        STEP_OBJECTS["extract"],
        JAN_1,
        "flights",
        force=False,
        dry_run=False,
        verbose=False,
        environ=lake.environ(BATON_EXECUTION_ID="exec-7"),
    )
    assert code == ExitCode.OK
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    (summary,) = [line for line in lines if line["message"] == "step finished"]
    assert summary["severity"] == "INFO"
    assert (
        summary["outcome"],
        summary["rows_in"],
        summary["rows_out"],
        summary["rows_quarantined"],
    ) == ("committed", 842, 842, 0)
    assert summary["bytes_out"] > 0 and summary["duration_s"] >= 0
    # This process's own high-water mark, in MiB (the test runner's, here: at least what a
    # Python with polars loaded holds, and no more than the machine has).
    assert (
        50
        < summary["peak_rss_mib"]
        < os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 2**20
    )
    assert summary["logging.googleapis.com/labels"] == {
        "step": "extract",
        "dataset": "flights",
        "partition_date": "2013-01-01",
        "execution_id": "exec-7",
        "task_index": "0",
        "attempt": "0",
    }
    record = _attempt(lake, "extract", JAN_1)
    assert (record.outcome, record.exit_code, record.execution_id) == ("committed", 0, "exec-7")
