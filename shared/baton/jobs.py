"""The list of jobs (name, module, CPU/memory, timeout, retries), read from `jobs.toml`."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

from baton.lake import STEPS
from baton_limits import RUN_TASK_MAX_RETRIES, RUN_TASK_TIMEOUT_S

JOB_PREFIX = "baton-"
"""Deployed Cloud Run job name = prefix + step, unless a stack sets its own prefix."""


@dataclass(frozen=True)
class Job:
    """One Cloud Run Job: a step container and its resources."""

    name: str
    module: str
    description: str
    cpu: str
    memory: str
    timeout_s: int
    max_retries: int

    @property
    def command(self) -> list[str]:
        """The container's ENTRYPOINT."""
        return ["python", "-m", self.module]


@cache
def load_jobs() -> tuple[Job, ...]:
    """Every job, in pipeline order; validated against the lake's step list."""
    raw = tomllib.loads(files("baton").joinpath("jobs.toml").read_text())
    jobs = tuple(Job(**entry) for entry in raw["job"])
    names = tuple(j.name for j in jobs)
    if names != STEPS:
        raise ValueError(f"jobs.toml declares {names}, the pipeline's steps are {STEPS}")
    for job in jobs:
        if not 0 <= job.max_retries <= RUN_TASK_MAX_RETRIES or not (
            1 <= job.timeout_s <= RUN_TASK_TIMEOUT_S
        ):
            raise ValueError(
                f"job {job.name}: max_retries must be 0..{RUN_TASK_MAX_RETRIES}, "
                f"timeout_s 1..{RUN_TASK_TIMEOUT_S}"
            )
    return jobs


def get_job(name: str) -> Job:
    """The job called `name`."""
    for job in load_jobs():
        if job.name == name:
            return job
    raise KeyError(f"no job named {name!r}; jobs: {[j.name for j in load_jobs()]}")
