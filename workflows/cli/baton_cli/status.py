"""The partitions x steps status grid, built from the lake's manifests and attempt records alone.

A cell is committed (with its quarantined share), damaged (a file its manifest names is gone or
resized, or with --verify its digest changed, or the step reading it last failed on a corrupt
file of it: `input_corrupt`), stale (an input changed since the commit, or an
upstream cell is not current), failed (the latest attempt failed), or missing. No database:
everything is read back from `_manifest.json` / `_attempt.json`, listings and the landing objects.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from statistics import median
from typing import TYPE_CHECKING

from baton.errors import DataError
from baton.lake import (
    INPUT_STEP,
    LANDING,
    MANIFEST,
    NEXT_STEP,
    OUTPUT_ZONE,
    STEPS,
    attempt_key,
    manifest_key,
)
from baton.manifest import (
    AttemptRecord,
    Manifest,
    damage,
    found_corrupt,
    read_attempt,
    read_manifest,
)
from baton.storage import Storage

if TYPE_CHECKING:  # the dataset module imports polars; the grid reads no data
    from baton.dataset import Dataset


class State(StrEnum):
    """What one step's output for one partition looks like right now."""

    COMMITTED = "committed"
    DAMAGED = "damaged"
    STALE = "stale"
    FAILED = "failed"
    MISSING = "missing"


@dataclass(frozen=True)
class StatusCell:
    """One step of one partition."""

    step: str
    state: State
    rows_in: int | None = None
    rows_out: int | None = None
    rows_quarantined: int | None = None
    reason: str = ""
    message: str = ""
    run_id: str = ""
    execution_id: str = ""
    duration_s: float | None = None  # of the committed run
    attempt: str = ""  # outcome of the latest attempt: committed | skipped | failed ("": none)
    attempt_execution_id: str = ""  # the workflow execution of the latest attempt
    watermark: Mapping[str, object] | None = None  # an incremental source's, as committed

    @property
    def quarantined_share(self) -> float | None:
        """Share of this step's input rows it quarantined."""
        if not self.rows_in or self.rows_quarantined is None:
            return None
        return self.rows_quarantined / self.rows_in


@dataclass(frozen=True)
class PartitionStatus:
    """Every step of one partition, in DAG order."""

    day: date
    cells: tuple[StatusCell, ...]

    def cell(self, step: str) -> StatusCell:
        """The cell of `step`."""
        return next(c for c in self.cells if c.step == step)

    @property
    def current(self) -> bool:
        """Loaded, and nothing upstream changed since: a backfill may skip this partition."""
        return all(c.state is State.COMMITTED for c in self.cells)


@dataclass(frozen=True)
class Observation:
    """What the lake holds for one partition (the I/O half; `classify` is the pure half)."""

    manifests: Mapping[str, tuple[Manifest, str]]  # step -> (manifest, its digest)
    attempts: Mapping[str, AttemptRecord]
    corrupt: Mapping[str, str]  # step -> why its manifest cannot be read
    damaged: Mapping[str, str]  # step -> what is wrong with the files its manifest names
    object_digests: Mapping[str, str | None]  # landing/reference key -> digest now (None: gone)
    blamed: Mapping[str, str] = field(default_factory=dict)
    """step -> the message of the reading step's attempt that found a file of its commit corrupt"""


def _inputs_current(
    step: str, manifest: Manifest, seen: Observation, day: date, dataset: str
) -> bool:
    before = INPUT_STEP.get(step)
    upstream_key = manifest_key(before, dataset, day) if before else None
    for ref in manifest.inputs:
        if external(ref.key):
            continue  # an API or a database: status reads no source; the step itself decides
        if ref.key == upstream_key:
            now = seen.manifests.get(before)
            if now is None or now[1] != ref.digest:
                return False
        elif seen.object_digests.get(ref.key) != ref.digest:
            return False
    return True


def _failed_after(attempt: AttemptRecord | None, manifest: Manifest | None) -> bool:
    if attempt is None or attempt.outcome != "failed":
        return False
    return manifest is None or attempt.finished_at > manifest.finished_at


def _cell(step: str, seen: Observation, fresh: Callable[[Manifest], bool]) -> StatusCell:
    found = seen.manifests.get(step)
    manifest = found[0] if found else None
    attempt = seen.attempts.get(step)
    latest = {
        "attempt": attempt.outcome if attempt else "",
        "attempt_execution_id": attempt.execution_id if attempt else "",
    }
    if step in seen.corrupt:
        return StatusCell(
            step, State.FAILED, reason="manifest_corrupt", message=seen.corrupt[step], **latest
        )
    if _failed_after(attempt, manifest):
        assert attempt is not None
        return StatusCell(
            step,
            State.FAILED,
            reason=attempt.reason,
            message=attempt.message,
            run_id=attempt.run_id,
            execution_id=attempt.execution_id,
            **latest,
        )
    if manifest is None:
        return StatusCell(step, State.MISSING, **latest)
    if step in seen.damaged or step in seen.blamed:
        missing = step in seen.damaged
        return StatusCell(
            step,
            State.DAMAGED,
            manifest.rows_in,
            manifest.rows_out,
            manifest.rows_quarantined,
            reason="manifest_missing_file" if missing else "input_corrupt",
            message=seen.damaged[step] if missing else seen.blamed[step],
            run_id=manifest.run_id,
            execution_id=manifest.execution_id,
            **latest,
        )
    return StatusCell(
        step,
        State.COMMITTED if fresh(manifest) else State.STALE,
        manifest.rows_in,
        manifest.rows_out,
        manifest.rows_quarantined,
        run_id=manifest.run_id,
        execution_id=manifest.execution_id,
        duration_s=manifest.duration_s,
        watermark=_watermark(manifest),
        **latest,
    )


