"""`baton workflow run|check`: execute or statically check any Cloud Workflows file locally.

`run` prints the execution's result as JSON on stdout and exits 0; when the execution fails it
prints the error value as JSON on stdout and exits 1. `sys.log` lines and a one-line status go
to stderr, so stdout stays machine-readable.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from baton.config import load_settings
from baton.errors import BatonError
from baton_cli.exit_codes import OperatorExit
from baton_engine import DefinitionError, EngineError, check_source
from baton_twin.connectors import GET_OBJECT, RUN_JOB
from baton_twin.local_engine import local_engine

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Run and check Cloud Workflows files with baton's local engine.",
)

FileArg = Annotated[
    Path, typer.Argument(help="workflow file (YAML or JSON)", exists=True, dir_okay=False)
]


def workflow_id(path: Path) -> str:
    """The workflow id a file deploys as: `pipeline.workflows.yaml` -> `pipeline`."""
    return path.name.split(".", 1)[0]


def _emit(value: Any) -> None:
    typer.echo(json.dumps(value, indent=2, default=str))


def _log_line(entry: dict[str, Any]) -> None:
    sys.stderr.write(json.dumps(entry, default=str) + "\n")


@app.command("run")
def run_cmd(
    file: FileArg,
    data: Annotated[
        str | None, typer.Option("--data", help="the execution argument as JSON, e.g. '{}'")
    ] = None,
    fast_retries: Annotated[
        bool, typer.Option("--fast-retries", help="retry at once instead of waiting the backoff")
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="no sys.log lines on stderr")
    ] = False,
) -> None:
    """Execute a workflow locally; print its result (or error) as JSON."""
    try:
        argument = None if data is None else json.loads(data)
    except json.JSONDecodeError as err:
        raise typer.BadParameter(f"--data is not JSON: {err}", param_hint="--data") from err
    try:
        settings = load_settings(environ=os.environ)
        engine = local_engine(
            settings, os.environ, fast_retries=fast_retries, log_sink=None if quiet else _log_line
        )
        execution_id = engine.start(
            file.read_text(), argument, workflow_id=workflow_id(file), source_path=str(file)
        )
    except DefinitionError as err:
        _emit(
            {
                "message": f"{file} is not a valid workflow",
                "tags": ["DefinitionError"],
                "issues": [str(i) for i in err.issues],
            }
        )
        raise typer.Exit(1) from err
    except EngineError as err:  # an argument the service would refuse
        typer.echo(err.message, err=True)
        raise typer.Exit(int(OperatorExit.CONFIG)) from err
    except BatonError as err:
        typer.echo(err.message, err=True)
        raise typer.Exit(int(err.exit_code)) from err
    try:
        record = engine.wait(execution_id)
    except KeyboardInterrupt:
        engine.cancel(execution_id)
        record = engine.wait(execution_id)
    typer.echo(
        f"execution {record.id}: {record.state} in {record.duration or 0:.1f} s, "
        f"{record.steps_run} steps (records: {engine.store.folder(record.id)})",
        err=True,
    )
    if record.state == "SUCCEEDED":
        _emit(record.result)
        return
    _emit(record.error)
    raise typer.Exit(int(OperatorExit.EXECUTION_FAILED))


@app.command("check")
def check_cmd(file: FileArg) -> None:
    """Check a workflow without running it: structure, jumps, calls, parallel limits."""
    workflow, issues = check_source(file.read_text(), {RUN_JOB, GET_OBJECT})
    for issue in issues:
        typer.echo(str(issue))
    errors = [i for i in issues if i.severity == "error"]
    if workflow is None or errors:
        typer.echo(f"{file}: {len(errors)} error(s)", err=True)
        raise typer.Exit(1)
    typer.echo(f"{file}: ok ({len(workflow.subworkflows)} (sub)workflows)", err=True)
