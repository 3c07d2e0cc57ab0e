"""`baton status`: the partitions x steps grid from the lake's manifests, as a table or as a
stable JSON document for scripts."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from datetime import date
from typing import Annotated, Any

import typer

from baton.config import load_settings
from baton.dates import date_option
from baton.lake import STEPS
from baton.storage import Storage, open_storage
from baton_cli.options import (
    DatasetOpt,
    DateOpt,
    JsonOpt,
    check_dataset,
    console,
    date_range,
    exit_codes,
)
from baton_cli.status import PartitionStatus, State, high_water_mark, known_days, status_grid

STATE_STYLE = {
    State.COMMITTED: "green",
    State.DAMAGED: "bold magenta",
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
    elif cell.state is State.DAMAGED:
        text = "damaged: missing file" if "missing" in cell.message else "damaged"
    else:
        text = cell.state.value
    return f"[{STATE_STYLE[cell.state]}]{text}[/{STATE_STYLE[cell.state]}]"


def _totals(grid: Sequence[PartitionStatus]) -> dict[str, int]:
    totals = {"partitions": len(grid), "current": sum(r.current for r in grid)}
    return totals | {s.value: sum(c.state is s for r in grid for c in r.cells) for s in State}


def _watermark_field(row: PartitionStatus) -> dict[str, Any]:
    """An incremental source's committed watermark (from, to, mode, fetched), when it has one."""
    mark = row.cell("extract").watermark
    return {"watermark": dict(mark)} if mark else {}


def status_json(lake: str, dataset: str, grid: Sequence[PartitionStatus]) -> dict[str, Any]:
    """The stable `baton status --json` document."""
    return {
        "dataset": dataset,
        "lake": lake,
        "steps": list(STEPS),
        "partitions": [
            {
                "date": row.day.isoformat(),
                "current": row.current,
                **_watermark_field(row),
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
        "totals": _totals(grid),
    }


def print_status(
    storage: Storage, name: str, dates: Sequence[date], *, verify: bool = False
) -> None:
    """The status grid of `dates` as a table, then the totals (and what is damaged)."""
    from rich.table import Table  # rich only when a grid is drawn (not for --help or --json)

    grid = status_grid(storage, name, dates, verify=verify)
    table = Table("date", *STEPS, title=f"{name} in {storage.root}")
    for row in grid:
        table.add_row(row.day.isoformat(), *(_status_text(row, s) for s in STEPS))
    console.print(table)
    doc = _totals(grid)
    console.print(
        f"{doc['current']} of {doc['partitions']} partitions current; cells: "
        + ", ".join(f"{doc[s.value]} {s.value}" for s in State)
    )
    mark = high_water_mark(grid)
    if mark is not None:  # an incremental source: how far upstream's changes are committed
        console.print(f"high-water mark committed: {mark}", markup=False)
    for row in grid:
        for cell in row.cells:
            if cell.state is State.DAMAGED:
                console.print(f"{row.day} {cell.step}: {cell.message}", markup=False)


def status_cmd(
    day: Annotated[
        date | None,
        typer.Option("--date", parser=date_option, metavar="YYYY-MM-DD", help="one date"),
    ] = None,
    start: DateOpt = None,
    end: DateOpt = None,
    dataset: DatasetOpt = None,
    as_json: JsonOpt = False,
    verify: Annotated[
        bool,
        typer.Option(
            "--verify",
            help="also compare every committed file's content digest with the recorded one "
            "(reads each file locally; a metadata read per file on GCS)",
        ),
    ] = False,
) -> None:
    """The partitions x steps grid, from the lake's manifests and listings (no data read).

    Cells are committed (with the quarantined share), damaged (a file the manifest names is missing or resized; with --verify, changed), stale (an input changed since), failed (with the step's reason) or missing. Without dates: every partition the lake holds anything for.

    Examples:

      baton status --start 2013-02-01 --end 2013-02-28

      baton status --start 2013-02-01 --end 2013-02-28 --json | jq '.totals'

      baton status --date 2013-02-03 --verify
    """
    with exit_codes():
        settings = load_settings(environ=os.environ)
        name = check_dataset(dataset)
        storage = open_storage(settings.lake_root)
        if day is None and start is None and end is None:
            dates = known_days(storage, name)
        else:
            dates = date_range(day, start, end)
        if as_json:
            grid = status_grid(storage, name, dates, verify=verify)
            typer.echo(json.dumps(status_json(storage.root, name, grid), indent=2))
            return
        print_status(storage, name, dates, verify=verify)
