"""Following one execution to its end: poll the target for its state and the lake for the
attempt records of its cells, feed the progress view, and settle the final cells from the
execution's own summary."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from baton.errors import BatonError
from baton.lake import attempt_key
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
        self.cells: dict[Key, ProgressCell] = {k: ProgressCell(Mark.PENDING) for k in tracked.cells()}
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
