"""Reading a dataset's small reference tables (airlines, airports) whole, with their digests."""

from __future__ import annotations

import polars as pl

from baton.dataset import Dataset, Reference
from baton.errors import DataError
from baton.manifest import InputRef
from baton.storage import Storage


def _read(storage: Storage, name: str, ref: Reference) -> pl.DataFrame:
    try:
        frame = storage.scan_csv(
            ref.path, schema_overrides=dict(ref.schema), null_values=list(ref.null_values)
        ).collect()
    except (pl.exceptions.ComputeError, pl.exceptions.NoDataError) as err:
        raise DataError(
            f"reference table {name} ({storage.uri(ref.path)}) is unreadable: {err}",
            reason="bad_reference",
        ) from err
    missing = [c for c in ref.schema if c not in frame.columns]
    if missing:
        raise DataError(
            f"reference table {name} ({storage.uri(ref.path)}) lacks column(s) {missing}",
            reason="bad_reference",
        )
    frame = frame.select(list(ref.schema))
    if ref.supplement:
        extra = pl.DataFrame(list(ref.supplement), schema_overrides=dict(ref.schema), strict=False)
        frame = pl.concat([frame, extra], how="diagonal_relaxed").select(list(ref.schema))
    return frame


class ReferenceCache:
    """The reference tables one task has read, kept for its next dates.

    A table is parsed again only when its digest (looked up for every date: it is a step
    input) or its definition changed; parsing the two flights tables costs 4-6 ms a date,
    as much as a small day's validation. One entry per object, so it holds one copy of each.
    """

    def __init__(self) -> None:
        self._held: dict[str, tuple[str, Reference, pl.DataFrame]] = {}

    def frame(self, storage: Storage, name: str, ref: Reference, digest: str) -> pl.DataFrame:
        """Reference `name` as of `digest`: the frame read before, or read now."""
        uri = storage.uri(ref.path)
        held = self._held.get(uri)
        if held is not None and held[0] == digest and held[1] is ref:
            return held[2]
        frame = _read(storage, name, ref)
        self._held[uri] = (digest, ref, frame)
        return frame


def load_references(
    storage: Storage, dataset: Dataset, cache: ReferenceCache | None = None
) -> tuple[dict[str, pl.DataFrame], list[InputRef]]:
    """Every reference table of `dataset` and the digests that make them step inputs (with a
    `cache`, a table unchanged since the task's last date is not read again)."""
    frames: dict[str, pl.DataFrame] = {}
    inputs: list[InputRef] = []
    for name, ref in sorted(dataset.references.items()):
        info = storage.stat(ref.path)
        if info is None:
            raise DataError(
                f"reference table {name} is missing at {storage.uri(ref.path)}; land it first "
                "(the demo: `baton seed`)",
                reason="missing_reference",
            )
        frames[name] = (
            _read(storage, name, ref)
            if cache is None
            else cache.frame(storage, name, ref, info.digest)
        )
        inputs.append(InputRef(key=ref.path, digest=info.digest))
    return frames, inputs
