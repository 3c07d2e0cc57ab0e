"""The pipeline DAG's constants the planner needs (`max_dates`, `max_concurrency`, the jobs.run
connector timeout), read from `workflows/pipeline.workflows.yaml` in this one place, so the
planner and the YAML cannot disagree."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from baton_cli.planner import PlatformLimits
from baton_twin.connector_names import RUN_JOB
from baton_twin.local_engine import PIPELINE


def _init_constants(document: Mapping[str, Any]) -> dict[str, Any]:
    steps = document["main"]["steps"]
    init = next(step["init"] for step in steps if "init" in step)
    return {k: v for entry in init["assign"] for k, v in entry.items()}


def _connector_timeouts(node: Any) -> list[Any]:
    """Every `connector_params.timeout` of a jobs.run call anywhere in the document."""
    found = []
    if isinstance(node, dict):
        if node.get("call") == RUN_JOB:
            found.append(node.get("args", {}).get("connector_params", {}).get("timeout"))
        for value in node.values():
            found.extend(_connector_timeouts(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(_connector_timeouts(value))
    return found


def pipeline_limits(path: Path = PIPELINE, base: PlatformLimits | None = None) -> PlatformLimits:
    """The platform limits, narrowed by what the pipeline YAML itself allows: its `max_dates`
    per execution, its `max_concurrency` and its jobs.run connector timeout (read from the
    file, so the planner and the YAML cannot disagree)."""
    document = yaml.safe_load(path.read_text())
    constants = _init_constants(document)
    timeouts = [t for t in _connector_timeouts(document) if isinstance(t, int | float)]
    base = base or PlatformLimits()
    return replace(
        base,
        parallel_iterations=min(base.parallel_iterations, int(constants["max_concurrency"])),
        dates_per_execution=int(constants["max_dates"]),
        connector_timeout_s=float(min(timeouts)) if timeouts else None,
    )
