"""`python -m baton_transform gc`: the deployed lake's garbage collector, run by a scheduled
Cloud Run job from the transform image (its dependency set is `baton` alone: nothing gc does
not need). The logic is `baton.garbage`, the same `baton gc` runs; this only wires it up."""

from __future__ import annotations

import os
import time
from typing import Annotated

import typer

from baton import datasets, log
from baton.config import load_settings
from baton.errors import BatonError, ExitCode
from baton.garbage import DEFAULT_WINDOW, checked_window, sweep
from baton.storage import open_storage

NAMED = 20
"""Keys named in a dataset's log line; the counts cover all of them."""


def _sweep_all(names: list[str], window: str, *, dry_run: bool) -> None:
    older_than_s = checked_window(window)
    storage = open_storage(load_settings(environ=os.environ).lake_root)
    for name in names:
        found = sweep(storage, name, older_than_s=older_than_s, now=time.time(), delete=not dry_run)
        log.get().info(
            "gc would delete" if dry_run else "gc deleted",
            dataset=name,
            files=len(found.garbage),
            bytes=found.bytes,
            kept_younger=found.young,
            older_than=window,
            keys=[g.key for g in found.garbage[:NAMED]],
        )
        for problem in found.unreadable:
            log.get().warning("gc left a partition alone", dataset=name, problem=problem)


def gc_cmd(
    older_than: Annotated[
        str, typer.Option("--older-than", help="only files at least this old (1d, 12h, 30m)")
    ] = DEFAULT_WINDOW,
    dataset: Annotated[
        list[str] | None,
        typer.Option("--dataset", help="a registered dataset (repeatable); default: every one"),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="log what would be deleted, delete nothing")
    ] = False,
) -> None:
    """Delete attempt files no manifest names, older than --older-than, in every dataset."""
    log.configure(os.environ.get("BATON_LOG_LEVEL", "info"))
    log.bind({"step": "gc"})
    try:
        names = list(dataset or sorted(datasets.registry()))
        for name in names:
            datasets.get(name)  # an unknown name fails before anything is deleted
        _sweep_all(names, older_than, dry_run=dry_run)
    except BatonError as err:
        log.get().error("gc failed", reason=err.reason, error=err.message)
        raise typer.Exit(int(err.exit_code)) from err
    except Exception as err:
        log.get().exception("unexpected error", reason="bug")
        raise typer.Exit(int(ExitCode.BUG)) from err
