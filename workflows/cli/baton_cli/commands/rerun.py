"""`baton rerun`: force one step (and optionally those after it) for one partition, or rerun
exactly what failed in an earlier execution."""

from __future__ import annotations

import os
from datetime import date
from typing import Annotated

import typer

from baton import datasets
from baton.config import Settings
from baton.dates import date_option
from baton.lake import STEPS
from baton.storage import open_storage
from baton_cli.argument import PipelineArgument
from baton_cli.commands.report import NoReportOpt, print_report
from baton_cli.commands.status import print_status
from baton_cli.exit_codes import OperatorExit
from baton_cli.options import (
    DatasetOpt,
    ProjectOpt,
    RegionOpt,
    TargetOpt,
    WorkflowOpt,
    check_dataset,
    console,
    escape,
    exit_codes,
    follow_execution,
    load_config,
    watch_storage,
)
from baton_cli.reruns import execution_reruns, step_rerun
from baton_cli.targets import OpsConfig, Target, open_target
from baton_engine.runtime.records import ABANDONED


def rerun_cmd(
    day: Annotated[
        date | None,
        typer.Option("--date", parser=date_option, metavar="YYYY-MM-DD", help="the partition"),
    ] = None,
    step: Annotated[
        str | None, typer.Option("--step", help=f"the step: {', '.join(STEPS)}")
    ] = None,
    downstream: Annotated[bool, typer.Option(help="also rerun every step after --step")] = False,
    execution: Annotated[
        str | None, typer.Option("--execution", help="rerun exactly what failed in this execution")
    ] = None,
    dataset: DatasetOpt = None,
    target: TargetOpt = None,
    project: ProjectOpt = None,
    region: RegionOpt = None,
    workflow: WorkflowOpt = None,
    no_report: NoReportOpt = False,
) -> None:
    """Rerun one step of a partition, it and the steps after it, or what failed.

    --date/--step reruns that step (forced) from the committed upstream outputs; with --downstream, it and the steps after it; --execution ID reruns exactly what failed there. A single step runs as one job execution (Cloud Run jobs.run with overrides on GCP); with --downstream or --execution, a workflow execution runs and is followed.

    Examples:

      baton rerun --date 2013-02-14 --step transform --downstream

      baton rerun --date 2013-02-14 --step load

      baton rerun --execution 3f1c9a2e-...
    """
    if execution is not None and (day is not None or step is not None):
        raise typer.BadParameter("give --execution, or --date with --step, not both")
    if execution is None and (day is None or step is None):
        raise typer.BadParameter("give --date and --step (or --execution ID)")
    if step is not None and step not in STEPS:
        raise typer.BadParameter(f"unknown step {step!r}; steps are {', '.join(STEPS)}")
    with exit_codes():
        settings, config = load_config(target, project, region, workflow)
        with open_target(config, settings, os.environ) as tgt:
            if execution is not None:
                ok = _rerun_execution(tgt, execution, settings, config, no_report)
            else:
                assert day is not None and step is not None
                ok = _rerun_step(
                    tgt, day, step, check_dataset(dataset), downstream, settings, config, no_report
                )
    if not ok:
        raise typer.Exit(int(OperatorExit.EXECUTION_FAILED))


def _rerun_step(
    tgt: Target,
    day: date,
    step: str,
    name: str,
    downstream: bool,
    settings: Settings,
    config: OpsConfig,
    no_report: bool = False,
) -> bool:
    if downstream:
        argument = step_rerun(day, step, name, downstream=True)
        info = tgt.start(argument)
        final = follow_execution(tgt, info, argument, name, watch_storage(settings, config))
        print_report(settings, final.id, config, skip=no_report)
        return final.state == "SUCCEEDED"
    console.print(f"running {step} for {day} ({name}), forced, as one job execution ...")
    run = tgt.run_job(step, day, name, force=True)
    colour = "green" if run.succeeded else "red"
    console.print(
        f"[{colour}]{'succeeded' if run.succeeded else 'failed'}[/{colour}]: {run.name or run.job}"
        f" ({escape(run.message)}); logs: {escape(run.log_uri or '-')}"
    )
    print_status(open_storage(settings.lake_root), name, [day])
    return run.succeeded


def _rerun_execution(
    tgt: Target, execution_id: str, settings: Settings, config: OpsConfig, no_report: bool = False
) -> bool:
    info = tgt.get(execution_id)
    if not info.finished:
        raise typer.BadParameter(
            f"execution {info.id} is still {info.state}; wait for it or cancel it first",
            param_hint="--execution",
        )
    summary = info.summary
    abandoned = isinstance(info.error, dict) and ABANDONED in (info.error.get("tags") or [])
    if summary is None and abandoned and isinstance(info.argument, dict):
        # Its orchestrator died mid-run, so no summary says what failed: run its argument
        # again whole; every partition it committed skips as unchanged.
        console.print(f"execution {info.id} was abandoned: {escape(info.error_message)}")
        reruns = [info.argument]
    elif summary is None:
        if info.state == "SUCCEEDED":
            console.print(f"nothing to rerun: execution {info.id} succeeded")
            return True
        raise typer.BadParameter(
            f"execution {info.id} {info.state} before it produced a summary "
            f"({info.error_message or 'no error recorded'}); fix the cause and start it again "
            "with baton run or baton backfill",
            param_hint="--execution",
        )
    else:
        reruns = execution_reruns(
            summary, info.argument if isinstance(info.argument, dict) else None
        )
    if not reruns:
        console.print(f"nothing to rerun: no partition failed in execution {info.id}")
        return True
    ok = True
    storage = watch_storage(settings, config)
    for argument in reruns:
        asked = PipelineArgument.from_json(argument)
        console.print(
            f"rerunning {', '.join(asked.ordered_steps)} for {len(asked.dates)} partition(s)"
        )
        started = tgt.start(argument)
        name = asked.dataset or datasets.DEFAULT_DATASET
        final = follow_execution(tgt, started, argument, name, storage)
        print_report(settings, final.id, config, skip=no_report)
        ok = ok and final.state == "SUCCEEDED"
    return ok
