"""`baton gc`: delete the attempt files no manifest names (left by killed or superseded
attempts), older than a window, and report how many files and bytes."""

from __future__ import annotations

import os
import re
import time
from typing import Annotated

import typer
from rich.markup import escape

from baton.config import load_settings
from baton.errors import ConfigError
from baton.jobs import load_jobs
from baton.storage import open_storage
from baton_cli.garbage import find_garbage
from baton_cli.options import DatasetOpt, check_dataset, console, exit_codes

_WINDOW = re.compile(r"(\d+(?:\.\d+)?)([smhd])")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}
SHOWN = 20  # files listed by name; the totals cover all of them


def parse_window(text: str) -> float:
    """`1d`, `12h`, `30m`, `90s` -> seconds."""
    match = _WINDOW.fullmatch(text.strip())
    if match is None:
        raise typer.BadParameter(
            f"{text!r} is not a duration: write it like 1d, 12h, 30m or 90s",
            param_hint="--older-than",
        )
    return float(match.group(1)) * _UNIT_S[match.group(2)]


def longest_attempt_s() -> float:
    """The longest a file can stay unnamed while its attempt still runs: an attempt names its
    files in its manifest before it ends, and no attempt outlives its job's task timeout."""
    return float(max(job.timeout_s for job in load_jobs()))


def _human(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{size} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} bytes"


def gc_cmd(
    older_than: Annotated[
        str,
        typer.Option(
            "--older-than",
            help="only files at least this old (1d, 12h, 30m); never less than the longest "
            "a step attempt can run",
        ),
    ] = "1d",
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
    window = parse_window(older_than)
    with exit_codes():
        floor = longest_attempt_s()
        if window < floor:
            raise ConfigError(
                f"--older-than {older_than} is shorter than the longest a step attempt can run "
                f"({floor:.0f} s: the longest job task timeout); an attempt still writing could lose "
                "its files. Use a longer window",
                reason="gc_window_too_short",
            )
        settings = load_settings(environ=os.environ)
        name = check_dataset(dataset)
        storage = open_storage(settings.lake_root)
        sweep = find_garbage(storage, name, older_than_s=window, now=time.time())
        for item in sweep.garbage[:SHOWN]:
            console.print(f"  {item.key}  {_human(item.size)}", markup=False)
        if len(sweep.garbage) > SHOWN:
            console.print(f"  ... and {len(sweep.garbage) - SHOWN} more", markup=False)
        if not dry_run:
            for item in sweep.garbage:
                storage.delete(item.key)
        verb = "would delete" if dry_run else "deleted"
        console.print(
            f"{name} in {storage.root}: {verb} {len(sweep.garbage)} file(s), "
            f"{_human(sweep.bytes)} ({sweep.bytes} bytes) no manifest names, older than "
            f"{older_than}; kept {sweep.young} younger unnamed file(s)",
            markup=False,
        )
        for problem in sweep.unreadable:
            console.print(f"[yellow]left alone[/yellow]: {escape(problem)}")
