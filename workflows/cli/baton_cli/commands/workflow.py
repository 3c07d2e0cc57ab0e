"""`baton workflow run|check|conform`: execute or statically check any Cloud Workflows file
locally, or compare the local engine with Cloud Workflows on the conformance cases.

`run` prints the execution's result as JSON on stdout and exits 0; when the execution fails it
prints the error value as JSON on stdout and exits 1. `sys.log` lines and a one-line status go
to stderr, so stdout stays machine-readable.
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from baton.config import load_settings
from baton.errors import BatonError, ConfigError
from baton_cli.exit_codes import OperatorExit
from baton_cli.options import (
    ProjectOpt,
    RegionOpt,
    TargetOpt,
    console,
    escape,
    exit_codes,
    load_config,
)
from baton_engine import DefinitionError, EngineError, check_source
from baton_twin.connector_names import GET_OBJECT, RUN_JOB

# `check` needs the engine alone: the twin's engine (the lake, the job runner) and the
# conformance cases and their GCP client are imported by the subcommands that use them.
if TYPE_CHECKING:
    from baton_cli.conform import Case, Verdict
    from baton_cli.targets.config import OpsConfig

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Run and check Cloud Workflows files with baton's local engine; compare it with GCP.",
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
    from baton_twin.local_engine import local_engine

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


DEFAULT_CASES = Path("tests/engine/conformance")


def _load_cases(folder: Path) -> list[Case]:
    from baton_cli.conform import parse_cases

    if not folder.is_dir():
        raise ConfigError(
            f"--cases {folder}: no such directory; run from the repository root or pass "
            "--cases DIR (a folder of conformance YAML files)",
            reason="no_conformance_cases",
        )
    files = sorted(folder.glob("*.yaml"))
    if not files:
        raise ConfigError(
            f"--cases {folder}: holds no *.yaml case files", reason="no_conformance_cases"
        )
    return [case for path in files for case in parse_cases(path.stem, path.read_text())]


def _print_verdicts(verdicts: list[Verdict]) -> None:
    from baton_cli.conform import summary

    style = {"agree": "green", "differ": "red", "skipped": "yellow"}
    for v in verdicts:
        mark = f"[{style[v.label]}]{v.label:<7}[/{style[v.label]}]"
        line = f"{mark}  {escape(v.case.name)}"
        if v.label == "skipped":
            line += f"  ({escape(v.note)})"
        elif v.label == "agree" and v.case.question and v.remote is not None:
            line += f"  -> {escape(v.remote.show(100))}"
        console.print(line)
        if v.label == "differ" and v.local is not None and v.remote is not None:
            console.print(f"           local engine:     {escape(v.local.show(120))}")
            console.print(f"           Cloud Workflows:  {escape(v.remote.show(120))}")
            console.print(f"           {escape(v.note)}")
        if v.label == "differ" and v.case.question:
            console.print(f"           asks: {escape(v.case.question)}")
    counts = summary(verdicts)
    console.print(
        f"{counts['agree']} agree, {counts['differ']} differ, {counts['skipped']} skipped "
        f"of {len(verdicts)} cases"
    )


@app.command("conform")
def conform_cmd(
    target: TargetOpt = None,
    project: ProjectOpt = None,
    region: RegionOpt = None,
    cases: Annotated[
        Path,
        typer.Option("--cases", help="folder of conformance case files (*.yaml)", file_okay=False),
    ] = DEFAULT_CASES,
    match: Annotated[
        str | None, typer.Option("--match", help="only cases whose name contains this")
    ] = None,
    service_account: Annotated[
        str | None,
        typer.Option(
            "--service-account",
            help="identity of the temporary workflows (jobs.run probes need run.jobs.run)",
        ),
    ] = None,
    no_probes: Annotated[
        bool, typer.Option("--no-probes", help="leave out the probes of undocumented behaviour")
    ] = False,
) -> None:
    """Compare the local engine with Cloud Workflows on every conformance case and probe.

    Each case is deployed as a temporary workflow (`baton-conform-<run>-<n>`), executed, and deleted; its result or error is compared with the local engine's. Exit 0 when all agree, 1 when any differs.

    Example:

      baton workflow conform --target gcp --project my-project --region europe-west1
    """
    from baton_cli.conform import PROBES, select, summary

    with exit_codes():
        _, config = load_config(target, project, region)
        if config.target != "gcp":
            raise ConfigError(
                "conform compares the local engine with the service: pass --target gcp "
                "(with BATON_RUN_ENDPOINT/BATON_WORKFLOWS_ENDPOINT to use `baton serve`)",
                reason="conform_needs_gcp",
            )
        chosen = select([*_load_cases(cases), *([] if no_probes else PROBES)], match)
        verdicts = _conform(config, chosen, service_account)
    _print_verdicts(verdicts)
    if summary(verdicts)["differ"]:
        raise typer.Exit(int(OperatorExit.EXECUTION_FAILED))


def _conform(config: OpsConfig, chosen: list[Case], service_account: str | None) -> list[Verdict]:
    from baton_cli.conform import compare, skipped
    from baton_cli.conform_service import LocalSide, ServiceSide
    from baton_twin.local_engine import local_engine

    settings = load_settings(environ=os.environ)
    connectors = local_engine(settings, os.environ).connectors
    local = LocalSide(connectors, project=config.project, location=config.region)
    service = ServiceSide(
        config, prefix=f"baton-conform-{uuid.uuid4().hex[:6]}", service_account=service_account
    )
    verdicts = []
    try:
        for index, case in enumerate(chosen):
            if case.skip:
                verdicts.append(skipped(case))
                continue
            mine = local.run(case, service.workflow_id(index))
            verdicts.append(compare(case, mine, service.run(case, index)))
    finally:
        local.close()
        service.close()
    return verdicts
