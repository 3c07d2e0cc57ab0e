"""The operator verbs of `baton`: run, backfill, rerun, status, executions and serve, against
the local twin (`--target local`, the default) or a GCP deployment (`--target gcp`).

CLI layer only: flags become typed config, errors become exit codes (0 ok, 1 an execution or
job failed, 2 usage, 3 configuration, 5 permission, 75 API unavailable); the work is done by
`target`, `follow`, `planner`, `rerun`, `status` and `server`.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import replace
from datetime import date, timedelta
from typing import Annotated, Any, cast

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from baton import datasets
from baton.config import Settings, load_settings
from baton.errors import BatonError, ExitCode
from baton.jobs import load_jobs
from baton.lake import STEPS, parse_date
from baton.storage import Storage, open_storage
from baton_workflows.follow import LakeWatch, follow, tracked_for
from baton_workflows.planner import Mode, Plan, Request, WorkflowModel, plan_backfill
from baton_workflows.progress import ProgressView
from baton_workflows.rerun import execution_reruns, step_rerun
from baton_workflows.server import ServeOptions, build_server
from baton_workflows.status import (
    PartitionStatus,
    State,
    known_days,
    recorded_durations,
    status_grid,
)
from baton_workflows.target import ExecutionInfo, OpsConfig, Target, load_ops_config, open_target
from baton_workflows.target.gcp import is_loopback
from baton_workflows.twin import pipeline_limits

console = Console(highlight=False, soft_wrap=True)
POLL_S = {"local": 0.5, "gcp": 2.0}
PLAIN_WIDTH = 160
LOCAL_JOB_START_S = 1.0  # a local task: process start and imports, before the step's own time


# -- options shared by the verbs


def _date(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return parse_date(value)
    except ValueError as err:
        raise typer.BadParameter(str(err)) from err


DateOpt = Annotated[date | None, typer.Option(parser=_date, metavar="YYYY-MM-DD")]
TargetOpt = Annotated[
    str | None,
    typer.Option("--target", help="local (default) or gcp  [env BATON_TARGET]", metavar="KIND"),
]
ProjectOpt = Annotated[
    str | None, typer.Option("--project", help="GCP project  [env BATON_GCP_PROJECT]")
]
RegionOpt = Annotated[
    str | None, typer.Option("--region", help="GCP region  [env BATON_GCP_REGION]")
]
WorkflowOpt = Annotated[
    str | None,
    typer.Option("--workflow", help="deployed workflow  [env BATON_WORKFLOW; baton-pipeline]"),
]
DatasetOpt = Annotated[
    str | None, typer.Option("--dataset", help="dataset  [env BATON_DATASET; flights]")
]
ConcurrencyOpt = Annotated[
    int, typer.Option("--concurrency", min=1, help="partitions in flight at once (max 20)")
]
ModeOpt = Annotated[
    str,
    typer.Option(
        "--mode", help="auto, per_partition (a job execution per date and step) or batched"
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="machine-readable JSON on stdout")]


@contextmanager
def _exit_codes() -> Iterator[None]:
    """baton's errors become their exit codes, with the message (which names the fix)."""
    if not console.is_terminal:
        # Logs and CI keep whole lines and tables rather than wrapping at 80 columns.
        console.width = max(console.width, PLAIN_WIDTH)
    try:
        yield
    except BatonError as err:
        console.print(f"[red]error[/red]: {escape(err.message)}")
        raise typer.Exit(int(err.exit_code)) from err
    except LookupError as err:
        console.print(f"[red]error[/red]: {escape(str(err.args[0] if err.args else err))}")
        raise typer.Exit(int(ExitCode.USAGE)) from err


def _config(
    target: str | None,
    project: str | None = None,
    region: str | None = None,
    workflow: str | None = None,
) -> tuple[Settings, OpsConfig]:
    settings = load_settings(environ=os.environ)
    config = load_ops_config(
        {"target": target, "gcp_project": project, "gcp_region": region, "workflow": workflow},
        os.environ,
    )
    return settings, config


