"""Transform's I/O sequence: read the raw commit and references, transform, dedupe, write."""

from __future__ import annotations

from baton.contract import PartitionContext
from baton.errors import ConfigError
from baton.manifest import FileEntry, Manifest
from baton.parquet import detach_strings, write_parquet
from baton.references import ReferenceCache, load_references
from baton.step import Output, Partition, StepPlan, read_upstream
from baton_transform.core import DUPLICATE_KEY, conform, split_repeats


class Transform:
    """Raw -> staged."""

    name = "transform"

    def __init__(self) -> None:
        # A task's dates share the reference tables while they are unchanged.
        self._references = ReferenceCache()

    def plan(self, part: Partition) -> StepPlan:
        raw, raw_ref = read_upstream(part)
        refs, ref_inputs = load_references(part.storage, part.dataset, self._references)
        return StepPlan([raw_ref, *ref_inputs], lambda: self._execute(part, raw, refs), reads=[raw])

    def _execute(self, part: Partition, raw: Manifest, refs: dict) -> Output:
        dataset = part.dataset
        source = part.storage.scan_parquet([f.key for f in raw.files])
        staged, schema, problems = conform(
            dataset.transform(source, PartitionContext(part.day, refs)), dataset.contract
        )
        if problems:
            raise ConfigError(
                f"dataset {dataset.name}: its transform does not produce the contract's columns: "
                + "; ".join(problems),
                reason="transform_contract_mismatch",
            )
        # One pass writes every staged row; the repeats are then found from the written file
        # (its order is fixed, and hashing four key columns of Parquet is far cheaper than
        # re-running the transform), and only a partition that has some is rewritten.
        (everything,) = write_parquet(part.storage, [(staged, part.data_key())])
        written, rejected = self._drop_repeats(part, everything)
        dropped = sum(f.rows for f in rejected)
        return Output(
            files=[written],
            rows_in=raw.rows_out,
            rows_out=written.rows,
            quarantine=rejected,
            rows_quarantined=dropped,
            quarantine_reasons={DUPLICATE_KEY: dropped} if dropped else {},
            schema={name: str(dtype) for name, dtype in schema.items()},
        )

    def _drop_repeats(
        self, part: Partition, everything: FileEntry
    ) -> tuple[FileEntry, list[FileEntry]]:
        """`everything` split into its first row per key and (to quarantine) the later rows;
        unchanged when no key repeats."""
        first, later = split_repeats(part.storage.scan_parquet([everything.key]), part.dataset.key)
        if later is None:
            return everything, []
        # Two runs, not one with two sinks: a second read of the staged file costs less than
        # the memory two pipelines over one scan hold.
        (written,) = write_parquet(part.storage, [(first, part.data_key(part=1))])
        (rejected,) = write_parquet(part.storage, [(detach_strings(later), part.quarantine_key())])
        part.storage.delete(everything.key)
        return written, [rejected]


STEP = Transform()
