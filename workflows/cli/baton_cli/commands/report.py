"""`baton report`: write one self-contained HTML report of an execution, and the hook `run`,
`backfill` and `rerun` call to print its path when they finish."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from baton.config import Settings
from baton.errors import BatonError, ExitCode
from baton_cli.options import TargetOpt, console, exit_codes, load_config
from baton_cli.report.writer import newest_execution, write_report

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
) -> None:
    """Write one self-contained HTML report of an execution and print its path.

    The report shows the execution's header, a timeline of every step attempt, the partitions x steps grid with each failure's reason and rerun command, the row flow per date with quarantined rows by rule, and step durations. It loads nothing from the network. Only local execution records are read (--target local).

    Examples:

      baton report 3f1c9a2e-...

      baton report 3f1c9a2e-... --out /tmp/run.html

      baton report   (the newest local execution)
    """
    with exit_codes():
        settings, config = load_config(target)
        if config.target != "local":
            raise typer.BadParameter(
                "only local execution records can be reported so far; run it with "
                "--target local (GCP executions: see docs/operating.md)",
                param_hint="--target",
            )
        chosen = execution_id or newest_execution(settings)
        try:
            path = write_report(settings, chosen, out)
        except OSError as err:
            where = out or "the execution's record folder"
            console.print(
                f"[red]error[/red]: cannot write the report to {escape(str(where))}: "
                f"{escape(err.strerror or str(err))}; pick another --out"
            )
            raise typer.Exit(int(ExitCode.CONFIG)) from err
    console.print(f"report: {path}")


def print_report(settings: Settings, execution_id: str, target: str, *, skip: bool) -> None:
    """Write an execution's report and print its path; never fails the command that ran it."""
    if skip:
        return
    if target != "local":
        console.print(
            "report: not written (GCP executions are not reported yet; see docs/operating.md)"
        )
        return
    try:
        path = write_report(settings, execution_id)
    except (BatonError, LookupError, OSError) as err:
        console.print(f"[yellow]note[/yellow]: no report written: {escape(str(err))}")
        return
    console.print(f"report: {path}")
