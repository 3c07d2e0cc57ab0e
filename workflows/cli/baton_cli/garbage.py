"""Garbage in the lake: files that killed or superseded attempts left behind (data, quarantine,
interrupted temporaries) that no committed manifest and no latest attempt record names, and that
are older than a window - found from listings and manifests alone, never by reading data."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

from baton.errors import DataError
from baton.lake import ATTEMPT, MANIFEST, OUTPUT_ZONE, QUARANTINE, STEPS, attempt_key, manifest_key
from baton.manifest import read_attempt, read_manifest
from baton.storage import Storage

ZONES = (*OUTPUT_ZONE.values(), QUARANTINE)
"""Where steps write attempt files; landing objects are the sources' and never garbage."""

_PARTITION = re.compile(r"^[^/]+/[^/]+/dt=(\d{4}-\d{2}-\d{2})/")


@dataclass(frozen=True)
class Garbage:
    """One object no commit names."""

    key: str
    size: int
    age_s: float


@dataclass
class Sweep:
    """What a pass over one dataset found."""

    garbage: list[Garbage] = field(default_factory=list)
    young: int = 0  # unnamed but inside the window: an attempt may still be writing them
    unreadable: list[str] = field(default_factory=list)  # partitions left alone, and why

    @property
    def bytes(self) -> int:
        """Bytes the garbage holds."""
        return sum(g.size for g in self.garbage)


def _named(storage: Storage, dataset: str, day: date) -> set[str]:
    """Every key a committed manifest or a latest attempt record of the partition names.
    Raises DataError when a manifest cannot be read (then nothing there may be judged)."""
    named: set[str] = set()
    for step in STEPS:
        found = read_manifest(storage, manifest_key(step, dataset, day))
        if found is not None:
            named |= {e.key for e in (*found[0].files, *found[0].quarantine)}
        record = read_attempt(storage, attempt_key(step, dataset, day))
        if record is not None:  # the rejects of the latest failure stay inspectable
            named |= {e.key for e in record.quarantine}
    return named


def by_partition(keys: Iterable[str]) -> dict[date, list[str]]:
    """Attempt-file keys grouped by partition date (keys outside a `dt=` folder, manifests
    and attempt records are left out)."""
    grouped: dict[date, list[str]] = {}
    for key in keys:
        match = _PARTITION.match(key)
        if match is None or key.rsplit("/", 1)[-1] in (MANIFEST, ATTEMPT):
            continue
        try:
            day = date.fromisoformat(match.group(1))
        except ValueError:
            continue
        grouped.setdefault(day, []).append(key)
    return grouped


def judge(
    keys: Iterable[str],
    named: set[str],
    listing: Mapping[str, tuple[int, float]],
    older_than_s: float,
    now: float,
    sweep: Sweep,
) -> None:
    """Add to `sweep` every unnamed key older than the window (younger ones are counted)."""
    for key in sorted(keys):
        if key in named:
            continue
        size, modified = listing[key]
        if now - modified < older_than_s:
            sweep.young += 1
        else:
            sweep.garbage.append(Garbage(key, size, now - modified))


def find_garbage(storage: Storage, dataset: str, *, older_than_s: float, now: float) -> Sweep:
    """The garbage of `dataset`: one listing per zone, then each partition's manifests."""
    listing: dict[str, tuple[int, float]] = {}
    for zone in ZONES:
        listing |= storage.listing(f"{zone}/{dataset}/")
    sweep = Sweep()
    for day, keys in sorted(by_partition(listing).items()):
        try:
            named = _named(storage, dataset, day)
        except DataError as err:
            sweep.unreadable.append(f"{day}: {err.message}")
            continue
        judge(keys, named, listing, older_than_s, now, sweep)
    return sweep
