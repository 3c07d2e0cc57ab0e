"""The lake's layout: zones, partition prefixes and the names of every object baton writes.

One partition of dataset D for date T lives under `<zone>/D/dt=T/`.
"""

from __future__ import annotations

import re
from datetime import date

STEPS = ("extract", "transform", "validate", "load")
"""The pipeline's steps in DAG order."""

OUTPUT_ZONE = {"extract": "raw", "transform": "staged", "validate": "validated", "load": "loaded"}
INPUT_STEP = {"transform": "extract", "validate": "transform", "load": "validate"}
NEXT_STEP = {before: after for after, before in INPUT_STEP.items()}
"""The step that reads each step's commit."""
LANDING = "landing"
QUARANTINE = "quarantine"
MANIFEST = "_manifest.json"
ATTEMPT = "_attempt.json"

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_NAME = re.compile(r"[a-z][a-z0-9_]{0,62}")


def parse_date(text: str) -> date:
    """Parse a partition date written `YYYY-MM-DD`; anything else raises ValueError."""
    if not _DATE.fullmatch(text):
        raise ValueError(f"{text!r} is not a date: write it as YYYY-MM-DD")
    try:
        return date.fromisoformat(text)
    except ValueError as err:
        raise ValueError(f"{text!r} is not a date: {err}") from err


def check_name(kind: str, name: str) -> str:
    """Dataset and table names become paths and table ids: lower snake case only."""
    if not _NAME.fullmatch(name):
        raise ValueError(f"{kind} name {name!r} must be lower snake case ([a-z][a-z0-9_]*)")
    return name


def partition_prefix(zone: str, dataset: str, day: date) -> str:
    """`<zone>/<dataset>/dt=<YYYY-MM-DD>`."""
    return f"{zone}/{dataset}/dt={day.isoformat()}"


def step_prefix(step: str, dataset: str, day: date) -> str:
    """Where `step` commits its output for one partition."""
    return partition_prefix(OUTPUT_ZONE[step], dataset, day)


def manifest_key(step: str, dataset: str, day: date) -> str:
    """The commit object of `step`'s output for one partition."""
    return f"{step_prefix(step, dataset, day)}/{MANIFEST}"


def attempt_key(step: str, dataset: str, day: date) -> str:
    """The record of `step`'s latest attempt for one partition (success or failure)."""
    return f"{step_prefix(step, dataset, day)}/{ATTEMPT}"


def data_key(step: str, dataset: str, day: date, run_id: str, part: int = 0) -> str:
    """An attempt-unique data file name: a crashed attempt never clobbers a committed file."""
    return f"{step_prefix(step, dataset, day)}/part-{run_id}-{part:04d}.parquet"


def mart_key(dataset: str, day: date, table: str, run_id: str) -> str:
    """An attempt-unique file of mart `table`'s rows for one partition, written by load."""
    return f"{step_prefix('load', dataset, day)}/{table}-{run_id}.parquet"


def quarantine_key(step: str, dataset: str, day: date, run_id: str) -> str:
    """Where `step` puts the rows it rejected, with their reasons, for one partition."""
    return f"{partition_prefix(QUARANTINE, dataset, day)}/{step}-{run_id}.parquet"