def _dataset(name: str | None) -> str:
    chosen = name or os.environ.get("BATON_DATASET") or "flights"
    datasets.get(chosen)  # ConfigError listing the known ones
    return chosen


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def _range(day: date | None, start: date | None, end: date | None) -> list[date]:
    if day is not None:
        if start or end:
            raise typer.BadParameter("give --date or --start/--end, not both")
        return [day]
    if start is None or end is None:
        raise typer.BadParameter("give --date, or both --start and --end (inclusive)")
    if end < start:
        raise typer.BadParameter(f"--end {end} is before --start {start}")
    return _days(start, end)


def _mode(value: str, allow_auto: bool) -> str:
    allowed = ("auto", "per_partition", "batched") if allow_auto else ("per_partition", "batched")
    if value not in allowed:
        raise typer.BadParameter(f"--mode must be one of {', '.join(allowed)}, not {value!r}")
    return value


def _watch_storage(settings: Settings, config: OpsConfig) -> Storage | None:
    """The lake the progress view reads attempt records from (None: state only)."""
    root = settings.lake_root
    if (
        config.target == "gcp"
        and not root.startswith("gs://")
        and not is_loopback(config.workflows_endpoint)
    ):
        console.print(
            "[yellow]note[/yellow]: BATON_LAKE is not a gs:// lake; progress shows the "
            "execution state only (set BATON_LAKE=gs://<bucket>/<prefix> for the grid)"
        )
        return None
    try:
        return open_storage(root)
    except BatonError as err:
        console.print(
            f"[yellow]note[/yellow]: {escape(err.message)}; progress shows the state only"
        )
        return None


def _follow(
    target: Target,
    info: ExecutionInfo,
    argument: dict[str, Any],
    dataset: str,
    storage: Storage | None,
) -> ExecutionInfo:
    """Follow one execution with the progress view; Ctrl-C cancels a local one."""
    tracked = tracked_for(info, argument, dataset)
    view = ProgressView(console, tracked)
    watch = LakeWatch(storage, tracked)
    console.print(f"started execution {info.id} ({info.where})")
    try:
        final, _ = follow(target, info, watch, view, poll_s=POLL_S[target.kind])
    except KeyboardInterrupt:
        if target.kind != "local":
            console.print(
                f"stopped following; execution {info.id} keeps running on GCP: "
                f"baton executions describe {info.id} --target gcp"
            )
            raise typer.Exit(int(ExitCode.BUG)) from None
        console.print(f"cancelling execution {info.id} ...")
        final = target.cancel(info.id)
    return final


# -- run


