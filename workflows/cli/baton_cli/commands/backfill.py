"""`baton backfill`: plan a date range as executions within the platform's limits (mode, batch
size, tasks per job execution, executions at once, estimated steps, time and cost), print the
plan (a table, or JSON with --json), then run them several at once and follow all of them."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
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
from baton_cli.follow import Interrupted, PlanFollower, follow_plan
from baton_cli.options import (
    POLL_S,
    ConcurrencyOpt,
    DatasetOpt,
    JsonOpt,
    ModeOpt,
    ProjectOpt,
    RegionOpt,
    TargetOpt,
    WorkflowOpt,
    check_dataset,
    check_mode,
    console,
    exit_codes,
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
from baton_cli.progress import ProgressView
from baton_cli.status import PartitionStatus, known_days, recorded_durations, status_grid
from baton_cli.targets import OpsConfig, open_target

LOCAL_JOB_START_S = 0.2  # a local job execution: the runner's own bookkeeping
LOCAL_TASK_START_S = 1.0  # a local task: process start and imports, before its first date


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
        "tasks/job",
        "tasks",
        "billable steps",
        "starts at",
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
            f"{ex.tasks_per_job} x {ex.dates_per_task} dates",
            str(ex.tasks),
            f"{ex.billable_steps:,}",
            format_duration(ex.start_s),
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
        "",
        str(int(totals["tasks"])),
        f"{int(totals['billable_steps']):,}",
        f"{plan.parallel_executions} at once",
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
    parallel_executions: Annotated[
        int | None,
        typer.Option(
            "--parallel-executions",
            min=1,
            metavar="N",
            help="executions running at once (default: as many as the platform limits allow)",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option(help="print the plan (and its assumptions) without running it")
    ] = False,
    force: Annotated[bool, typer.Option(help="rerun steps whose inputs did not change")] = False,
    dataset: DatasetOpt = None,
    target: TargetOpt = None,
    project: ProjectOpt = None,
    region: RegionOpt = None,
    workflow: WorkflowOpt = None,
    as_json: JsonOpt = False,
    no_report: NoReportOpt = False,
) -> None:
    """Plan a backfill within the platform's limits, print the plan, run it.

    The planner picks per-partition or batched fan-out (--mode auto), chunks long ranges into several executions, sizes each batched job execution's tasks from the step durations recorded in the lake's manifests and the per-task start-up, and runs up to --parallel-executions executions at once, all followed in one progress view. It estimates billable Workflows steps, cost and wall time; --dry-run --target gcp works offline, --json prints the plan (with its assumptions and the limits it respects) as JSON.

    Examples:

      baton backfill --start 2013-02-01 --end 2013-02-28 --concurrency 4

      baton backfill --start 2013-01-01 --end 2013-12-31 --only-missing --recent-first

      baton backfill --start 2013-01-01 --end 2013-12-31 --dry-run --target gcp --json
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
            # Locally the tasks of every execution share this machine: more task processes
            # than cores add start-ups and memory, not throughput.
            limits = replace(limits, task_parallelism=max(1, min(concurrency, os.cpu_count() or 1)))
            model = replace(
                model,
                job_start_s=LOCAL_JOB_START_S,
                billed_start_s=LOCAL_TASK_START_S,
                job_start_note="the local job runner",
            )
        request = Request(
            dates,
            concurrency,
            cast(Mode, chosen_mode),
            STEPS,
            force,
            recent_first,
            name,
            parallel_executions,
        )
        try:
            plan = plan_backfill(
                request, load_jobs(), durations, limits, model, durations_source=source
            )
        except ValueError as err:
            raise typer.BadParameter(str(err)) from err
        if as_json:
            typer.echo(json.dumps({"target": config.target, **plan.to_json()}, indent=2))
        else:
            _print_plan(plan, config)
        if dry_run or not plan.executions:
            return
        _run_plan(plan, settings, config, name, concurrency, no_report)


