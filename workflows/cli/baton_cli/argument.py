"""The pipeline's execution argument as one typed value: which dates (one, a range or a list),
steps, force, mode, concurrency and dataset. Run, backfill, rerun, the planner and the follower
build and read it here; `to_json`/`from_json` are the one mapping to the YAML's argument keys."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal

from baton.dates import days_between
from baton.lake import STEPS, parse_date

DateForm = Literal["date", "range", "list"]


@dataclass(frozen=True)
class PipelineArgument:
    """What one execution of `workflows/pipeline.workflows.yaml` is asked to do."""

    dates: tuple[date, ...]
    steps: tuple[str, ...] | None = None  # None: every step (the key is left out)
    force: bool = False
    mode: str | None = None  # per_partition | batched; None: the YAML's default
    concurrency: int | None = None
    dataset: str | None = None
    # How the dates are written: `date`, `start`+`end` or a `dates` list. None picks the
    # shortest that says it. The YAML's step count differs by form, so the planner fixes it.
    form: DateForm | None = None

    def __post_init__(self) -> None:
        if not self.dates:
            raise ValueError("a pipeline argument needs at least one date")
        unknown = [s for s in self.steps or () if s not in STEPS]
        if unknown:
            raise ValueError(f"unknown step(s) {unknown}; steps are {', '.join(STEPS)}")

    @property
    def ordered_steps(self) -> tuple[str, ...]:
        """The asked steps in DAG order."""
        return STEPS if self.steps is None else tuple(s for s in STEPS if s in self.steps)

    def to_json(self) -> dict[str, Any]:
        """The argument as the YAML reads it: `date`, `start`+`end` for a contiguous range, or
        `dates`; the other keys only where they were given."""
        out: dict[str, Any]
        form = self.form or (
            "date" if len(self.dates) == 1 else "range" if contiguous(self.dates) else "list"
        )
        if form == "date" and len(self.dates) == 1:
            out = {"date": self.dates[0].isoformat()}
        elif form == "range" and contiguous(self.dates):
            out = {"start": self.dates[0].isoformat(), "end": self.dates[-1].isoformat()}
        else:
            out = {"dates": [d.isoformat() for d in self.dates]}
        if self.steps is not None:
            out["steps"] = list(self.steps)
        if self.force:
            out["force"] = True
        for key in ("mode", "concurrency", "dataset"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out

    @classmethod
    def from_json(cls, argument: Mapping[str, Any]) -> PipelineArgument:
        """Read back an argument any baton verb (or a user, or the scheduler) started with."""
        if argument.get("dates"):
            dates, form = tuple(parse_date(d) for d in argument["dates"]), "list"
        elif argument.get("date"):
            dates, form = (parse_date(argument["date"]),), "date"
        else:
            start, end = parse_date(argument["start"]), parse_date(argument["end"])
            dates, form = tuple(days_between(start, end)), "range"
        return cls(
            dates=dates,
            steps=tuple(argument["steps"]) if argument.get("steps") else None,
            force=bool(argument.get("force", False)),
            mode=argument.get("mode"),
            concurrency=argument.get("concurrency"),
            dataset=argument.get("dataset"),
            form=form,
        )


def contiguous(dates: Sequence[date]) -> bool:
    """Whether `dates` are two or more consecutive days in order (a `start`+`end` range)."""
    return (
        len(dates) > 1
        and all((b - a) == timedelta(days=1) for a, b in itertools.pairwise(dates))
        and list(dates) == sorted(dates)
    )
