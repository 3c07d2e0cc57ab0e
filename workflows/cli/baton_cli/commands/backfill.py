"""`baton backfill`: plan a date range as executions within the platform's limits (mode, batch
size, estimated steps, time and cost), print the plan, then run and follow it."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from typing import Annotated, cast

import typer
from rich.table import Table

from baton import datasets
from baton.config import Settings
from baton.dates import date_option, days_between
from baton.errors import BatonError
from baton.jobs import load_jobs
from baton.lake import STEPS
from baton.storage import open_storage
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
    exit_codes,
    follow_execution,
    format_duration,
    load_config,
    watch_storage,
)
from baton_cli.planner import (
    BackfillPlan,
    Mode,
    Request,
    WorkflowModel,
    plan_backfill,
)
from baton_cli.status import PartitionStatus, known_days, recorded_durations, status_grid
from baton_cli.targets import ExecutionInfo, OpsConfig, open_target

LOCAL_JOB_START_S = 1.0  # a local task: process start and imports, before the step's own time


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


def _plan_table(plan: BackfillPlan) -> Table:
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
    no_report: NoReportOpt = False,
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
        _run_plan(plan, settings, config, name, concurrency, no_report)


def _print_plan(plan: BackfillPlan, config: OpsConfig) -> None:
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
    plan: BackfillPlan,
    settings: Settings,
    config: OpsConfig,
    name: str,
    concurrency: int,
    no_report: bool = False,
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
            print_report(settings, final.id, config.target, skip=no_report)
            if final.state != "SUCCEEDED":
                failed.append(final)
    if failed:
        for info in failed:
            dates = (info.summary or {}).get("failed") or []
            console.print(
                f"execution {info.id} {info.state}: {len(dates)} partitions failed; "
                f"rerun them with: baton rerun --execution {info.id}"
            )
        raise typer.Exit(int(OperatorExit.EXECUTION_FAILED))
    console.print(f"backfill done: {len(plan.executions)} execution(s) succeeded")
