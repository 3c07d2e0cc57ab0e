"""`baton summary`: per date, rows landed, loaded and quarantined, from the manifests alone."""

from __future__ import annotations

import os
from typing import Annotated

import typer
from rich.table import Table

from baton import datasets
from baton.config import load_settings
from baton.dates import days_between
from baton.storage import open_storage
from baton_cli.accounting import ledger
from baton_cli.options import DateOpt, console


def summary_cmd(
    start: DateOpt = None,
    end: DateOpt = None,
    dataset: Annotated[str, typer.Option(help="dataset name")] = datasets.DEFAULT_DATASET,
) -> None:
    """Per date: rows landed, loaded and quarantined, from the manifests alone."""
    settings = load_settings(environ=os.environ)
    storage = open_storage(settings.lake_root)
    if start is None or end is None:
        raise typer.BadParameter("give --start and --end")
    table = Table(
        "date", "landed", "loaded", "quarantined", "balanced", title=f"{dataset} in {storage.root}"
    )
    rows = ledger(storage, dataset, days_between(start, end))
    for row in rows:
        table.add_row(
            row.day.isoformat(),
            *(str(v) if v is not None else "-" for v in (row.landed, row.loaded)),
            str(row.quarantined),
            {True: "yes", False: "NO", None: "-"}[row.balanced],
        )
    console.print(table)
    if any(r.balanced is False for r in rows):
        raise typer.Exit(1)