def run_cmd(
    day: Annotated[
        date | None, typer.Option("--date", parser=_date, metavar="YYYY-MM-DD", help="one date")
    ] = None,
    start: Annotated[
        date | None, typer.Option(parser=_date, metavar="YYYY-MM-DD", help="first date")
    ] = None,
    end: Annotated[
        date | None, typer.Option(parser=_date, metavar="YYYY-MM-DD", help="last date (inclusive)")
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
    dates = _range(day, start, end)
    _mode(mode, allow_auto=False)
    with _exit_codes():
        settings, config = _config(target, project, region, workflow)
        name = _dataset(dataset)
        argument: dict[str, Any] = (
            {"date": dates[0].isoformat()}
            if len(dates) == 1
            else {"start": dates[0].isoformat(), "end": dates[-1].isoformat()}
        )
        argument |= {"dataset": name, "concurrency": concurrency, "mode": mode}
        if force:
            argument["force"] = True
        tgt = open_target(config, settings, os.environ, parallelism=concurrency)
        try:
            info = tgt.start(argument)
            if detach:
                console.print(f"started execution {info.id} ({info.where})")
                return
            final = _follow(tgt, info, argument, name, _watch_storage(settings, config))
        finally:
            tgt.close()
    if final.state != "SUCCEEDED":
        console.print(f"to rerun what failed: baton rerun --execution {final.id}")
        raise typer.Exit(int(ExitCode.BUG))


# -- backfill


def _durations(
    settings: Settings, config: OpsConfig, name: str, dates: Sequence[date]
) -> tuple[dict[str, float], str]:
    """Typical step run times from the lake's manifests, and where they came from."""
    root = settings.lake_root
    if root.startswith("gs://") and config.target == "gcp":
        return {}, "defaults (a gs:// lake is not read to plan)"
    try:
        storage = open_storage(root)
    except BatonError:
        return {}, "defaults (no local lake)"
    dataset = datasets.get(name)
    found = recorded_durations(status_grid(storage, dataset, dates))
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
            _duration(ex.wall_s),
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
        _duration(totals["wall_s"]),
        f"${totals['cost_usd']:.4f}",
    )
    return table


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _only_missing(settings: Settings, name: str, dates: list[date]) -> list[date]:
    storage = open_storage(settings.lake_root)
    grid = status_grid(storage, datasets.get(name), dates)
    todo = [row.day for row in grid if not row.current]
    console.print(
        f"--only-missing: {len(dates) - len(todo)} of {len(dates)} partitions are loaded with "
        f"unchanged inputs; planning the other {len(todo)}"
    )
    return todo


def backfill_cmd(
    start: Annotated[date, typer.Option(parser=_date, metavar="YYYY-MM-DD", help="first date")],
    end: Annotated[
        date, typer.Option(parser=_date, metavar="YYYY-MM-DD", help="last date (inclusive)")
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

    The plan's executions run one after another, each followed live. The planner picks per-partition or batched fan-out (--mode auto), chunks long ranges into
    several executions and estimates billable Workflows steps, cost and wall time from the
    step durations recorded in the lake's manifests. --dry-run --target gcp works offline.

    Examples:

      baton backfill --start 2013-02-01 --end 2013-02-28 --concurrency 4

      baton backfill --start 2013-01-01 --end 2013-12-31 --only-missing --recent-first

      baton backfill --start 2013-01-01 --end 2013-12-31 --dry-run --target gcp
    """
    if end < start:
        raise typer.BadParameter(f"--end {end} is before --start {start}")
    chosen_mode = _mode(mode, allow_auto=True)
    with _exit_codes():
        settings, config = _config(target, project, region, workflow)
        name = _dataset(dataset)
        dates = _days(start, end)
        if only_missing:
            dates = _only_missing(settings, name, dates)
        durations, source = _durations(settings, config, name, dates or _days(start, end))
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
    tgt = open_target(config, settings, os.environ, parallelism=concurrency)
    storage = _watch_storage(settings, config)
    failed: list[ExecutionInfo] = []
    try:
        for i, planned in enumerate(plan.executions, 1):
            console.print(
                f"execution {i} of {len(plan.executions)}: {len(planned.dates)} partitions"
            )
            info = tgt.start(planned.argument)
            final = _follow(tgt, info, planned.argument, name, storage)
            if final.state != "SUCCEEDED":
                failed.append(final)
    finally:
        tgt.close()
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
        typer.Option("--date", parser=_date, metavar="YYYY-MM-DD", help="the partition"),
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

    --date/--step reruns that step (forced) from the committed upstream outputs; with
    --downstream, it and the steps after it; --execution ID reruns exactly what failed there.
    A single step runs as one job execution (Cloud Run jobs.run with overrides on GCP); with
    --downstream or --execution, a workflow execution runs and is followed.

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
    with _exit_codes():
        settings, config = _config(target, project, region, workflow)
        tgt = open_target(config, settings, os.environ)
        try:
            if execution is not None:
                ok = _rerun_execution(tgt, execution, settings, config)
            else:
                assert day is not None and step is not None
                ok = _rerun_step(tgt, day, step, _dataset(dataset), downstream, settings, config)
        finally:
            tgt.close()
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
        final = _follow(tgt, info, argument, name, _watch_storage(settings, config))
        return final.state == "SUCCEEDED"
    console.print(f"running {step} for {day} ({name}), forced, as one job execution ...")
    run = tgt.run_job(step, day, name, force=True)
    colour = "green" if run.succeeded else "red"
    console.print(
        f"[{colour}]{'succeeded' if run.succeeded else 'failed'}[/{colour}]: {run.name or run.job}"
        f" ({escape(run.message)}); logs: {escape(run.log_uri or '-')}"
    )
    _print_status(settings, name, [day])
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
    for argument in reruns:
        console.print(
            f"rerunning {', '.join(argument['steps'])} for {len(argument['dates'])} partition(s)"
        )
        started = tgt.start(argument)
        name = str(argument.get("dataset") or "flights")
        final = _follow(tgt, started, argument, name, _watch_storage(settings, config))
        ok = ok and final.state == "SUCCEEDED"
    return ok


# -- status


STATE_STYLE = {
    State.COMMITTED: "green",
    State.STALE: "yellow",
    State.FAILED: "bold red",
    State.MISSING: "dim",
}


def _status_text(row: PartitionStatus, step: str) -> str:
    cell = row.cell(step)
    if cell.state is State.COMMITTED:
        share = cell.quarantined_share
        text = "committed" + (f" {share:.1%} q" if share else "")
    elif cell.state is State.FAILED:
        text = f"failed: {cell.reason}"
    else:
        text = cell.state.value
    return f"[{STATE_STYLE[cell.state]}]{text}[/{STATE_STYLE[cell.state]}]"


def status_json(lake: str, dataset: str, grid: Sequence[PartitionStatus]) -> dict[str, Any]:
    """The stable `baton status --json` document."""
    totals = {"partitions": len(grid), "current": sum(r.current for r in grid)}
    totals |= {s.value: sum(c.state is s for r in grid for c in r.cells) for s in State}
    return {
        "dataset": dataset,
        "lake": lake,
        "steps": list(STEPS),
        "partitions": [
            {
                "date": row.day.isoformat(),
                "current": row.current,
                "steps": {
                    c.step: {
                        "state": c.state.value,
                        "rows_in": c.rows_in,
                        "rows_out": c.rows_out,
                        "rows_quarantined": c.rows_quarantined,
                        "quarantined_share": c.quarantined_share,
                        "reason": c.reason,
                        "message": c.message,
                        "execution_id": c.execution_id,
                        "duration_s": c.duration_s,
                    }
                    for c in row.cells
                },
            }
            for row in grid
        ],
        "totals": totals,
    }


def _print_status(settings: Settings, name: str, dates: Sequence[date]) -> None:
    storage = open_storage(settings.lake_root)
    grid = status_grid(storage, datasets.get(name), dates)
    table = Table("date", *STEPS, title=f"{name} in {storage.root}")
    for row in grid:
        table.add_row(row.day.isoformat(), *(_status_text(row, s) for s in STEPS))
    console.print(table)
    doc = status_json(storage.root, name, grid)["totals"]
    console.print(
        f"{doc['current']} of {doc['partitions']} partitions current; cells: "
        + ", ".join(f"{doc[s.value]} {s.value}" for s in State)
    )


def status_cmd(
    day: Annotated[
        date | None, typer.Option("--date", parser=_date, metavar="YYYY-MM-DD", help="one date")
    ] = None,
    start: DateOpt = None,
    end: DateOpt = None,
    dataset: DatasetOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The partitions x steps grid, from the lake's manifests alone.

    Cells are committed (with the quarantined share), stale (an input changed since), failed
    (with the step's reason) or missing. Without dates: every partition the lake holds anything for.

    Examples:

      baton status --start 2013-02-01 --end 2013-02-28

      baton status --start 2013-02-01 --end 2013-02-28 --json | jq '.totals'
    """
    with _exit_codes():
        settings = load_settings(environ=os.environ)
        name = _dataset(dataset)
        storage = open_storage(settings.lake_root)
        if day is None and start is None and end is None:
            dates = known_days(storage, name)
        else:
            dates = _range(day, start, end)
        if as_json:
            grid = status_grid(storage, datasets.get(name), dates)
            typer.echo(json.dumps(status_json(storage.root, name, grid), indent=2))
            return
        _print_status(settings, name, dates)


# -- executions

executions_app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Workflow executions: local records, or GCP's through the Workflow Executions API.",
)


def _info_json(info: ExecutionInfo) -> dict[str, Any]:
    return {
        "id": info.id,
        "name": info.name,
        "workflow": info.workflow,
        "state": info.state,
        "argument": info.argument,
        "start": info.start,
        "end": info.end,
        "duration_s": info.duration,
        "failed": (info.summary or {}).get("failed"),
        "error": info.error,
        "result": info.result,
        "where": info.where,
    }


@executions_app.command("list")
def executions_list_cmd(
    limit: Annotated[int, typer.Option(min=1, help="at most this many, newest first")] = 20,
    as_json: JsonOpt = False,
    target: TargetOpt = None,
    project: ProjectOpt = None,
    region: RegionOpt = None,
    workflow: WorkflowOpt = None,
) -> None:
    """List executions, newest first.

    Examples:

      baton executions list

      baton executions list --target gcp --limit 5 --json
    """
    with _exit_codes():
        settings, config = _config(target, project, region, workflow)
        tgt = open_target(config, settings, os.environ)
        try:
            found = tgt.list(limit)
        finally:
            tgt.close()
    if as_json:
        typer.echo(json.dumps([_info_json(i) for i in found], indent=2, default=str))
        return
    table = Table("execution", "workflow", "state", "started", "duration", "argument", "failed")
    for info in found:
        table.add_row(
            info.id,
            info.workflow,
            info.state,
            _when(info.start),
            _duration(info.duration) if info.duration is not None else "-",
            json.dumps(info.argument)[:60],
            str(len((info.summary or {}).get("failed") or [])) if info.summary else "-",
        )
    console.print(table)


def _when(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(seconds))


@executions_app.command("describe")
def executions_describe_cmd(
    execution: Annotated[str, typer.Argument(help="execution id (or full name)")],
    steps: Annotated[bool, typer.Option("--steps", help="list every step entry")] = False,
    as_json: JsonOpt = False,
    target: TargetOpt = None,
    project: ProjectOpt = None,
    region: RegionOpt = None,
    workflow: WorkflowOpt = None,
) -> None:
    """One execution: state, argument, timing, failed partitions with reasons, step entries.

    Examples:

      baton executions describe 3f1c9a2e-...

      baton executions describe 3f1c9a2e-... --steps --json
    """
    with _exit_codes():
        settings, config = _config(target, project, region, workflow)
        tgt = open_target(config, settings, os.environ)
        try:
            info = tgt.get(execution)
            entries = tgt.step_entries(info.id)
        finally:
            tgt.close()
    if as_json:
        doc = _info_json(info) | {"step_entries": entries}
        typer.echo(json.dumps(doc, indent=2, default=str))
        return
    _describe(info, entries, show_steps=steps)


def _describe(info: ExecutionInfo, entries: list[dict[str, Any]] | None, show_steps: bool) -> None:
    console.print(f"execution {info.id}  [bold]{info.state}[/bold]")  # ids are safe
    console.print(f"  name      {info.name}", markup=False)
    console.print(f"  argument  {json.dumps(info.argument)}", markup=False)
    console.print(f"  started   {_when(info.start)}   ended {_when(info.end)}")
    console.print(f"  records   {info.where}", markup=False)
    if info.current_steps:
        console.print(f"  running   {', '.join(info.current_steps)}", markup=False)
    summary = info.summary
    if summary is not None:
        console.print(
            f"  summary   {summary.get('status')}: {summary.get('dates')} partitions, "
            f"{len(summary.get('failed') or [])} failed, mode {summary.get('mode')}"
        )
        for day, cells in (summary.get("partitions") or {}).items():
            for step, entry in (cells or {}).items():
                if entry.get("status") == "failed":
                    console.print(
                        f"  [red]failed[/red]    {day} {step}: {escape(str(entry.get('reason')))}: "
                        f"{escape(str(entry.get('message')))}"
                    )
    elif info.error is not None:
        console.print(f"  error     {info.error_message}", markup=False)
    elif info.result is not None:
        console.print(f"  result    {json.dumps(info.result)}", markup=False)
    if entries is None:
        console.print("  steps     not available through this API (see the console)")
        return
    failed = [e for e in entries if e.get("state") != "succeeded"]
    console.print(f"  steps     {len(entries)} step entries, {len(failed)} not succeeded")
    for entry in entries if show_steps else failed[:20]:
        extra = f" retries={entry['retries']}" if entry.get("retries") else ""
        error = f" error={entry['error']}" if entry.get("error") else ""
        console.print(
            f"    {entry.get('state'):<10} {entry.get('path')}{extra}{error}", markup=False
        )


@executions_app.command("cancel")
def executions_cancel_cmd(
    execution: Annotated[str, typer.Argument(help="execution id (or full name)")],
    target: TargetOpt = None,
    project: ProjectOpt = None,
    region: RegionOpt = None,
    workflow: WorkflowOpt = None,
) -> None:
    """Cancel a running execution.

    Example:

      baton executions cancel 3f1c9a2e-... --target gcp
    """
    with _exit_codes():
        settings, config = _config(target, project, region, workflow)
        tgt = open_target(config, settings, os.environ)
        try:
            info = tgt.cancel(execution)
        finally:
            tgt.close()
    console.print(f"execution {info.id}: {info.state}")


# -- serve


def serve_cmd(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="REST API and console port (0: any free)")] = 8080,
    grpc_port: Annotated[
        int, typer.Option(help="Workflow Executions gRPC port (0: any free)")
    ] = 8081,
    project: Annotated[str, typer.Option(help="project the API answers as")] = "baton-local",
    region: Annotated[str, typer.Option(help="location the API answers as")] = "local",
    workflow: WorkflowOpt = None,
    fast_retries: Annotated[
        bool, typer.Option("--fast-retries", help="retry failed jobs without the backoff wait")
    ] = False,
) -> None:
    """Serve the local twin through the GCP APIs (Workflow Executions, Cloud Run jobs.run).

    Workflow Executions API v1 over REST and gRPC, Cloud Run Admin API v2 jobs.run and its
    operations over REST, and a console page listing the executions: `--target gcp` and
    Google's client libraries drive the local twin as they drive GCP. No authentication, so
    it listens on loopback by default.

    Examples:

      baton serve

      BATON_GCP_PROJECT=baton-local BATON_GCP_REGION=local \\
      BATON_WORKFLOWS_ENDPOINT=127.0.0.1:8081 BATON_RUN_ENDPOINT=http://127.0.0.1:8080 \\
        baton run --date 2013-01-02 --target gcp
    """
    with _exit_codes():
        settings, config = _config(None, workflow=workflow)
        options = ServeOptions(
            project, region, config.workflow, host, port, grpc_port, fast_retries
        )
        try:
            server = build_server(settings, os.environ, options)
        except OSError as err:
            console.print(f"[red]error[/red]: cannot listen: {err}; pick other ports")
            raise typer.Exit(int(ExitCode.CONFIG)) from err
    if host not in ("127.0.0.1", "localhost", "::1"):
        console.print(f"[yellow]warning[/yellow]: listening on {host} with no authentication")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with server:
        console.print(f"serving {server.workflows.parent} from {settings.home}")
        console.print(f"  console and REST  {server.rest_endpoint}/")
        console.print(f"  gRPC (Workflow Executions)  {server.grpc_endpoint}")
        console.print("point --target gcp at it with:")
        console.print(
            f"  export BATON_GCP_PROJECT={project} BATON_GCP_REGION={region} "
            f"BATON_WORKFLOWS_ENDPOINT={server.grpc_endpoint} "
            f"BATON_RUN_ENDPOINT={server.rest_endpoint}"
        )
        with suppress(KeyboardInterrupt):
            stop.wait()
    console.print("stopped")


def register(app: typer.Typer) -> None:
    """Mount the operator verbs on the `baton` app."""
    app.command("run")(run_cmd)
    app.command("backfill")(backfill_cmd)
    app.command("rerun")(rerun_cmd)
    app.command("status")(status_cmd)
    app.add_typer(executions_app, name="executions")
    app.command("serve")(serve_cmd)
