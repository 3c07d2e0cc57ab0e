"""Extract's I/O sequence: ask the source for the partition, check the columns, parse, write raw."""

from __future__ import annotations

import contextlib
import os

import polars as pl

from baton.errors import BatonError, DataError
from baton.lake import manifest_key
from baton.manifest import InputRef, Manifest, read_manifest
from baton.parquet import reason_counts, schema_of, write_with_quarantine
from baton.sources.files import first_line
from baton.sources.landing import MALFORMED, Base, Landing, LandingPart, ReadContext
from baton.step import Output, Partition, StepPlan
from baton_extract.core import REASONS, header_problems, parse


class Extract:
    """Source -> raw."""

    name = "extract"

    def plan(self, part: Partition) -> StepPlan:
        source = part.dataset.source
        # A source that must ask the live system what the partition holds now (an incremental
        # database read) snapshots it; the others fingerprint their inputs without reading.
        snapshot = getattr(source, "snapshot", None)
        ctx = ReadContext(
            storage=part.storage,
            dataset=part.dataset.name,
            day=part.day,
            # Credentials and endpoints are read at run time, never at import.
            environ=os.environ,
            spool_prefix=part.data_key().removesuffix(".parquet") + "-spool",
            committed=_committed(part) if callable(snapshot) else None,
        )
        inputs = (
            snapshot(ctx)
            if callable(snapshot)
            else source.inputs(part.storage, part.dataset.name, part.day)
        )
        return StepPlan(inputs, lambda: self._execute(part, ctx, inputs))

    def _execute(self, part: Partition, ctx: ReadContext, inputs: list[InputRef]) -> Output:
        source = part.dataset.source
        landing = source.open(ctx, inputs)
        try:
            return self._write(part, landing)
        finally:
            for key in landing.spooled:
                with contextlib.suppress(Exception):
                    part.storage.delete(key)

    def _write(self, part: Partition, landing: Landing) -> Output:
        source = part.dataset.source
        if landing.typed:
            good = pl.concat([_columns(p, source.schema, typed=True) for p in landing.parts])
            bad = pl.LazyFrame(
                schema={**dict.fromkeys(source.schema, pl.String()), REASONS: pl.List(pl.String())}
            )
            good = changes = good.select(list(source.schema))
        else:
            changes = pl.concat(
                [_columns(p, source.schema) for p in landing.parts], how="diagonal_relaxed"
            )
            good, bad = parse(changes, source.schema, source.parse_options)
        kept = 0
        if landing.base is not None:
            good, bad, kept = _merge(landing.base, changes, (good, bad), list(source.schema))
        out_key = part.data_key()
        try:
            written, quarantine = write_with_quarantine(
                part.storage, (good, out_key), (bad, part.quarantine_key())
            )
        except pl.exceptions.PolarsError as err:
            raise DataError(
                f"landing data {landing.describe} cannot be parsed: {first_line(err)}",
                reason="unreadable_input",
            ) from err
        rejected = sum(q.rows for q in quarantine)
        rows_in = written.rows + rejected
        fetched = rows_in - kept  # what the source sent, the committed rows kept aside
        new_files = [out_key, *(q.key for q in quarantine)]
        if landing.expected_rows is not None and fetched != landing.expected_rows:
            _discard(part, new_files)
            raise BatonError(
                f"extract {part.dataset.name} {part.day}: the source sent {landing.expected_rows} "
                f"rows but {fetched} were written ({landing.describe})",
                reason="source_count_mismatch",
            )
        if rows_in == 0 and not source.allow_empty:
            _discard(part, [out_key])
            raise DataError(
                f"{landing.describe} has {_header_but(landing)}no rows for {part.day}; if this "
                f"partition is legitimately empty, set allow_empty on the {part.dataset.name} source",
                reason="empty_input",
            )
        return Output(
            files=[written],
            rows_in=rows_in,
            rows_out=written.rows,
            quarantine=quarantine,
            rows_quarantined=rejected,
            quarantine_reasons=reason_counts(part.storage, quarantine),
            schema=schema_of(good),
            extra=landing.extra,
        )


def _merge(
    base: Base,
    changes: pl.LazyFrame,
    parsed: tuple[pl.LazyFrame, pl.LazyFrame],
    columns: list[str],
) -> tuple[pl.LazyFrame, pl.LazyFrame, int]:
    """An incremental read's (good, bad) rows merged into the commit's loaded and quarantined
    rows (a changed row's committed version, loaded or quarantined, gives way to the new one),
    and how many committed rows were kept: each row is counted once, where it is now."""
    good, bad = parsed
    loaded, quarantined = base.unchanged(changes)
    kept = 0
    if loaded is not None:
        loaded = loaded.select(columns)
        kept += int(loaded.select(pl.len()).collect().item())
        good = pl.concat([loaded, good])
    if quarantined is not None:
        kept += int(quarantined.select(pl.len()).collect().item())
        bad = pl.concat([bad, quarantined], how="diagonal_relaxed")
    return good, bad, kept


def _committed(part: Partition) -> Manifest | None:
    """The partition's current commit, for a source that merges into it. A corrupt one reads as
    none: the commit protocol has already refused it unless forced, and forced means redo."""
    try:
        found = read_manifest(part.storage, manifest_key(part.step, part.dataset.name, part.day))
    except DataError:
        return None
    return found[0] if found else None


def _columns(part: LandingPart, schema: dict, *, typed: bool = False) -> pl.LazyFrame:
    """One landing part's declared columns (and the malformed marker), its header checked."""
    if part.columns is not None:
        problems = header_problems(part.columns, list(schema))
        if problems:
            raise DataError(f"landing file {part.uri}: {'; '.join(problems)}", reason="bad_header")
    if typed:
        return part.frame.select(list(schema))
    names = part.frame.clone().collect_schema().names()
    keep = [*schema, MALFORMED] if MALFORMED in names else list(schema)
    return part.frame.select(keep)


def _header_but(landing: Landing) -> str:
    return "a header but " if any(p.columns for p in landing.parts) else ""


def _discard(part: Partition, keys: list[str]) -> None:
    for key in keys:
        part.storage.delete(key)


STEP = Extract()
