"""The partitions x steps grid of one execution, from its summary, its task attempts and what
the lake holds now (pure: the records in, cells out).

A step the summary calls succeeded is `committed` when this execution's last attempt committed
it, `unchanged` when that attempt found its inputs unchanged, and `stale` when the lake says an
input changed since; failed cells carry the reason, message and the exact rerun command.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from baton_cli.report.model import Attempt, Cell, CellState

LakeState = str  # committed | stale | failed | missing (baton_cli.status.State values)


def _target_flag(target: str) -> str:
    return "" if target == "local" else f" --target {target}"


def rerun_command(
    day: date, step: str, dataset: str, default_dataset: str, target: str = "local"
) -> str:
    """The command that reruns `step` and every step after it for one partition (on GCP it
    names `--target gcp`: the operator's default target is the local twin)."""
    extra = "" if dataset == default_dataset else f" --dataset {dataset}"
    return (
        f"baton rerun --date {day.isoformat()} --step {step} --downstream{extra}"
        f"{_target_flag(target)}"
    )


def rerun_all_command(execution_id: str, target: str = "local") -> str:
    """The command that reruns exactly what an execution left failed."""
    return f"baton rerun --execution {execution_id}{_target_flag(target)}"


def last_attempts(attempts: Sequence[Attempt]) -> dict[tuple[date, str], Attempt]:
    """The latest attempt of each (date, step), by end time."""
    out: dict[tuple[date, str], Attempt] = {}
    for a in sorted(attempts, key=lambda a: a.end):
        out[(a.day, a.step)] = a
    return out


def _succeeded(last: Attempt | None, lake: LakeState, committed_here: bool) -> CellState:
    if lake == "stale":
        return CellState.STALE
    if last is not None:
        return CellState.COMMITTED if last.outcome == "committed" else CellState.UNCHANGED
    return CellState.COMMITTED if committed_here else CellState.UNCHANGED


def build_cell(
    day: date,
    step: str,
    entry: Mapping[str, Any] | None,
    last: Attempt | None,
    lake: tuple[LakeState, bool],
    dataset: tuple[str, str],
    *,
    target: str = "local",
) -> Cell:
    """One cell. `entry` is the summary's {status, reason, message, ...} for it (None when the
    execution has no summary), `lake` the lake's state of it and whether its manifest names this
    execution, `dataset` the (dataset, default dataset) and `target` the target kind for the
    rerun command."""
    status = (entry or {}).get("status")
    if status is None and last is not None:
        status = "failed" if last.outcome == "failed" else "succeeded"
    log = last.log_uri if last else ""
    if status == "failed":
        return Cell(
            day,
            step,
            CellState.FAILED,
            reason=str(
                (entry or {}).get("reason") or f"exit code {last.exit_code if last else '?'}"
            ),
            message=str((entry or {}).get("message") or ""),
            rerun=rerun_command(day, step, *dataset, target),
            log_uri=log,
        )
    if status == "skipped":
        return Cell(day, step, CellState.SKIPPED, reason="an earlier step failed")
    if status == "succeeded":
        return Cell(day, step, _succeeded(last, lake[0], lake[1]), log_uri=log)
    return Cell(day, step, CellState.NOT_RUN)
