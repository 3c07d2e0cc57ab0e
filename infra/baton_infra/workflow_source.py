"""The pipeline DAG's source, `workflows/pipeline.workflows.yaml`, read byte for byte."""

from __future__ import annotations

from pathlib import Path

from baton.errors import ConfigError
from baton.pipeline import pipeline_file
from baton_limits import WORKFLOW_SOURCE_BYTES


def repo_root() -> Path:
    """The repository this package was installed from (editable, as the workspace installs it)."""
    return Path(__file__).resolve().parents[2]


def read_workflow_source(path: Path | None = None) -> str:
    """The workflow YAML (by default the one `baton` ships), unchanged (no newline translation)."""
    path = path or pipeline_file()
    try:
        data = path.read_bytes()
    except FileNotFoundError as err:
        raise ConfigError(
            f"{path} not found: the workflow DAG is deployed from this file; reinstall baton or "
            "run from a full checkout of the repository",
            reason="no_workflow_source",
        ) from err
    if len(data) > WORKFLOW_SOURCE_BYTES:
        raise ConfigError(
            f"{path} is {len(data)} bytes; Cloud Workflows accepts at most {WORKFLOW_SOURCE_BYTES}",
            reason="workflow_too_large",
        )
    return data.decode("utf-8")
