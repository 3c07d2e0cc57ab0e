"""Targets of the operator verbs: the local twin and a GCP deployment, behind one protocol."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from baton.config import Settings
from baton_cli.targets.config import OpsConfig, load_ops_config
from baton_cli.targets.gcp import GcpTarget
from baton_cli.targets.local import LocalTarget
from baton_cli.targets.protocol import ExecutionInfo, JobRun, Target

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


@contextmanager
def open_target(
    config: OpsConfig,
    settings: Settings,
    environ: Mapping[str, str],
    *,
    parallelism: int | None = None,
) -> Iterator[Target]:
    """The target `config` names, closed on the way out; `parallelism` caps a local job
    execution's running tasks."""
    target: Target
    if config.target == "gcp":
        target = GcpTarget(config)
    else:
        target = LocalTarget(settings, environ, workflow=config.workflow, parallelism=parallelism)
    try:
        yield target
    finally:
        target.close()
