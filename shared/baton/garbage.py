"""Garbage in the lake: files that killed or superseded attempts left behind (data, quarantine,
interrupted temporaries) that no committed manifest and no latest attempt record names, and that
are older than a window - found from listings and manifests alone, never by reading data.

One source of truth for what is garbage: `baton gc` (the operator's CLI) and the scheduled gc
job on Cloud Run (`python -m baton_transform gc`, deployed by infra) both call `sweep`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

from baton.errors import ConfigError, DataError
from baton.jobs import load_jobs
from baton.lake import ATTEMPT, MANIFEST, OUTPUT_ZONE, QUARANTINE, STEPS, attempt_key, manifest_key
from baton.manifest import read_attempt, read_manifest
from baton.storage import Storage

ZONES = (*OUTPUT_ZONE.values(), QUARANTINE)
"""Where steps write attempt files; landing objects are the sources' and never garbage."""

_PARTITION = re.compile(r"^[^/]+/[^/]+/dt=(\d{4}-\d{2}-\d{2})/")
_WINDOW = re.compile(r"(\d+(?:\.\d+)?)([smhd])")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}
DEFAULT_WINDOW = "1d"


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


def sweep(
    storage: Storage, dataset: str, *, older_than_s: float, now: float, delete: bool
) -> Sweep:
    """Find the garbage of `dataset` and, with `delete`, delete it (files deleted one by one,
    each only after the whole partition's manifests were read)."""
    found = find_garbage(storage, dataset, older_than_s=older_than_s, now=now)
    if delete:
        for item in found.garbage:
            storage.delete(item.key)
    return found


def parse_window(text: str) -> float:
    """`1d`, `12h`, `30m`, `90s` -> seconds; ConfigError (`gc_window_invalid`) otherwise."""
    match = _WINDOW.fullmatch(text.strip())
    if match is None:
        raise ConfigError(
            f"--older-than {text!r} is not a duration: write it like 1d, 12h, 30m or 90s",
            reason="gc_window_invalid",
        )
    return float(match.group(1)) * _UNIT_S[match.group(2)]


def longest_attempt_s() -> float:
    """The longest a file can stay unnamed while its attempt still runs: an attempt names its
    files in its manifest before it ends, and no attempt outlives its job's task timeout."""
    return float(max(job.timeout_s for job in load_jobs()))


def checked_window(text: str) -> float:
    """The window `text` names, in seconds; ConfigError (`gc_window_too_short`) when it is
    shorter than a step attempt can run, since an attempt still writing would lose its files."""
    window, floor = parse_window(text), longest_attempt_s()
    if window < floor:
        raise ConfigError(
            f"--older-than {text} is shorter than the longest a step attempt can run "
            f"({floor:.0f} s: the longest job task timeout); an attempt still writing could lose "
            "its files. Use a longer window",
            reason="gc_window_too_short",
        )
    return window


def human(size: int) -> str:
    """A byte count as people read it: `1230 bytes`, `1.2 KiB`, `3.4 MiB`."""
    value = float(size)
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{size} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} bytes"
