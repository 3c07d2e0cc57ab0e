"""The list of jobs is declared once (jobs.toml) and matches the pipeline and the packages."""

from __future__ import annotations

import importlib
import re

from baton.jobs import get_job, load_jobs
from baton.lake import STEPS


def test_there_is_one_job_per_step_in_pipeline_order():
    assert tuple(j.name for j in load_jobs()) == STEPS


def test_every_job_runs_its_own_step_module():
    for job in load_jobs():
        assert job.module == f"baton_{job.name}"
        assert job.command == ["python", "-m", job.module]
        importlib.import_module(f"{job.module}.cli")  # the package exists and its CLI imports


def test_resources_are_cloud_run_values_with_bounded_retries():
    for job in load_jobs():
        assert re.fullmatch(r"\d+(\.\d+)?", job.cpu)
        assert re.fullmatch(r"\d+(Mi|Gi)", job.memory)
        assert 1 <= job.timeout_s <= 168 * 3600
        assert 0 <= job.max_retries <= 3  # the workflow retries with its own predicate


def test_get_job_finds_a_job_by_name_and_refuses_unknown_names():
    assert get_job("load").module == "baton_load"
    try:
        get_job("publish")
    except KeyError as err:
        assert "publish" in str(err)
    else:
        raise AssertionError("an unknown job was found")
