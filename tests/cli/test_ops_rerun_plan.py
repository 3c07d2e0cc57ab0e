"""What `baton rerun` starts: one step or the steps after it, or exactly what failed."""

from __future__ import annotations

from datetime import date

import pytest

from baton_cli.reruns import execution_reruns, failed_cells, step_rerun, steps_from

OK = {"status": "succeeded", "execution": "x"}
FAILED = {"status": "failed", "reason": "missing_input", "message": "no landing file"}
SKIPPED = {"status": "skipped"}


def summary(partitions, steps=("extract", "transform", "validate", "load")):
    return {
        "status": "failed",
        "dataset": "weather",
        "mode": "per_partition",
        "steps": list(steps),
        "dates": len(partitions),
        "failed": sorted(d for d, c in partitions.items() if FAILED in c.values()),
        "partitions": partitions,
    }


def test_a_single_step_rerun_is_that_step_alone_and_forced():
    assert step_rerun(date(2013, 2, 14), "validate", "flights", downstream=False) == {
        "date": "2013-02-14",
        "steps": ["validate"],
        "force": True,
        "dataset": "flights",
    }


def test_downstream_adds_every_later_step_in_dag_order():
    assert steps_from("transform", downstream=True) == ["transform", "validate", "load"]
    assert steps_from("load", downstream=True) == ["load"]


def test_an_unknown_step_is_refused_with_the_known_ones():
    with pytest.raises(ValueError, match="steps are extract, transform, validate, load"):
        steps_from("publish", downstream=False)


def test_each_failed_date_is_rerun_from_its_first_failed_step():
    s = summary(
        {
            "2013-01-01": {"extract": OK, "transform": OK, "validate": OK, "load": OK},
            "2013-01-02": {
                "extract": FAILED,
                "transform": SKIPPED,
                "validate": SKIPPED,
                "load": SKIPPED,
            },
            "2013-01-03": {"extract": OK, "transform": OK, "validate": FAILED, "load": SKIPPED},
            "2013-01-04": {
                "extract": FAILED,
                "transform": SKIPPED,
                "validate": SKIPPED,
                "load": SKIPPED,
            },
        }
    )
    assert failed_cells(s) == {
        "2013-01-02": "extract",
        "2013-01-03": "validate",
        "2013-01-04": "extract",
    }
    assert execution_reruns(s, {"start": "2013-01-01", "end": "2013-01-04", "mode": "batched"}) == [
        {
            "dates": ["2013-01-02", "2013-01-04"],
            "steps": ["extract", "transform", "validate", "load"],
            "dataset": "weather",
            "mode": "batched",
        },
        {
            "dates": ["2013-01-03"],
            "steps": ["validate", "load"],
            "dataset": "weather",
            "mode": "batched",
        },
    ]


def test_a_rerun_stops_at_the_last_step_the_execution_asked_for_and_keeps_force():
    s = summary(
        {"2013-01-02": {"transform": FAILED, "validate": SKIPPED}}, steps=("transform", "validate")
    )
    (rerun,) = execution_reruns(s, {"date": "2013-01-02", "force": True, "concurrency": 3})
    assert rerun["steps"] == ["transform", "validate"]
    assert (rerun["force"], rerun["concurrency"]) == (True, 3)


def test_nothing_failed_means_nothing_to_rerun():
    s = summary({"2013-01-01": {"extract": OK, "transform": OK, "validate": OK, "load": OK}})
    assert execution_reruns(s, {}) == []
