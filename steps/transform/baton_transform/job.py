"""Transform's I/O sequence: read the raw commit and references, transform, write."""

from __future__ import annotations

from baton.contract import PartitionContext
from baton.errors import ConfigError
from baton.manifest import Manifest
from baton.parquet import write_parquet
from baton.references import ReferenceCache, load_references
from baton.step import Output, Partition, StepPlan, read_upstream
from baton_transform.core import conform


class Transform:
    """Raw -> staged: one pass, every row written once.

    Rows whose key repeats an earlier row's stay in the staged file: validate's `key_unique`
    rule quarantines them, from the one uniqueness pass the partition needs (a second pass
    here would rewrite the staged file on every day with a repeat).
    """

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
        (written,) = write_parquet(part.storage, [(staged, part.data_key())])
        return Output(
            files=[written],
            rows_in=raw.rows_out,
            rows_out=written.rows,
            schema={name: str(dtype) for name, dtype in schema.items()},
        )


STEP = Transform()
