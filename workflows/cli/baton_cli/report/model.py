"""The run report's data: what one execution did, per date and step, as plain values.

Built by `baton_cli.report.gather` (the I/O half) and drawn by `baton_cli.report.render` (the
pure half). Counts, rules, reasons and messages only: never a row's values.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from statistics import median


class CellState(StrEnum):
    """What an execution did to one step of one partition."""

    COMMITTED = "committed"  # this execution committed new output
    UNCHANGED = "unchanged"  # it ran, found its inputs unchanged and kept the commit
    FAILED = "failed"  # its last attempt failed
    SKIPPED = "skipped"  # not run: an earlier step of the partition failed
    STALE = "stale"  # done by this execution, but an input has changed since
    NOT_RUN = "not run"  # not asked for (a rerun of later steps), or no record


@dataclass(frozen=True)
class Header:
    """Who ran what, when, and how it ended."""

    id: str
    workflow: str
    state: str
    argument: str  # the argument as JSON
    dataset: str
    mode: str
    start: float | None
    end: float | None
    started_by: str
    code_versions: tuple[str, ...]
    error_message: str = ""
    record_uri: str = ""  # the execution record's folder

    @property
    def duration_s(self) -> float | None:
        """Seconds from start to end, once finished."""
        if self.start is None or self.end is None:
            return None
        return self.end - self.start


@dataclass(frozen=True)
class Attempt:
    """One task attempt's run of one step for one date (a bar on the timeline)."""

    day: date
    step: str
    job_execution: str
    task_index: int
    attempt: int
    start: float  # seconds since the epoch: when the step's own work began
    end: float
    outcome: str  # committed | skipped | failed
    exit_code: int
    log_uri: str = ""

    @property
    def duration_s(self) -> float:
        """The step's own time in this attempt."""
        return max(0.0, self.end - self.start)


@dataclass(frozen=True)
class Cell:
    """One step of one partition in this execution."""

    day: date
    step: str
    state: CellState
    reason: str = ""
    message: str = ""
    rerun: str = ""  # the exact command that reruns it (failed cells)
    manifest_uri: str = ""
    log_uri: str = ""


@dataclass(frozen=True)
class Flow:
    """Rows of one partition through the zones, from the committed manifests (None: not
    committed) and the rows each step quarantined, by rule."""

    day: date
    landed: int | None
    raw: int | None
    staged: int | None
    validated: int | None
    loaded: int | None
    quarantined: Mapping[str, int] = field(default_factory=dict)  # step -> rows
    rules: Mapping[str, Mapping[str, int]] = field(default_factory=dict)  # step -> rule -> rows
    quarantine_uris: tuple[str, ...] = ()

    @property
    def quarantined_total(self) -> int:
        """Rows quarantined by every step."""
        return sum(self.quarantined.values())

    @property
    def imbalance(self) -> int | None:
        """landed - loaded - quarantined: 0 when nothing was lost (None: not loaded yet)."""
        if self.landed is None or self.loaded is None:
            return None
        return self.landed - self.loaded - self.quarantined_total


@dataclass(frozen=True)
class StepDurations:
    """How long one step took over the partitions of the execution."""

    step: str
    count: int
    median_s: float
    p95_s: float
    max_s: float


@dataclass(frozen=True)
class RunReport:
    """Everything the report shows."""

    header: Header
    steps: tuple[str, ...]
    days: tuple[date, ...]
    cells: tuple[Cell, ...]
    attempts: tuple[Attempt, ...]
    flows: tuple[Flow, ...]
    rerun_all: str = ""  # reruns exactly what failed, when something did

    def cell(self, day: date, step: str) -> Cell:
        """The cell of `step` for `day`."""
        return next(c for c in self.cells if c.day == day and c.step == step)

    @property
    def failed(self) -> tuple[Cell, ...]:
        """The failed cells, in date then step order."""
        return tuple(c for c in self.cells if c.state is CellState.FAILED)

    def counts(self) -> dict[CellState, int]:
        """How many cells are in each state."""
        out = dict.fromkeys(CellState, 0)
        for c in self.cells:
            out[c.state] += 1
        return out


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile of `values` (not empty)."""
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def step_durations(attempts: Iterable[Attempt], steps: Sequence[str]) -> list[StepDurations]:
    """Median, p95 and max of each step's committed runs (unchanged runs did no work)."""
    seen: dict[str, list[float]] = {}
    for a in attempts:
        if a.outcome == "committed":
            seen.setdefault(a.step, []).append(a.duration_s)
    return [
        StepDurations(s, len(seen[s]), median(seen[s]), percentile(seen[s], 0.95), max(seen[s]))
        for s in steps
        if s in seen
    ]


def slowest_partitions(attempts: Iterable[Attempt], top: int = 10) -> list[tuple[date, float]]:
    """The partitions whose steps took longest in total (every attempt counts)."""
    total: dict[date, float] = {}
    for a in attempts:
        total[a.day] = total.get(a.day, 0.0) + a.duration_s
    return sorted(total.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
