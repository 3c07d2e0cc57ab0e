"""The progress of one execution as a partitions x steps grid: what each cell's latest attempt
says about *this* execution, rendered as a Rich live table on a terminal and as one plain line
per change otherwise (CI, `make run`, pipes)."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from baton.manifest import AttemptRecord
from baton_cli.targets.protocol import ExecutionInfo

Key = tuple[date, str]


class Mark(StrEnum):
    """What happened to one step of one partition in the execution being followed."""

    PENDING = "pending"
    COMMITTED = "committed"
    UNCHANGED = "unchanged"  # the step ran and skipped: its inputs had not changed
    FAILED = "failed"
    SKIPPED = "skipped"  # not run: an earlier step of the partition failed

    @property
    def finished(self) -> bool:
        """Whether the cell will not change again in this execution."""
        return self is not Mark.PENDING


STYLE = {
    Mark.PENDING: ("·", "dim"),
    Mark.COMMITTED: ("✓", "green"),
    Mark.UNCHANGED: ("=", "dim green"),
    Mark.FAILED: ("✗", "bold red"),
    Mark.SKIPPED: ("-", "yellow"),
}


@dataclass(frozen=True)
class Tracked:
    """The cells one execution is expected to touch."""

    execution_id: str
    dataset: str
    dates: tuple[date, ...]
    steps: tuple[str, ...]

    def cells(self) -> list[Key]:
        """Every (date, step) cell, dates in order, steps in DAG order."""
        return [(d, s) for d in self.dates for s in self.steps]


@dataclass(frozen=True)
class ProgressCell:
    """One cell's mark and, when it failed, why."""

    mark: Mark
    reason: str = ""
    message: str = ""


def cells_from_attempts(
    tracked: Tracked, attempts: Mapping[Key, AttemptRecord | None]
) -> dict[Key, ProgressCell]:
    """Cells from the latest attempt records: only attempts of this execution count; after a
    failure the partition's later steps are skipped (as the pipeline does)."""
    cells: dict[Key, ProgressCell] = {}
    for day in tracked.dates:
        failed = False
        for step in tracked.steps:
            record = attempts.get((day, step))
            if failed:
                cells[(day, step)] = ProgressCell(Mark.SKIPPED)
            elif record is None or record.execution_id != tracked.execution_id:
                cells[(day, step)] = ProgressCell(Mark.PENDING)
            elif record.outcome == "failed":
                cells[(day, step)] = ProgressCell(Mark.FAILED, record.reason, record.message)
                failed = True
            else:
                mark = Mark.UNCHANGED if record.outcome == "skipped" else Mark.COMMITTED
                cells[(day, step)] = ProgressCell(mark)
    return cells


def cells_from_summary(
    tracked: Tracked, summary: Mapping[str, Any], seen: Mapping[Key, ProgressCell]
) -> dict[Key, ProgressCell]:
    """The final cells from the execution's summary (authoritative), keeping committed vs
    unchanged from the attempt records and the step's reason for failures."""
    partitions = summary.get("partitions") or {}
    cells = dict(seen)
    for day, step in tracked.cells():
        entry = (partitions.get(day.isoformat()) or {}).get(step)
        if not isinstance(entry, dict):
            continue
        before = seen.get((day, step), ProgressCell(Mark.PENDING))
        status = entry.get("status")
        if status == "failed":
            reason = str(entry.get("reason") or before.reason)
            cells[(day, step)] = ProgressCell(Mark.FAILED, reason, str(entry.get("message") or ""))
        elif status == "skipped":
            cells[(day, step)] = ProgressCell(Mark.SKIPPED)
        elif status == "succeeded":
            unchanged = before.mark is Mark.UNCHANGED
            cells[(day, step)] = ProgressCell(Mark.UNCHANGED if unchanged else Mark.COMMITTED)
    return cells


def counts(cells: Iterable[ProgressCell]) -> dict[Mark, int]:
    """How many cells carry each mark."""
    found = dict.fromkeys(Mark, 0)
    for cell in cells:
        found[cell.mark] += 1
    return found


def failures(tracked: Tracked, cells: Mapping[Key, ProgressCell]) -> list[tuple[date, str, ProgressCell]]:
    """The failed cells, in date then DAG order."""
    return [(d, s, cells[(d, s)]) for d, s in tracked.cells() if cells[(d, s)].mark is Mark.FAILED]


