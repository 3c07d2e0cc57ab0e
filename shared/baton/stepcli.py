"""The command line every step container shares: `python -m baton_<step> run --date ...`.

This is the only layer that reads the process environment and turns errors into exit codes.
"""

from __future__ import annotations

import os
from datetime import date
from typing import Annotated

import typer

from baton import datasets
from baton.dates import date_option
from baton.parquet import bound_read_ahead
from baton.step import Step
from baton.taskrun import execute

__all__ = ["build_app", "execute"]


def build_app(step: Step, summary: str) -> typer.Typer:
    """The Typer app of one step container."""
    app = typer.Typer(
        add_completion=False, no_args_is_help=True, help=summary, pretty_exceptions_enable=False
    )

    @app.callback()
    def _root() -> None:
        """baton step container."""

    @app.command("run")
    def run(
        day: Annotated[
            date | None,
            typer.Option(
                "--date",
                parser=date_option,
                metavar="YYYY-MM-DD",
                help="partition date; omit to take this task's share of BATON_DATES",
            ),
        ] = None,
        dataset: Annotated[
            str, typer.Option(envvar="BATON_DATASET", help="registered dataset name")
        ] = datasets.DEFAULT_DATASET,
        force: Annotated[
            bool,
            typer.Option("--force", help="run even if inputs are unchanged since the last commit"),
        ] = False,
        dry_run: Annotated[
            bool, typer.Option("--dry-run", help="plan and report, write nothing")
        ] = False,
        verbose: Annotated[bool, typer.Option("--verbose", "-v", help="debug logs")] = False,
    ) -> None:
        """Run the step for one partition (or this task's share of BATON_DATES)."""
        bound_read_ahead(os.environ)  # process-wide polars knobs; an operator's values win
        code = execute(
            step, day, dataset, force=force, dry_run=dry_run, verbose=verbose, environ=os.environ
        )
        raise typer.Exit(int(code))

    return app