def _print_plan(plan: BackfillPlan, config: OpsConfig) -> None:
    if not plan.executions:
        console.print("nothing to do: " + "; ".join(str(a) for a in plan.assumptions))
        return
    console.print(_plan_table(plan))
    console.print(f"target: {config.target}; assumptions:")
    if config.target == "local":
        console.print("  - local target: the costs are what GCP would bill for the same plan")
    for line in plan.assumptions:
        console.print(f"  - {line}", markup=False)
    console.print("limits respected (most the plan uses of each):")
    for check in plan.limits:
        console.print(f"  - {check}", markup=False)


@contextmanager
def _sigint_ignored() -> Iterator[None]:
    """While the backfill cancels, a second Ctrl-C would leave some executions running: hold
    it off (each cancel is bounded: the local target waits at most 10 s, the API its timeout)."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _span(dates: Sequence[date]) -> str:
    if not dates:
        return "no dates"
    first, last = min(dates), max(dates)
    return first.isoformat() if first == last else f"{first}..{last} ({len(dates)} dates)"


def _interrupt(follower: PlanFollower) -> Interrupted:
    """One Ctrl-C: cancel every running execution of the backfill, start none of the waiting
    ones, and say what was stopped."""
    running = len(follower.running)
    console.print(
        f"interrupted: cancelling the {running} running execution(s) of the backfill; "
        "starting no more ..."
        if running
        else "interrupted: starting no more executions"
    )
    with _sigint_ignored():
        stopped = follower.interrupt()
    for info, dates, problem in stopped.cancelled:
        if problem:
            console.print(
                f"[red]could not cancel[/red] execution {info.id} ({_span(dates)}): {problem}"
            )
        elif info.state == "CANCELLED":
            console.print(f"cancelled execution {info.id} ({_span(dates)})")
        else:
            console.print(
                f"execution {info.id} ({_span(dates)}) is {info.state} (it had ended or is still stopping)"
            )
    if stopped.not_started:
        every = [d for dates in stopped.not_started for d in dates]
        console.print(
            f"{len(stopped.not_started)} waiting execution(s) not started: {_span(every)}"
        )
    return stopped


def _resume_hint(plan: BackfillPlan, name: str) -> None:
    every = [d for ex in plan.executions for d in ex.dates]
    extra = "" if name == datasets.DEFAULT_DATASET else f" --dataset {name}"
    console.print(
        f"resume with: baton backfill --start {min(every)} --end {max(every)} --only-missing{extra}"
    )


def _run_plan(
    plan: BackfillPlan,
    settings: Settings,
    config: OpsConfig,
    name: str,
    concurrency: int,
    no_report: bool = False,
) -> None:
    storage = watch_storage(settings, config)
    with open_target(config, settings, os.environ, parallelism=concurrency) as tgt:
        follower = PlanFollower(
            tgt,
            [ex.argument for ex in plan.executions],
            name,
            storage,
            parallel=plan.parallel_executions,
        )
        console.print(
            f"running {len(plan.executions)} execution(s), up to {plan.parallel_executions} at once"
        )
        view = ProgressView(console, follower.tracked)
        try:
            finals = follow_plan(
                follower,
                view,
                poll_s=POLL_S[tgt.kind],
                on_start=lambda info: console.print(f"started execution {info.id} ({info.where})"),
            )
        except KeyboardInterrupt:
            stopped = _interrupt(follower)
            for info in [*follower.results(), *(c[0] for c in stopped.cancelled)]:
                print_report(settings, info.id, config, skip=no_report)
            _resume_hint(plan, name)
            raise typer.Exit(int(OperatorExit.EXECUTION_FAILED)) from None
    for info in finals:
        print_report(settings, info.id, config, skip=no_report)
    failed = [info for info in finals if info.state != "SUCCEEDED"]
    if failed:
        for info in failed:
            dates = (info.summary or {}).get("failed") or []
            console.print(
                f"execution {info.id} {info.state}: {len(dates)} partitions failed; "
                f"rerun them with: baton rerun --execution {info.id}"
            )
        raise typer.Exit(int(OperatorExit.EXECUTION_FAILED))
    console.print(f"backfill done: {len(plan.executions)} execution(s) succeeded")
