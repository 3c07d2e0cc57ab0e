"""`baton report`: write one self-contained HTML report of an execution, and the hook `run`,
`backfill` and `rerun` call to print its path when they finish."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from baton.config import Settings
from baton.errors import BatonError, ExitCode
from baton_cli.options import (
    ProjectOpt,
    RegionOpt,
    TargetOpt,
    WorkflowOpt,
    console,
    escape,
    exit_codes,
    load_config,
)
from baton_cli.report.writer import newest_execution, write_gcp_report, write_report
from baton_cli.targets import OpsConfig, open_target

NoReportOpt = Annotated[
    bool, typer.Option("--no-report", help="do not write the execution's HTML report")
]


def report_cmd(
    execution_id: Annotated[
        str | None,
        typer.Argument(metavar="EXECUTION_ID", help="the execution [default: the newest]"),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="the file to write [default: $BATON_HOME/executions/ID/report.html]",
            dir_okay=False,
        ),
    ] = None,
    target: TargetOpt = None,
    project: ProjectOpt = None,
    region: RegionOpt = None,
    workflow: WorkflowOpt = None,
) -> None:
    """Write one self-contained HTML report of an execution and print its path.

    The report shows the execution's header, a timeline of every step attempt, the partitions x steps grid with each failure's reason and rerun command, the row flow per date with quarantined rows by rule, and step durations. It loads nothing from the network. --target gcp reads the execution through the Workflow Executions API and the lake at BATON_LAKE (gs://...), and links objects and logs to the Cloud Console.

    Examples:

      baton report 3f1c9a2e-...

      baton report 3f1c9a2e-... --out /tmp/run.html

      baton report   (the newest execution)

      BATON_LAKE=gs://acme-lake baton report 3f1c9a2e-... --target gcp --project acme-data --region europe-west1
    """
    with exit_codes():
        settings, config = load_config(target, project, region, workflow)
        try:
            path = _write(settings, config, execution_id, out)
        except OSError as err:
            where = out or "the report's folder"
            console.print(
                f"[red]error[/red]: cannot write the report to {escape(str(where))}: "
                f"{escape(err.strerror or str(err))}; pick another --out"
            )
            raise typer.Exit(int(ExitCode.CONFIG)) from err
    console.print(f"report: {path}")


def _write(
    settings: Settings, config: OpsConfig, execution_id: str | None, out: Path | None
) -> Path:
    if config.target == "local":
        return write_report(settings, execution_id or newest_execution(settings), out)
    with open_target(config, settings, os.environ) as target:
        if execution_id is None:
            newest = target.list(1)
            if not newest:
                raise LookupError(
                    f"no executions of {config.workflow_parent}; start one with baton run --target gcp"
                )
            execution_id = newest[0].id
        return write_gcp_report(settings, target, config.project, execution_id, out)


def print_report(
    settings: Settings, execution_id: str, target: str | OpsConfig, *, skip: bool
) -> None:
    """Write an execution's report and print its path; never fails the command that ran it.
    `target` is the target's configuration (or just its kind, "local")."""
    if skip:
        return
    config = target if isinstance(target, OpsConfig) else OpsConfig(target="local")
    if isinstance(target, str) and target != "local":
        console.print("report: not written (run `baton report ID --target gcp`)")
        return
    try:
        path = _write(settings, config, execution_id, None)
    except (BatonError, LookupError, OSError) as err:
        console.print(f"[yellow]note[/yellow]: no report written: {escape(str(err))}")
        return
    console.print(f"report: {path}")
