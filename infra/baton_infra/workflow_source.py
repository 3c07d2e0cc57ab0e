"""The pipeline DAG's source, `workflows/pipeline.workflows.yaml`, read byte for byte."""

from __future__ import annotations

from pathlib import Path

from baton.errors import ConfigError

WORKFLOW_FILE = Path("workflows") / "pipeline.workflows.yaml"
MAX_SOURCE_BYTES = 128 * 1024
"""Cloud Workflows' limit on a workflow's source."""


def repo_root() -> Path:
    """The repository this package was installed from (editable, as the workspace installs it)."""
    return Path(__file__).resolve().parents[2]


def read_workflow_source(root: Path) -> str:
    """The workflow YAML under `root`, unchanged (no newline translation)."""
    path = root / WORKFLOW_FILE
    try:
        data = path.read_bytes()
    except FileNotFoundError as err:
        raise ConfigError(
            f"{path} not found: the workflow DAG is deployed from this file; run from a full "
            "checkout of the repository",
            reason="no_workflow_source",
        ) from err
    if len(data) > MAX_SOURCE_BYTES:
        raise ConfigError(
            f"{path} is {len(data)} bytes; Cloud Workflows accepts at most {MAX_SOURCE_BYTES}",
            reason="workflow_too_large",
        )
    return data.decode("utf-8")
