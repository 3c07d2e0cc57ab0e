"""The operator verbs that start work: `baton run`, `backfill` and `rerun`, against the local
twin (`--target local`, the default) or a GCP deployment (`--target gcp`); `register` mounts
every operator verb on the `baton` app.

CLI layer only: flags become typed config, errors become exit codes (0 ok, 1 an execution or
job failed, 2 usage, 3 configuration, 5 permission, 75 API unavailable); the work is done by
`target`, `follow`, `planner` and `rerun`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from typing import Annotated, Any, cast

import typer
from rich.markup import escape
from rich.table import Table

from baton import datasets
from baton.config import Settings
from baton.errors import BatonError, ExitCode
from baton.jobs import load_jobs
from baton.lake import STEPS
from baton.stepcli import date_option
from baton.storage import open_storage
from baton_workflows.executions_cli import executions_app
from baton_workflows.planner import (
    Mode,
    Plan,
    Request,
    WorkflowModel,
    days_between,
    plan_backfill,
)
from baton_workflows.rerun import execution_reruns, step_rerun
from baton_workflows.serve_cli import serve_cmd
from baton_workflows.status import PartitionStatus, known_days, recorded_durations, status_grid
from baton_workflows.status_cli import print_status, status_cmd
from baton_workflows.target import ExecutionInfo, OpsConfig, Target, open_target
from baton_workflows.twin import pipeline_limits
from baton_workflows.verbs import (
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
    format_duration,
    load_config,
    watch_storage,
)

LOCAL_JOB_START_S = 1.0  # a local task: process start and imports, before the step's own time


# -- run


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
) -> None:
    """Start an execution of the pipeline and follow it partition by partition.

    Exits 0 only if every partition succeeded (1 if any failed).

    Examples:

      baton run --date 2013-01-15

      baton run --start 2013-03-01 --end 2013-03-07 --concurrency 4

      baton run --date 2013-01-15 --target gcp --project my-proj --region europe-west1
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
        name = check_dataset(dataset)
        argument: dict[str, Any] = (
            {"date": dates[0].isoformat()}
            if len(dates) == 1
            else {"start": dates[0].isoformat(), "end": dates[-1].isoformat()}
        )
        argument |= {"dataset": name, "concurrency": concurrency, "mode": mode}
        if force:
            argument["force"] = True
        with open_target(config, settings, os.environ, parallelism=concurrency) as tgt:
            info = tgt.start(argument)
            if detach:
                console.print(f"started execution {info.id} ({info.where})")
                return
            final = follow_execution(tgt, info, argument, name, watch_storage(settings, config))
    if final.state != "SUCCEEDED":
        console.print(f"to rerun what failed: baton rerun --execution {final.id}")
        raise typer.Exit(int(ExitCode.BUG))


# -- backfill


def _durations(
    settings: Settings,
    config: OpsConfig,
    name: str,
    dates: Sequence[date],
    grid: Sequence[PartitionStatus] | None = None,
) -> tuple[dict[str, float], str]:
    """Typical step run times from the lake's manifests, and where they came from; `grid` is
    the status of `dates` when the caller has read it already."""
    if not dates:
        return {}, "no partitions to plan"
    root = settings.lake_root
    if root.startswith("gs://") and config.target == "gcp":
        return {}, "defaults (a gs:// lake is not read to plan)"
    try:
        storage = open_storage(root)
    except BatonError:
        return {}, "defaults (no local lake)"
    dataset = datasets.get(name)
    found = recorded_durations(status_grid(storage, dataset, dates) if grid is None else grid)
    if not found:
        recent = known_days(storage, name, landed=False)[-60:]
        found = recorded_durations(status_grid(storage, dataset, recent))
    where = "the local lake" if not root.startswith("gs://") else "the lake"
    return found, f"median of manifests recorded in {where} {storage.root}"