def headline(info: ExecutionInfo, tracked: Tracked, cells: Mapping[Key, ProgressCell], now: float) -> str:
    """One line: the execution, its state, time so far and the cell counts."""
    elapsed = info.duration if info.duration is not None else now - (info.start or now)
    tally = counts(cells.values())
    done = sum(all(cells[(d, s)].mark.finished for s in tracked.steps) for d in tracked.dates)
    return (
        f"execution {info.id} {info.state} {elapsed:.1f} s: {done}/{len(tracked.dates)} "
        f"partitions done; {tally[Mark.COMMITTED]} committed, {tally[Mark.UNCHANGED]} unchanged, "
        f"{tally[Mark.FAILED]} failed, {tally[Mark.SKIPPED]} skipped"
    )


class ProgressView:
    """Shows cells as they change: a live table on a terminal, plain lines otherwise."""

    def __init__(
        self, console: Console, tracked: Tracked, *, live: bool | None = None, max_rows: int = 0
    ) -> None:
        self.console = console
        self.tracked = tracked
        self.live = console.is_terminal if live is None else live
        self.max_rows = max_rows or max(8, console.size.height - 8)
        self._shown: dict[Key, ProgressCell] = {}
        self._state = ""
        self._live: Live | None = None

    def __enter__(self) -> ProgressView:
        if self.live:
            self._live = Live(console=self.console, refresh_per_second=4, transient=False)
            self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.__exit__(None, None, None)
            self._live = None

    def update(self, info: ExecutionInfo, cells: Mapping[Key, ProgressCell]) -> None:
        """Show the execution's state and its cells now."""
        if self._live is not None:
            self._live.update(self.render(info, cells))
        else:
            self._lines(info, cells)
        self._shown = dict(cells)
        self._state = info.state

    def _lines(self, info: ExecutionInfo, cells: Mapping[Key, ProgressCell]) -> None:
        for key in self.tracked.cells():
            cell = cells.get(key, ProgressCell(Mark.PENDING))
            if cell.mark.finished and self._shown.get(key) != cell:
                day, step = key
                why = f" ({cell.reason}: {cell.message})" if cell.reason else ""
                self.console.print(
                    f"{day.isoformat()}  {step:<9} {cell.mark.value}{why}",
                    highlight=False,
                    markup=False,
                )
        if info.state != self._state:
            self.console.print(f"execution {info.id}: {info.state}", highlight=False)

    def render(self, info: ExecutionInfo, cells: Mapping[Key, ProgressCell]) -> Group:
        """The live table: unfinished and failed partitions first when they do not all fit."""
        table = Table("date", *self.tracked.steps, box=None, pad_edge=False)
        rows = self._rows(cells)
        for day in rows:
            marks = [cells.get((day, s), ProgressCell(Mark.PENDING)) for s in self.tracked.steps]
            table.add_row(day.isoformat(), *(_cell_text(c) for c in marks))
        hidden = len(self.tracked.dates) - len(rows)
        parts: list[Any] = [Text(headline(info, self.tracked, cells, time.time())), table]
        if hidden:
            parts.append(Text(f"... and {hidden} more partitions", style="dim"))
        return Group(*parts)

    def _rows(self, cells: Mapping[Key, ProgressCell]) -> Sequence[date]:
        dates = self.tracked.dates
        if len(dates) <= self.max_rows:
            return dates

        def finished(day: date) -> bool:
            return all(
                cells.get((day, s), ProgressCell(Mark.PENDING)).mark.finished for s in self.tracked.steps
            )

        def failed(day: date) -> bool:
            return any(
                cells.get((day, s), ProgressCell(Mark.PENDING)).mark is Mark.FAILED
                for s in self.tracked.steps
            )

        chosen = [d for d in dates if failed(d)] + [d for d in dates if not finished(d)]
        chosen += [d for d in dates if finished(d) and not failed(d)]
        keep = set(chosen[: self.max_rows])
        return [d for d in dates if d in keep]

    def finish(self, info: ExecutionInfo, cells: Mapping[Key, ProgressCell]) -> None:
        """The final state, then the failures with their reasons and a one-line tally."""
        self.update(info, cells)
        self.__exit__()
        for day, step, cell in failures(self.tracked, cells):
            self.console.print(
                f"[red]failed[/red] {day.isoformat()} {step}: {escape(cell.reason or 'error')}"
                + (f": {escape(cell.message)}" if cell.message else ""),
                highlight=False,
            )
        if info.state not in ("SUCCEEDED", "FAILED") or (
            info.state == "FAILED" and not failures(self.tracked, cells)
        ):
            message = info.error_message
            if message:
                self.console.print(
                    f"[red]{info.state.lower()}[/red]: {escape(message)}", highlight=False
                )
        self.console.print(headline(info, self.tracked, cells, time.time()), highlight=False)


def _cell_text(cell: ProgressCell) -> Text:
    symbol, style = STYLE[cell.mark]
    label = f"{symbol} {cell.reason}" if cell.mark is Mark.FAILED and cell.reason else symbol
    return Text(label, style=style)
