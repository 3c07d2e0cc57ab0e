"""`baton executions list|describe|cancel`: local execution records, or GCP's through the
Workflow Executions API."""

from __future__ import annotations

import json
import os
from typing import Annotated, Any

import typer
from rich.table import Table

from baton_cli.options import (
    JsonOpt,
    ProjectOpt,
    RegionOpt,
    TargetOpt,
    WorkflowOpt,
    console,
    escape,
    exit_codes,
    format_duration,
    format_when,
    load_config,
)
from baton_cli.targets import ExecutionInfo, open_target

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
    with exit_codes():
        settings, config = load_config(target, project, region, workflow)
        with open_target(config, settings, os.environ) as tgt:
            found = tgt.list(limit)
    if as_json:
        typer.echo(json.dumps([_info_json(i) for i in found], indent=2, default=str))
        return
    table = Table("execution", "workflow", "state", "started", "duration", "argument", "failed")
    for info in found:
        table.add_row(
            info.id,
            info.workflow,
            info.state,
            format_when(info.start),
            format_duration(info.duration) if info.duration is not None else "-",
            json.dumps(info.argument)[:60],
            str(len((info.summary or {}).get("failed") or [])) if info.summary else "-",
        )
    console.print(table)


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
    with exit_codes():
        settings, config = load_config(target, project, region, workflow)
        with open_target(config, settings, os.environ) as tgt:
            info = tgt.get(execution)
            entries = tgt.step_entries(info.id)
    if as_json:
        doc = _info_json(info) | {"step_entries": entries}
        typer.echo(json.dumps(doc, indent=2, default=str))
        return
    _describe(info, entries, show_steps=steps)


def _describe(info: ExecutionInfo, entries: list[dict[str, Any]] | None, show_steps: bool) -> None:
    console.print(f"execution {info.id}  [bold]{info.state}[/bold]")  # ids are safe
    console.print(f"  name      {info.name}", markup=False)
    console.print(f"  argument  {json.dumps(info.argument)}", markup=False)
    console.print(f"  started   {format_when(info.start)}   ended {format_when(info.end)}")
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
    with exit_codes():
        settings, config = load_config(target, project, region, workflow)
        with open_target(config, settings, os.environ) as tgt:
            info = tgt.cancel(execution)
    console.print(f"execution {info.id}: {info.state}")
