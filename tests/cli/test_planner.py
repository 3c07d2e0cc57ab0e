"""The backfill planner never asks GCP for what it would reject, and covers every date once."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from baton.jobs import load_jobs
from baton.lake import STEPS
from baton_cli.dag import pipeline_limits
from baton_cli.planner import Request, WorkflowModel, plan_backfill, polls

YEAR = [date(2013, 1, 1) + timedelta(days=i) for i in range(365)]
dates = st.lists(st.dates(date(2000, 1, 1), date(2030, 12, 31)), min_size=1, max_size=3000)


@settings(max_examples=60, deadline=None)
@given(
    days=dates,
    concurrency=st.integers(1, 200),
    mode=st.sampled_from(["auto", "per_partition", "batched"]),
    steps=st.lists(st.sampled_from(STEPS), min_size=1, max_size=4, unique=True),
)
def test_every_execution_respects_the_platform_limits(days, concurrency, mode, steps):
    limits, model = pipeline_limits(), WorkflowModel()
    ordered = [s for s in STEPS if s in steps]
    plan = plan_backfill(Request(days, concurrency, mode, ordered), load_jobs(), limits=limits)
    for ex in plan.executions:
        assert ex.concurrency <= limits.parallel_iterations
        assert ex.argument_bytes <= limits.argument_bytes
        assert (
            len(ex.dates) * len(ordered) * model.summary_bytes_per_cell * model.summary_copies
            <= limits.memory_bytes * limits.headroom
        )
        assert ex.billable_steps <= limits.steps_per_execution * limits.headroom
        assert len(ex.dates) <= limits.dates_per_execution
        if ex.mode == "batched":
            assert len(ex.dates) <= limits.tasks_per_job_execution


@settings(max_examples=60, deadline=None)
@given(days=dates, recent_first=st.booleans())
def test_the_executions_cover_every_date_exactly_once_in_the_asked_order(days, recent_first):
    plan = plan_backfill(Request(days, recent_first=recent_first), load_jobs())
    planned = [d for ex in plan.executions for d in ex.dates]
    assert planned == sorted(set(days), reverse=recent_first)


def test_a_contiguous_chunk_is_sent_as_start_and_end_not_a_date_list():
    plan = plan_backfill(Request(YEAR[:28], concurrency=4, mode="per_partition"), load_jobs())
    (ex,) = plan.executions
    assert ex.argument == {
        "start": "2013-01-01",
        "end": "2013-01-28",
        "mode": "per_partition",
        "concurrency": 4,
    }


def test_gaps_are_sent_as_an_explicit_date_list():
    plan = plan_backfill(Request([YEAR[0], YEAR[2]], mode="per_partition"), load_jobs())
    assert plan.executions[0].argument["dates"] == ["2013-01-01", "2013-01-03"]


def test_concurrency_above_the_per_execution_cap_is_lowered_to_20():
    plan = plan_backfill(Request(YEAR[:40], concurrency=500, mode="per_partition"), load_jobs())
    assert {ex.concurrency for ex in plan.executions} == {20}


def test_three_years_in_per_partition_mode_are_chunked_into_several_executions():
    years = [date(2013, 1, 1) + timedelta(days=i) for i in range(3 * 365)]
    plan = plan_backfill(
        Request(years, concurrency=10, mode="per_partition"), load_jobs(), {s: 60.0 for s in STEPS}
    )
    assert len(plan.executions) > 1
    assert plan.totals["partitions"] == 3 * 365
    assert plan.totals["job_executions"] == 3 * 365 * 4


def test_auto_mode_fans_out_per_partition_for_a_few_days_and_batches_a_year():
    jobs = load_jobs()
    assert plan_backfill(Request(YEAR[:7]), jobs).executions[0].mode == "per_partition"
    assert {ex.mode for ex in plan_backfill(Request(YEAR), jobs).executions} == {"batched"}


def test_batched_mode_runs_one_job_execution_per_step_whose_tasks_share_the_dates():
    # 5 s start-up per task and 5 s a date: start-up stays within 10% from 9 dates a task on.
    (ex,) = plan_backfill(
        Request(YEAR[:100], mode="batched", steps=["transform", "validate"]), load_jobs()
    ).executions
    assert (ex.job_executions, ex.tasks_per_job, ex.dates_per_task) == (2, 12, 9)
    assert ex.tasks == 24
    assert ex.argument["steps"] == ["transform", "validate"]
    assert ex.argument["tasks_per_job"] == 12


def test_a_dearer_task_start_up_buys_fewer_fuller_tasks():
    cheap, dear = (
        plan_backfill(
            Request(YEAR[:100], mode="batched"),
            load_jobs(),
            {s: 1.0 for s in STEPS},
            model=replace(WorkflowModel(), billed_start_s=start),
        ).executions[0]
        for start in (0.5, 5.0)
    )
    assert (cheap.tasks_per_job, dear.tasks_per_job) == (20, 3)
    assert dear.cost_usd < cheap.cost_usd * 1.2 and dear.wall_s > cheap.wall_s


def test_fewer_fuller_tasks_cost_less_than_a_task_per_date():
    durations = {s: 5.0 for s in STEPS}
    planned = plan_backfill(Request(YEAR[:90], mode="batched"), load_jobs(), durations)
    per_date = replace(WorkflowModel(), startup_share=1.0)  # start-up never amortised
    wide = plan_backfill(Request(YEAR[:90], mode="batched"), load_jobs(), durations, model=per_date)
    assert wide.executions[0].tasks_per_job == 90
    assert planned.totals["cost_usd"] < wide.totals["cost_usd"]


def test_slow_dates_get_more_tasks_so_each_task_fits_its_timeout():
    # A 100 s start-up alone would want 6 dates a task; but load takes 600 s a date and a task
    # attempt may run 1800 s (jobs.toml), so a task takes at most 2 dates after its start-up.
    plan = plan_backfill(
        Request(YEAR[:20], mode="batched"),
        load_jobs(),
        {"load": 600.0},
        limits=pipeline_limits(),
        model=replace(WorkflowModel(), billed_start_s=100.0),
    )
    (ex,) = plan.executions
    assert (ex.dates_per_task, ex.tasks_per_job) == (2, 10)
    assert all(c.respected for c in plan.limits)


def test_a_job_execution_never_gets_more_tasks_than_dates():
    (ex,) = plan_backfill(
        Request(YEAR[:3], mode="batched"), load_jobs(), {s: 1000.0 for s in STEPS}
    ).executions
    assert ex.tasks_per_job == 3


def test_every_connector_poll_counts_and_the_interval_is_capped():
    model = WorkflowModel()
    assert polls(0.5, model) == 1
    # 1 + 1.25 + 1.5625 + ... reaches 60 s after 19 polls; then one poll a minute.
    assert polls(3600, model) - polls(1800, model) == 30


def test_estimates_state_their_assumptions():
    plan = plan_backfill(Request(YEAR[:3]), load_jobs(), {"extract": 2.0})
    text = " ".join(str(a) for a in plan.assumptions)
    assert "unconfirmed" in text and "extract 2 s" in text and "transform 5 s" in text
    assert "5 s where none" in text and "billed as instance time" in text


@pytest.mark.parametrize(
    "bad", [Request(YEAR[:2], steps=["extract", "bogus"]), Request(YEAR[:2], concurrency=0)]
)
def test_impossible_requests_are_refused(bad):
    with pytest.raises(ValueError):
        plan_backfill(bad, load_jobs())


def test_the_yaml_caps_dates_per_execution_even_when_every_other_limit_allows_more():
    limits = replace(pipeline_limits(), memory_bytes=10**9, headroom=1.0)
    years = [date(2013, 1, 1) + timedelta(days=i) for i in range(3 * 365)]
    plan = plan_backfill(Request(years, mode="batched"), load_jobs(), limits=limits)
    assert [len(ex.dates) for ex in plan.executions] == [140] * 7 + [115]
    small = replace(limits, dates_per_execution=30)
    plan = plan_backfill(Request(YEAR, mode="batched"), load_jobs(), limits=small)
    assert [len(ex.dates) for ex in plan.executions] == [30] * 12 + [5]


def test_the_limits_are_read_from_the_pipeline_yaml():
    limits = pipeline_limits()
    assert (limits.dates_per_execution, limits.connector_timeout_s) == (140, 4200.0)
    assert limits.parallel_iterations == 20


def test_a_step_slower_than_the_connector_timeout_is_refused_with_the_fix():
    with pytest.raises(ValueError, match=r"load takes about 5000 s.*connector_params.timeout"):
        plan_backfill(Request(YEAR[:3]), load_jobs(), {"load": 5000.0}, limits=pipeline_limits())


def test_batched_executions_are_split_so_every_task_fits_its_timeout():
    limits = replace(pipeline_limits(), task_parallelism=10)
    # A task attempt may run 1800 s - 5 s start-up: 2 dates of 800 s, and 10 tasks at once.
    plan = plan_backfill(
        Request(YEAR[:100], mode="batched"), load_jobs(), {"load": 800.0}, limits=limits
    )
    assert [len(ex.dates) for ex in plan.executions] == [20] * 5
    assert {ex.tasks_per_job for ex in plan.executions} == {10}


@settings(max_examples=80, deadline=None)
@given(
    n=st.integers(1, 5000),
    concurrency=st.integers(1, 30),
    mode=st.sampled_from(["auto", "per_partition", "batched"]),
    seconds=st.floats(0.01, 800.0),
    parallel=st.none() | st.integers(1, 2000),
)
def test_no_plan_of_1_to_5000_dates_exceeds_a_limit(n, concurrency, mode, seconds, parallel):
    days = [date(2000, 1, 1) + timedelta(days=i) for i in range(n)]
    plan = plan_backfill(
        Request(days, concurrency, mode, parallel_executions=parallel),
        load_jobs(),
        {s: seconds for s in STEPS},
        limits=pipeline_limits(),
    )
    assert plan.limits and [c.name for c in plan.limits if not c.respected] == []
    assert sum(len(ex.dates) for ex in plan.executions) == n
    assert 1 <= plan.parallel_executions <= (parallel or plan.parallel_executions)


def test_executions_run_side_by_side_within_the_limits_and_the_wall_time_shows_it():
    years = [date(2011, 1, 1) + timedelta(days=i) for i in range(3 * 365)]
    plan = plan_backfill(Request(years), load_jobs(), limits=pipeline_limits())
    one = plan_backfill(
        Request(years, parallel_executions=1), load_jobs(), limits=pipeline_limits()
    )
    assert plan.parallel_executions > 1 and one.parallel_executions == 1
    assert one.totals["wall_s"] == sum(ex.wall_s for ex in one.executions)
    assert plan.totals["wall_s"] < one.totals["wall_s"] / 4
    tasks_at_once = plan.parallel_executions * max(ex.tasks_per_job for ex in plan.executions)
    assert tasks_at_once <= pipeline_limits().task_parallelism


def test_three_years_on_gcp_plan_under_15_minutes_and_a_dollar_with_default_durations():
    years = [date(2011, 1, 1) + timedelta(days=i) for i in range(3 * 365)]
    plan = plan_backfill(Request(years), load_jobs(), limits=pipeline_limits())
    assert plan.totals["wall_s"] < 15 * 60 and plan.totals["cost_usd"] < 1.0
    assert all(c.respected for c in plan.limits)


def test_asking_for_more_parallel_executions_than_the_limits_allow_gets_the_limit():
    years = [date(2011, 1, 1) + timedelta(days=i) for i in range(3 * 365)]
    plan = plan_backfill(Request(years, parallel_executions=500), load_jobs())
    assert plan.parallel_executions < 500
    assert "lowered to the limit" in " ".join(str(a) for a in plan.assumptions)


def test_the_plan_json_has_per_execution_figures_totals_assumptions_and_limits():
    doc = plan_backfill(Request(YEAR), load_jobs(), limits=pipeline_limits()).to_json()
    first = doc["executions"][0]
    assert {
        "dates",
        "mode",
        "job_executions",
        "tasks_per_job_execution",
        "workflow_steps",
        "wall_s",
        "cost_usd",
    } <= set(first)
    assert set(doc["totals"]) >= {
        "executions",
        "job_executions",
        "tasks",
        "workflow_steps",
        "wall_s",
        "cost_usd",
    }
    assert all({"text", "source", "confirmed"} <= set(a) for a in doc["assumptions"])
    assert any(not a["confirmed"] for a in doc["assumptions"])
    assert all(c["respected"] for c in doc["limits"])
    assert json.loads(json.dumps(doc)) == doc
