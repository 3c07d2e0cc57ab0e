"""What a rerun starts: one step (and optionally the steps after it) for one partition, or
exactly what failed in an earlier execution, as pipeline arguments. Pure logic."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from baton.lake import STEPS, parse_date
from baton_cli.argument import PipelineArgument


def steps_from(step: str, *, downstream: bool) -> list[str]:
    """`step` alone, or it and every step after it in DAG order."""
    if step not in STEPS:
        raise ValueError(f"unknown step {step!r}; steps are {', '.join(STEPS)}")
    return list(STEPS[STEPS.index(step) :]) if downstream else [step]


def step_rerun(day: date, step: str, dataset: str | None, *, downstream: bool) -> dict[str, Any]:
    """The argument of a forced rerun of `step` (and the steps after it) for one partition."""
    steps = tuple(steps_from(step, downstream=downstream))
    return PipelineArgument((day,), steps=steps, force=True, dataset=dataset or None).to_json()


def failed_cells(summary: Mapping[str, Any]) -> dict[str, str]:
    """Each failed date and its first failed step, from a pipeline summary."""
    steps: Sequence[str] = summary.get("steps") or STEPS
    first: dict[str, str] = {}
    for day, entries in (summary.get("partitions") or {}).items():
        for step in steps:
            if (entries or {}).get(step, {}).get("status") == "failed":
                first[day] = step
                break
    return first


def execution_reruns(
    summary: Mapping[str, Any], argument: Mapping[str, Any] | None
) -> list[dict[str, Any]]:
    """Arguments that rerun exactly what failed: per first failed step, its dates from that
    step through the last step the execution asked for; dataset, mode, force and concurrency
    as the execution had them."""
    asked: list[str] = list(summary.get("steps") or STEPS)
    groups: dict[str, list[str]] = {}
    for day, step in failed_cells(summary).items():
        groups.setdefault(step, []).append(day)
    original = dict(argument or {})
    reruns = []
    for step in sorted(groups, key=STEPS.index):
        rerun = PipelineArgument(
            tuple(parse_date(d) for d in sorted(groups[step])),
            steps=tuple(asked[asked.index(step) :]),
            force=bool(original.get("force", False)),
            mode=original.get("mode"),
            concurrency=original.get("concurrency"),
            dataset=summary.get("dataset") or original.get("dataset"),
            form="list",
        )
        reruns.append(rerun.to_json())
    return reruns
