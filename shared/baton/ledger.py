"""Row accounting per partition, read from the manifests alone: landed = loaded + quarantined."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from baton.lake import STEPS, manifest_key
from baton.manifest import Manifest, read_manifest
from baton.storage import Storage


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


def committed(storage: Storage, dataset: str, day: date) -> dict[str, Manifest]:
    """The committed manifest of every step that has one for this partition."""
    found = {}
    for step in STEPS:
        hit = read_manifest(storage, manifest_key(step, dataset, day))
        if hit is not None:
            found[step] = hit[0]
    return found


def ledger(storage: Storage, dataset: str, days: Iterable[date]) -> list[Ledger]:
    """The accounting of each partition in `days`."""
    rows = []
    for day in days:
        m = committed(storage, dataset, day)
        extract, load = m.get("extract"), m.get("load")
        quarantined = sum(
            m[s].rows_quarantined for s in ("extract", "transform", "validate") if s in m
        )
        rows.append(
            Ledger(
                day,
                extract.rows_in if extract else None,
                load.rows_out if load else None,
                quarantined,
            )
        )
    return rows
