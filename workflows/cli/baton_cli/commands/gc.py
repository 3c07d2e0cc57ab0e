"""`baton gc`: delete the attempt files no manifest names (left by killed or superseded
attempts), older than a window, and report how many files and bytes."""

from __future__ import annotations

import os
import time
from typing import Annotated

import typer

from baton.config import load_settings
from baton.errors import ConfigError
from baton.garbage import DEFAULT_WINDOW, checked_window, human, parse_window, sweep
from baton.storage import open_storage
from baton_cli.options import DatasetOpt, check_dataset, console, escape, exit_codes

SHOWN = 20  # files listed by name; the totals cover all of them


def _window(text: str) -> float:
    """A malformed window is a usage error (exit 2), like any bad option."""
    try:
        parse_window(text)
    except ConfigError as err:
        raise typer.BadParameter(err.message, param_hint="--older-than") from err
    return checked_window(text)


def gc_cmd(
    older_than: Annotated[
        str,
        typer.Option(
            "--older-than",
            help="only files at least this old (1d, 12h, 30m); never less than the longest "
            "a step attempt can run",
        ),
    ] = DEFAULT_WINDOW,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="report what would be deleted, delete nothing")
    ] = False,
    dataset: DatasetOpt = None,
) -> None:
    """Delete attempt files that no manifest names, older than --older-than.

    Killed or superseded attempts leave Parquet files behind; readers never see them (they read only what a manifest names). Committed files, the latest attempt's quarantine, manifests, attempt records and landing files are never touched; a partition whose manifest cannot be read is left alone and reported.

    Examples:

      baton gc --dry-run

      baton gc --older-than 7d
    """
    with exit_codes():
        window = _window(older_than)
        settings = load_settings(environ=os.environ)
        name = check_dataset(dataset)
        storage = open_storage(settings.lake_root)
        found = sweep(storage, name, older_than_s=window, now=time.time(), delete=not dry_run)
        for item in found.garbage[:SHOWN]:
            console.print(f"  {item.key}  {human(item.size)}", markup=False)
        if len(found.garbage) > SHOWN:
            console.print(f"  ... and {len(found.garbage) - SHOWN} more", markup=False)
        verb = "would delete" if dry_run else "deleted"
        console.print(
            f"{name} in {storage.root}: {verb} {len(found.garbage)} file(s), "
            f"{human(found.bytes)} ({found.bytes} bytes) no manifest names, older than "
            f"{older_than}; kept {found.young} younger unnamed file(s)",
            markup=False,
        )
        for problem in found.unreadable:
            console.print(f"[yellow]left alone[/yellow]: {escape(problem)}")
