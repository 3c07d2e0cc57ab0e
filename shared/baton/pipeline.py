"""Where the one pipeline DAG lives once installed: `workflows/pipeline.workflows.yaml`, shipped
as package data of `baton` (a symlink in the source tree, a file in the wheel), so the CLI, the
twin and infra find it from a non-editable install too."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

PIPELINE_WORKFLOW = "pipeline"
"""The workflow id the DAG deploys as (its file name without `.workflows.yaml`)."""


def pipeline_file() -> Path:
    """The path of the pipeline YAML inside the installed `baton` package."""
    return Path(str(files("baton").joinpath("pipeline.workflows.yaml")))
