"""Targets of the operator verbs: the local twin and a GCP deployment, behind one protocol."""

from __future__ import annotations

from collections.abc import Mapping

from baton.config import Settings
from baton_workflows.target.config import OpsConfig, load_ops_config
from baton_workflows.target.gcp import GcpTarget
from baton_workflows.target.local import LocalTarget
from baton_workflows.target.protocol import ExecutionInfo, JobRun, Target

__all__ = [
    "ExecutionInfo",
    "GcpTarget",
    "JobRun",
    "LocalTarget",
    "OpsConfig",
    "Target",
    "load_ops_config",
    "open_target",
]


def open_target(
    config: OpsConfig,
    settings: Settings,
    environ: Mapping[str, str],
    *,
    parallelism: int | None = None,
) -> Target:
    """The target `config` names; `parallelism` caps a local job execution's running tasks."""
    if config.target == "gcp":
        return GcpTarget(config)
    return LocalTarget(settings, environ, workflow=config.workflow, parallelism=parallelism)