def _plan_table(plan: Plan) -> Table:
    table = Table(
        "#",
        "partitions",
        "mode",
        "concurrency",
        "job executions",
        "tasks",
        "billable steps",
        "est. wall",
        "est. cost",
        title="backfill plan",
    )
    for i, ex in enumerate(plan.executions, 1):
        first, last = ex.dates[0], ex.dates[-1]
        span = first.isoformat() if first == last else f"{first}..{last}"
        table.add_row(
            str(i),
            f"{len(ex.dates)} ({span})",
            ex.mode,
            str(ex.concurrency),
            str(ex.job_executions),
            str(ex.tasks),
            f"{ex.billable_steps:,}",
            format_duration(ex.wall_s),
            f"${ex.cost_usd:.4f}",
        )
    totals = plan.totals
    table.add_row(
        "total",
        str(int(totals["partitions"])),
        "",
        "",
        str(int(totals["job_executions"])),
        str(int(totals["tasks"])),
        f"{int(totals['billable_steps']):,}",
        format_duration(totals["wall_s"]),
        f"${totals['cost_usd']:.4f}",
    )
    return table


def _only_missing(settings: Settings, name: str, dates: list[date]) -> list[PartitionStatus]:
    """The status of the partitions of `dates` that are not current."""
    storage = open_storage(settings.lake_root)
    todo = [row for row in status_grid(storage, datasets.get(name), dates) if not row.current]
    console.print(
        f"--only-missing: {len(dates) - len(todo)} of {len(dates)} partitions are loaded with "
        f"unchanged inputs; planning the other {len(todo)}"
    )
    return todo


def backfill_cmd(
    start: Annotated[
        date, typer.Option(parser=date_option, metavar="YYYY-MM-DD", help="first date")
    ],
    end: Annotated[
        date, typer.Option(parser=date_option, metavar="YYYY-MM-DD", help="last date (inclusive)")
    ],
    concurrency: ConcurrencyOpt = 10,
    mode: ModeOpt = "auto",
    only_missing: Annotated[
        bool, typer.Option(help="skip partitions already loaded with unchanged inputs")
    ] = False,
    recent_first: Annotated[bool, typer.Option(help="newest partitions first")] = False,
    dry_run: Annotated[
        bool, typer.Option(help="print the plan (and its assumptions) without running it")
    ] = False,
    force: Annotated[bool, typer.Option(help="rerun steps whose inputs did not change")] = False,
    dataset: DatasetOpt = None,
    target: TargetOpt = None,
    project: ProjectOpt = None,
    region: RegionOpt = None,
    workflow: WorkflowOpt = None,
) -> None:
    """Plan a backfill within the platform's limits, print the plan, run it.

    The plan's executions run one after another, each followed live. The planner picks per-partition or batched fan-out (--mode auto), chunks long ranges into several executions and estimates billable Workflows steps, cost and wall time from the step durations recorded in the lake's manifests. --dry-run --target gcp works offline.

    Examples:

      baton backfill --start 2013-02-01 --end 2013-02-28 --concurrency 4

      baton backfill --start 2013-01-01 --end 2013-12-31 --only-missing --recent-first

      baton backfill --start 2013-01-01 --end 2013-12-31 --dry-run --target gcp
    """
    if end < start:
        raise typer.BadParameter(f"--end {end} is before --start {start}")
    chosen_mode = check_mode(mode, allow_auto=True)
    with exit_codes():
        settings, config = load_config(target, project, region, workflow)
        name = check_dataset(dataset)
        dates, todo = days_between(start, end), None
        if only_missing:
            todo = _only_missing(settings, name, dates)
            dates = [row.day for row in todo]
        durations, source = _durations(settings, config, name, dates, todo)
        limits, model = pipeline_limits(), WorkflowModel()
        if config.target == "local":
            # Locally a batched job runs `concurrency` tasks at once, each a local process.
            limits = replace(limits, task_parallelism=concurrency)
            model = replace(
                model,
                job_start_s=LOCAL_JOB_START_S,
                billed_start_s=LOCAL_JOB_START_S,
                job_start_note="a local process: interpreter start and imports",
            )
        request = Request(
            dates, concurrency, cast(Mode, chosen_mode), STEPS, force, recent_first, name
        )
        try:
            plan = plan_backfill(
                request, load_jobs(), durations, limits, model, durations_source=source
            )
        except ValueError as err:
            raise typer.BadParameter(str(err)) from err
        _print_plan(plan, config)
        if dry_run or not plan.executions:
            return
        _run_plan(plan, settings, config, name, concurrency)


