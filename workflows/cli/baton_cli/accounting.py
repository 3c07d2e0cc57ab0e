"""Row accounting per partition, from the same observation of the lake `baton status` reads:
landed (extract's rows in) == loaded (load's rows out) + quarantined (by every step)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from baton import datasets
from baton.manifest import Manifest
from baton.storage import Storage
from baton_cli.status import observe

QUARANTINING_STEPS = ("extract", "transform", "validate")


@dataclass(frozen=True)
class Ledger:
    """One partition's row accounting (None where a step has not committed)."""

    day: date
    landed: int | None
    loaded: int | None
    quarantined: int

    @property
    def balanced(self) -> bool | None:
        """Whether every landed row was loaded or quarantined (None until load commits)."""
        if self.landed is None or self.loaded is None:
            return None
        return self.landed == self.loaded + self.quarantined


def ledger_of(day: date, manifests: Mapping[str, tuple[Manifest, str]]) -> Ledger:
    """The accounting of one partition from its committed manifests (step -> (manifest, digest))."""
    committed = {step: found[0] for step, found in manifests.items()}
    extract, load = committed.get("extract"), committed.get("load")
    return Ledger(
        day,
        extract.rows_in if extract else None,
        load.rows_out if load else None,
        sum(committed[s].rows_quarantined for s in QUARANTINING_STEPS if s in committed),
    )


def ledger(storage: Storage, dataset: str, days: Iterable[date]) -> list[Ledger]:
    """The accounting of each partition in `days` of the dataset called `dataset`."""
    known = datasets.get(dataset)
    return [ledger_of(day, observe(storage, known, day).manifests) for day in days]
