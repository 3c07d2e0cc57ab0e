"""`baton run`: start one execution of the pipeline for a date or a short range and follow it
partition by partition (local twin or GCP). Exit 0 only if every partition succeeded."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import replace
from datetime import date
from typing import Annotated, Literal

import typer

from baton.config import Settings
from baton.dates import date_option
from baton_cli.argument import PipelineArgument
from baton_cli.commands.report import NoReportOpt, print_report
from baton_cli.dag import pipeline_limits
from baton_cli.exit_codes import OperatorExit
from baton_cli.options import (
    ConcurrencyOpt,
    DatasetOpt,
    ModeOpt,
    ProjectOpt,
    RegionOpt,
    TargetOpt,
    WorkflowOpt,
    check_dataset,
    check_mode,
    console,
    date_range,
    exit_codes,
    follow_execution,
    load_config,
    watch_storage,
)
from baton_cli.targets import open_target

IamOpt = Annotated[
    Literal["off", "enforce"] | None,
    typer.Option(
        "--iam",
        help="local twin: enforce the deployed IAM policy (BATON_TWIN_POLICY) on every call; "
        "default BATON_TWIN_IAM, else off",
    ),
]


def with_iam(
    iam: str | None, settings: Settings, environ: Mapping[str, str]
) -> tuple[Settings, dict[str, str]]:
    """Settings and environment with `--iam` applied (unchanged when it is not given)."""
    if iam is None:
        return settings, dict(environ)
    return replace(settings, twin_iam=iam), {**environ, "BATON_TWIN_IAM": iam}


def run_cmd(
    day: Annotated[
        date | None,
        typer.Option("--date", parser=date_option, metavar="YYYY-MM-DD", help="one date"),
    ] = None,
    start: Annotated[
        date | None, typer.Option(parser=date_option, metavar="YYYY-MM-DD", help="first date")
    ] = None,
    end: Annotated[
        date | None,
        typer.Option(parser=date_option, metavar="YYYY-MM-DD", help="last date (inclusive)"),
    ] = None,
    dataset: DatasetOpt = None,
    concurrency: ConcurrencyOpt = 10,
    mode: ModeOpt = "per_partition",
    force: Annotated[bool, typer.Option(help="rerun steps whose inputs did not change")] = False,
    detach: Annotated[bool, typer.Option(help="start the execution and return at once")] = False,
    target: TargetOpt = None,
    project: ProjectOpt = None,
    region: RegionOpt = None,
    workflow: WorkflowOpt = None,
    no_report: NoReportOpt = False,
    iam: IamOpt = None,
) -> None:
    """Start an execution of the pipeline and follow it partition by partition.

    Exits 0 only if every partition succeeded (1 if any failed).

    Examples:

      baton run --date 2013-01-15

      baton run --start 2013-03-01 --end 2013-03-07 --concurrency 4

      baton run --date 2013-01-15 --target gcp --project my-proj --region europe-west1

      BATON_TWIN_POLICY=policy.json baton run --date 2013-01-15 --iam enforce
    """
    dates = date_range(day, start, end)
    check_mode(mode, allow_auto=False)
    most = pipeline_limits().dates_per_execution
    if most is not None and len(dates) > most:
        raise typer.BadParameter(
            f"{len(dates)} dates are more than one execution takes ({most}); "
            "use baton backfill, which splits them"
        )
    with exit_codes():
        settings, config = load_config(target, project, region, workflow)
        if iam is not None and config.target == "gcp":
            raise typer.BadParameter(
                "--iam is the local twin's; on GCP the deployed IAM policy applies (serve the "
                "twin with `baton serve --iam enforce` to enforce it behind --target gcp)"
            )
        settings, environ = with_iam(iam, settings, os.environ)
        name = check_dataset(dataset)
        argument = PipelineArgument(
            tuple(dates), force=force, mode=mode, concurrency=concurrency, dataset=name
        ).to_json()
        with open_target(config, settings, environ, parallelism=concurrency) as tgt:
            info = tgt.start(argument)
            if detach:
                console.print(f"started execution {info.id} ({info.where})")
                return
            final = follow_execution(tgt, info, argument, name, watch_storage(settings, config))
        print_report(settings, final.id, config, skip=no_report)
    if final.state != "SUCCEEDED":
        console.print(f"to rerun what failed: baton rerun --execution {final.id}")
        raise typer.Exit(int(OperatorExit.EXECUTION_FAILED))
