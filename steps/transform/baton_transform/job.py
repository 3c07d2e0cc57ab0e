"""Transform's I/O sequence: read the raw commit and references, transform, dedupe, write."""

from __future__ import annotations

from baton.contract import PartitionContext
from baton.errors import ConfigError
from baton.lake import data_key, quarantine_key
from baton.manifest import Manifest
from baton.parquet import schema_of, write_parquet
from baton.references import load_references
from baton.step import Output, Partition, Plan, read_upstream
from baton_transform.core import DUPLICATE_KEY, conform, split_repeats


class Transform:
    """Raw -> staged."""

    name = "transform"

    def plan(self, part: Partition) -> Plan:
        raw, raw_ref = read_upstream(part)
        refs, ref_inputs = load_references(part.storage, part.dataset)
        return Plan([raw_ref, *ref_inputs], lambda: self._execute(part, raw, refs))

    def _execute(self, part: Partition, raw: Manifest, refs: dict) -> Output:
        dataset = part.dataset
        source = part.storage.scan_parquet([f.key for f in raw.files])
        staged, problems = conform(
            dataset.transform(source, PartitionContext(part.day, refs)), dataset.contract
        )
        if problems:
            raise ConfigError(
                f"dataset {dataset.name}: its transform does not produce the contract's columns: "
                + "; ".join(problems),
                reason="transform_contract_mismatch",
            )
        first, later = split_repeats(staged, dataset.key)
        outputs = [(first, data_key("transform", dataset.name, part.day, part.run_id))]
        if later is not None:
            outputs.append(
                (later, quarantine_key("transform", dataset.name, part.day, part.run_id))
            )
        written, *rejected = write_parquet(part.storage, outputs)
        dropped = sum(f.rows for f in rejected)
        return Output(
            files=[written],
            rows_in=raw.rows_out,
            rows_out=written.rows,
            quarantine=rejected,
            rows_quarantined=dropped,
            quarantine_reasons={DUPLICATE_KEY: dropped} if dropped else {},
            schema=schema_of(first),
        )


STEP = Transform()
