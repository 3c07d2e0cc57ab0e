"""Which Cloud Run task this process is, and which partition dates it owns in batched mode."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from baton.errors import ConfigError


@dataclass(frozen=True)
class TaskContext:
    """The identity Cloud Run gives a task (all fields have local defaults)."""

    job: str = "local"
    execution: str = "local"
    index: int = 0
    count: int = 1
    attempt: int = 0

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> TaskContext:
        """Read the `CLOUD_RUN_*` variables Cloud Run sets in every task."""
        try:
            ctx = cls(
                job=environ.get("CLOUD_RUN_JOB", "local"),
                execution=environ.get("CLOUD_RUN_EXECUTION", "local"),
                index=int(environ.get("CLOUD_RUN_TASK_INDEX", "0")),
                count=int(environ.get("CLOUD_RUN_TASK_COUNT", "1")),
                attempt=int(environ.get("CLOUD_RUN_TASK_ATTEMPT", "0")),
            )
        except ValueError as err:
            raise ConfigError(
                f"CLOUD_RUN_TASK_* must be integers: {err}", reason="bad_task_env"
            ) from err
        if not 0 <= ctx.index < ctx.count:
            raise ConfigError(
                f"CLOUD_RUN_TASK_INDEX={ctx.index} is outside 0..{ctx.count - 1}",
                reason="bad_task_env",
            )
        return ctx


def shard(dates: Sequence[date], index: int, count: int) -> list[date]:
    """The dates task `index` of `count` processes: every date goes to exactly one task.

    Dates are sorted and dealt round-robin so neighbouring days spread across tasks.
    """
    if count < 1 or not 0 <= index < count:
        raise ValueError(f"task index {index} is outside 0..{count - 1}")
    ordered = sorted(set(dates))
    return ordered[index::count]
