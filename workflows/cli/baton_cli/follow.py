"""Following executions to their end: poll the target for their state and the lake for the
attempt records of their cells, feed the progress view, and settle the final cells from each
execution's own summary. `PlanFollower` runs a backfill's executions several at once and
follows all of them in one view."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from typing import Any

from baton.errors import BatonError
from baton.lake import STEPS, attempt_key
from baton.manifest import AttemptRecord, read_attempt
from baton.storage import Storage
from baton_cli.argument import PipelineArgument
from baton_cli.progress import (
    Key,
    Mark,
    ProgressCell,
    ProgressView,
    Tracked,
    cells_from_attempts,
    cells_from_summary,
)
from baton_cli.targets.protocol import ExecutionInfo, Target


class LakeWatch:
    """Reads the attempt records of the tracked cells; finished cells are not read again."""

    def __init__(self, storage: Storage | None, tracked: Tracked, workers: int = 8) -> None:
        self.storage = storage
        self.tracked = tracked
        self.workers = workers
        self._attempts: dict[Key, AttemptRecord | None] = {}
        self.cells: dict[Key, ProgressCell] = {
            k: ProgressCell(Mark.PENDING) for k in tracked.cells()
        }
        self.problem = ""

    def _read(self, key: Key) -> AttemptRecord | None:
        assert self.storage is not None
        day, step = key
        return read_attempt(self.storage, attempt_key(step, self.tracked.dataset, day))

    def poll(self) -> dict[Key, ProgressCell]:
        """The cells now (unchanged when the lake cannot be read: the view still shows state)."""
        if self.storage is None:
            return self.cells
        todo = [k for k, c in self.cells.items() if not c.mark.finished]
        try:
            with ThreadPoolExecutor(max_workers=self.workers) as pool:
                for key, record in zip(todo, pool.map(self._read, todo), strict=True):
                    self._attempts[key] = record
        except (BatonError, OSError) as err:
            self.problem = f"cannot read the lake's attempt records: {err}"
            return self.cells
        self.cells = cells_from_attempts(self.tracked, self._attempts)
        return self.cells


def tracked_for(info: ExecutionInfo, argument: Mapping[str, Any], dataset: str) -> Tracked:
    """The cells an execution started with `argument` will touch."""
    arg = PipelineArgument.from_json(argument)
    return Tracked(info.id, arg.dataset or dataset, tuple(sorted(arg.dates)), arg.ordered_steps)


def follow(
    target: Target,
    info: ExecutionInfo,
    watch: LakeWatch,
    view: ProgressView,
    *,
    poll_s: float,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[ExecutionInfo, dict[Key, ProgressCell]]:
    """Poll until the execution ends; its final record and cells."""
    with view:
        while True:
            cells = watch.poll()
            view.update(info, cells)
            if info.finished:
                break
            sleep(poll_s)
            info = target.get(info.id)
        cells = watch.poll()
        summary = info.summary
        if summary is not None:
            cells = cells_from_summary(watch.tracked, summary, cells)
        view.finish(info, cells)
    if watch.problem:
        view.console.print(f"[yellow]note[/yellow]: {watch.problem}", highlight=False)
    return info, cells


@dataclass
class _Running:
    """One execution of a plan that has started, and the watch on its cells."""

    info: ExecutionInfo
    watch: LakeWatch
    cells: dict[Key, ProgressCell]


class PlanFollower:
    """Runs a plan's executions up to `parallel` at once (the next one starts as soon as one
    ends, in plan order) and follows all of them in one progress view over every cell."""

    def __init__(
        self,
        target: Target,
        arguments: Sequence[Mapping[str, Any]],
        dataset: str,
        storage: Storage | None,
        *,
        parallel: int,
    ) -> None:
        if parallel < 1:
            raise ValueError("parallel executions must be at least 1")
        self.target, self.dataset, self.storage = target, dataset, storage
        self.parallel = parallel
        self.waiting = [dict(a) for a in arguments]
        self.total = len(self.waiting)
        self.running: list[_Running] = []
        self.finished: list[_Running] = []
        args = [PipelineArgument.from_json(a) for a in self.waiting]
        days = sorted({d for a in args for d in a.dates})
        steps = tuple(s for s in STEPS if any(s in a.ordered_steps for a in args))
        self.tracked = Tracked("backfill", dataset, tuple(days), steps)
        self.started_at: float | None = None

    def start_next(self) -> list[ExecutionInfo]:
        """Start waiting executions while fewer than `parallel` run; the ones started."""
        started = []
        while self.waiting and len(self.running) < self.parallel:
            argument = self.waiting[0]
            info = self.target.start(argument)
            self.waiting.pop(0)  # only once started: an interrupted start leaves it waiting
            if self.started_at is None:
                self.started_at = info.start or time.time()
            watch = LakeWatch(self.storage, tracked_for(info, argument, self.dataset))
            self.running.append(_Running(info, watch, dict(watch.cells)))
            started.append(info)
        return started

    def poll(self) -> None:
        """Refresh every running execution; settle the ones that ended from their summary."""
        still = []
        for run in self.running:
            run.info = self.target.get(run.info.id)
            run.cells = run.watch.poll()
            if run.info.finished:
                run.cells = run.watch.poll()
                if run.info.summary is not None:
                    run.cells = cells_from_summary(run.watch.tracked, run.info.summary, run.cells)
                self.finished.append(run)
            else:
                still.append(run)
        self.running = still

    @property
    def done(self) -> bool:
        """Whether every execution has started and ended."""
        return not self.waiting and not self.running

    def cells(self) -> dict[Key, ProgressCell]:
        """Every cell of the plan: pending until its execution reports it."""
        merged = {k: ProgressCell(Mark.PENDING) for k in self.tracked.cells()}
        for run in [*self.finished, *self.running]:
            merged.update(run.cells)
        return merged

    def info(self) -> ExecutionInfo:
        """The whole plan as one pseudo-execution for the progress view's headline."""
        failed = [r for r in self.finished if r.info.state != "SUCCEEDED"]
        state = "ACTIVE" if not self.done else "FAILED" if failed else "SUCCEEDED"
        label = f"{len(self.finished)}/{self.total} done, {len(self.running)} running" + (
            f", {len(failed)} failed" if failed else ""
        )
        ends = [r.info.end for r in self.finished if r.info.end is not None]
        return ExecutionInfo(
            id=f"backfill ({label})",
            name="backfill",
            workflow="pipeline",
            state=state,
            start=self.started_at,
            end=max(ends) if self.done and ends else None,
        )

    def results(self) -> list[ExecutionInfo]:
        """The final record of every execution, in the order they ended."""
        return [r.info for r in self.finished]

    def interrupt(self) -> Interrupted:
        """Ctrl-C: start nothing more and cancel every execution that still runs, all at once
        (a cancel that fails is reported, the others still go ahead)."""
        not_started = [PipelineArgument.from_json(a).dates for a in self.waiting]
        self.waiting = []
        running, self.running = self.running, []
        with ThreadPoolExecutor(max_workers=max(1, len(running))) as pool:
            outcomes = list(pool.map(self._cancel, running))
        return Interrupted(
            tuple(
                (info, run.watch.tracked.dates, problem)
                for run, (info, problem) in zip(running, outcomes, strict=True)
            ),
            tuple(tuple(sorted(d)) for d in not_started),
        )

    def _cancel(self, run: _Running) -> tuple[ExecutionInfo, str]:
        try:
            return self.target.cancel(run.info.id), ""
        except (BatonError, LookupError) as err:
            return run.info, str(err)


@dataclass(frozen=True)
class Interrupted:
    """What one Ctrl-C stopped: each running execution's record after its cancel, its dates
    and why its cancel failed ("" when it did not), and the dates of the executions never
    started."""

    cancelled: tuple[tuple[ExecutionInfo, tuple[date, ...], str], ...]
    not_started: tuple[tuple[date, ...], ...]


def follow_plan(
    follower: PlanFollower,
    view: ProgressView,
    *,
    poll_s: float,
    sleep: Callable[[float], None] = time.sleep,
    on_start: Callable[[ExecutionInfo], None] = lambda info: None,
) -> list[ExecutionInfo]:
    """Run and follow every execution of the plan to its end; their final records."""
    with view:
        for info in follower.start_next():
            on_start(info)
        while True:
            follower.poll()
            for info in follower.start_next():
                on_start(info)
            view.update(follower.info(), follower.cells())
            if follower.done:
                break
            sleep(poll_s)
        view.finish(follower.info(), follower.cells())
    problems = {r.watch.problem for r in follower.finished if r.watch.problem}
    for problem in sorted(problems):
        view.console.print(f"[yellow]note[/yellow]: {problem}", highlight=False)
    return follower.results()
