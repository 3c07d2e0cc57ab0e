"""Validate's I/O sequence: read the staged commit and references, judge, write both halves."""

from __future__ import annotations

from datetime import UTC, datetime

from baton.contract import PartitionContext
from baton.manifest import Manifest
from baton.parquet import peek_schema, reason_counts, schema_of, write_with_quarantine
from baton.references import ReferenceCache, load_references
from baton.step import Output, Partition, StepPlan, read_upstream
from baton.uniqueness import repeated_rows
from baton_validate.core import checks, split


class Validate:
    """Staged -> validated + quarantine."""

    name = "validate"

    def __init__(self) -> None:
        # A task's dates share the reference tables while they are unchanged.
        self._references = ReferenceCache()

    def plan(self, part: Partition) -> StepPlan:
        staged, staged_ref = read_upstream(part)
        refs, ref_inputs = load_references(part.storage, part.dataset, self._references)
        return StepPlan(
            [staged_ref, *ref_inputs], lambda: self._execute(part, staged, refs), reads=[staged]
        )

    def _execute(self, part: Partition, staged: Manifest, refs: dict) -> Output:
        dataset = part.dataset
        frame = part.storage.scan_parquet([f.key for f in staged.files])
        where = part.storage.uri(staged.files[0].key) if staged.files else "staged partition"
        dataset.contract.require_schema(peek_schema(frame), where)
        ctx = PartitionContext(part.day, refs)
        rules = checks(
            dataset.contract,
            ctx,
            dataset.destination.partition_column,
            repeated_rows(frame, dataset.key),
        )
        valid, rejected = split(frame, dataset.contract, rules, part.run_id, datetime.now(UTC))
        written, quarantine = write_with_quarantine(
            part.storage,
            (valid, part.data_key()),
            (rejected, part.quarantine_key()),
        )
        return Output(
            files=[written],
            rows_in=staged.rows_out,
            rows_out=written.rows,
            quarantine=quarantine,
            rows_quarantined=sum(q.rows for q in quarantine),
            quarantine_reasons=reason_counts(part.storage, quarantine),
            schema=schema_of(valid),
        )


STEP = Validate()