def external(key: str) -> bool:
    """Whether an input key names something outside the lake (an API's URL, a database)."""
    return "://" in key


def _watermark(manifest: Manifest) -> Mapping[str, object] | None:
    found = manifest.extra.get("watermark")
    return found if isinstance(found, dict) else None


def high_water_mark(grid: Iterable[PartitionStatus]) -> str | None:
    """The highest watermark committed over `grid` (None: the dataset has none)."""
    marks = [
        str(c.watermark["to"])
        for row in grid
        for c in row.cells
        if c.watermark and c.watermark.get("to") and c.state is not State.FAILED
    ]
    return max(marks) if marks else None


def classify(seen: Observation, dataset: str, day: date) -> PartitionStatus:
    """Turn what the lake holds into cells; staleness propagates downstream."""
    cells: list[StatusCell] = []
    upstream_ok = True
    for step in STEPS:
        ok = upstream_ok
        cell = _cell(
            step, seen, lambda m, s=step, ok=ok: ok and _inputs_current(s, m, seen, day, dataset)
        )
        upstream_ok = upstream_ok and cell.state is State.COMMITTED
        cells.append(cell)
    return PartitionStatus(day, tuple(cells))


def _damaged(
    storage: Storage, manifests: Mapping[str, tuple[Manifest, str]], verify: bool
) -> dict[str, str]:
    found = {}
    for step, (manifest, _) in manifests.items():
        problems = damage(storage, manifest, verify=verify)
        if problems:
            more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
            found[step] = (
                f"committed {step} output is damaged: {'; '.join(problems[:3])}{more}; "
                f"rerun {step} for {manifest.partition} (or backfill --only-missing)"
            )
    return found


def _name(dataset: Dataset | str) -> str:
    return dataset if isinstance(dataset, str) else dataset.name


def observe(
    storage: Storage, dataset: Dataset | str, day: date, *, verify: bool = False
) -> Observation:
    """Read one partition's manifests, attempt records, the sizes (with `verify`, digests) of
    the files the manifests name, and input-object digests. The dataset may be given by name:
    the grid reads no data, so it needs no definition (whose module imports polars)."""
    name = _name(dataset)
    manifests: dict[str, tuple[Manifest, str]] = {}
    corrupt: dict[str, str] = {}
    attempts: dict[str, AttemptRecord] = {}
    for step in STEPS:
        try:
            hit = read_manifest(storage, manifest_key(step, name, day))
        except DataError as err:
            corrupt[step] = err.message
            hit = None
        if hit is not None:
            manifests[step] = hit
        record = read_attempt(storage, attempt_key(step, name, day))
        if record is not None:
            attempts[step] = record
    object_keys = {
        ref.key
        for manifest, _ in manifests.values()
        for ref in manifest.inputs
        if not ref.key.endswith(f"/{MANIFEST}") and not external(ref.key)
    }
    digests = {}
    for key in sorted(object_keys):
        info = storage.stat(key)
        digests[key] = info.digest if info else None
    blamed = {
        step: attempts[NEXT_STEP[step]].message
        for step, (manifest, digest) in manifests.items()
        if step in NEXT_STEP and found_corrupt(attempts.get(NEXT_STEP[step]), manifest, digest)
    }
    return Observation(
        manifests, attempts, corrupt, _damaged(storage, manifests, verify), digests, blamed
    )


def status_grid(
    storage: Storage,
    dataset: Dataset | str,
    days: Iterable[date],
    workers: int = 8,
    *,
    verify: bool = False,
) -> list[PartitionStatus]:
    """The status of every partition in `days` (read concurrently: on GCS each is a few GETs
    and one listing per folder holding committed files; `verify` adds a digest read per file)."""
    ordered = sorted(set(days))
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        seen = list(pool.map(lambda d: observe(storage, dataset, d, verify=verify), ordered))
    return [classify(s, _name(dataset), d) for s, d in zip(seen, ordered, strict=True)]


def recorded_durations(grid: Iterable[PartitionStatus]) -> dict[str, float]:
    """The median run time of each step over the committed cells of `grid` (steps with none
    recorded are left out)."""
    seen: dict[str, list[float]] = {}
    for row in grid:
        for cell in row.cells:
            if cell.duration_s is not None and cell.state is not State.MISSING:
                seen.setdefault(cell.step, []).append(cell.duration_s)
    return {step: round(median(values), 3) for step, values in seen.items()}


_DAY_IN_KEY = re.compile(r"(?:^|/|dt=)(\d{4}-\d{2}-\d{2})(?:/|\.|$)")


def known_days(storage: Storage, dataset: str, *, landed: bool = True) -> list[date]:
    """Every partition date the lake holds anything for: landing objects (unless not
    `landed`) or step outputs."""
    found: set[date] = set()
    for zone in ((LANDING,) if landed else ()) + tuple(OUTPUT_ZONE.values()):
        prefix = f"{zone}/{dataset}/"
        for key in storage.list(prefix):
            match = _DAY_IN_KEY.search(key[len(prefix) :])
            if match:
                try:
                    found.add(date.fromisoformat(match.group(1)))
                except ValueError:
                    continue  # a name shaped like a date that is not one
    return sorted(found)