def _print_plan(plan: Plan, config: OpsConfig) -> None:
    if not plan.executions:
        console.print("nothing to do: " + "; ".join(plan.assumptions))
        return
    console.print(_plan_table(plan))
    console.print(f"target: {config.target}; assumptions:")
    if config.target == "local":
        console.print("  - local target: the costs are what GCP would bill for the same plan")
    for line in plan.assumptions:
        console.print(f"  - {line}", markup=False)


def _run_plan(
    plan: Plan, settings: Settings, config: OpsConfig, name: str, concurrency: int
) -> None:
    storage = watch_storage(settings, config)
    failed: list[ExecutionInfo] = []
    with open_target(config, settings, os.environ, parallelism=concurrency) as tgt:
        for i, planned in enumerate(plan.executions, 1):
            console.print(
                f"execution {i} of {len(plan.executions)}: {len(planned.dates)} partitions"
            )
            info = tgt.start(planned.argument)
            final = follow_execution(tgt, info, planned.argument, name, storage)
            if final.state != "SUCCEEDED":
                failed.append(final)
    if failed:
        for info in failed:
            dates = (info.summary or {}).get("failed") or []
            console.print(
                f"execution {info.id} {info.state}: {len(dates)} partitions failed; "
                f"rerun them with: baton rerun --execution {info.id}"
            )
        raise typer.Exit(int(ExitCode.BUG))
    console.print(f"backfill done: {len(plan.executions)} execution(s) succeeded")


# -- rerun


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
                ok = _rerun_execution(tgt, execution, settings, config)
            else:
                assert day is not None and step is not None
                ok = _rerun_step(
                    tgt, day, step, check_dataset(dataset), downstream, settings, config
                )
    if not ok:
        raise typer.Exit(int(ExitCode.BUG))


def _rerun_step(
    tgt: Target,
    day: date,
    step: str,
    name: str,
    downstream: bool,
    settings: Settings,
    config: OpsConfig,
) -> bool:
    if downstream:
        argument = step_rerun(day, step, name, downstream=True)
        info = tgt.start(argument)
        final = follow_execution(tgt, info, argument, name, watch_storage(settings, config))
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


def _rerun_execution(tgt: Target, execution_id: str, settings: Settings, config: OpsConfig) -> bool:
    info = tgt.get(execution_id)
    if not info.finished:
        raise typer.BadParameter(
            f"execution {info.id} is still {info.state}; wait for it or cancel it first",
            param_hint="--execution",
        )
    summary = info.summary
    if summary is None:
        if info.state == "SUCCEEDED":
            console.print(f"nothing to rerun: execution {info.id} succeeded")
            return True
        raise typer.BadParameter(
            f"execution {info.id} {info.state} before it produced a summary "
            f"({info.error_message or 'no error recorded'}); fix the cause and start it again "
            "with baton run or baton backfill",
            param_hint="--execution",
        )
    reruns = execution_reruns(summary, info.argument if isinstance(info.argument, dict) else None)
    if not reruns:
        console.print(f"nothing to rerun: no partition failed in execution {info.id}")
        return True
    ok = True
    storage = watch_storage(settings, config)
    for argument in reruns:
        console.print(
            f"rerunning {', '.join(argument['steps'])} for {len(argument['dates'])} partition(s)"
        )
        started = tgt.start(argument)
        name = str(argument.get("dataset") or "flights")
        final = follow_execution(tgt, started, argument, name, storage)
        ok = ok and final.state == "SUCCEEDED"
    return ok


def register(app: typer.Typer) -> None:
    """Mount the operator verbs on the `baton` app."""
    app.command("run")(run_cmd)
    app.command("backfill")(backfill_cmd)
    app.command("rerun")(rerun_cmd)
    app.command("status")(status_cmd)
    app.add_typer(executions_app, name="executions")
    app.command("serve")(serve_cmd)
