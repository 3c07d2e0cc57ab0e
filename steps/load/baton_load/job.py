"""Load's I/O sequence: replace the table partition, then rebuild and replace each mart's."""

from __future__ import annotations

from baton.lake import mart_key
from baton.manifest import FileEntry, Manifest
from baton.parquet import write_parquet
from baton.step import Output, Partition, StepPlan, read_upstream
from baton.warehouse import TableSpec, open_warehouse
from baton_load.core import build_mart


class Load:
    """Validated -> warehouse."""

    name = "load"

    def plan(self, part: Partition) -> StepPlan:
        validated, ref = read_upstream(part)
        return StepPlan([ref], lambda: self._execute(part, validated), reads=[validated])

    def _execute(self, part: Partition, validated: Manifest) -> Output:
        dataset = part.dataset
        warehouse = open_warehouse(part.settings, part.storage, part.run_id)
        keys = [f.key for f in validated.files]
        table = TableSpec.of_dataset(dataset)
        loaded = warehouse.replace_partition(table, part.day, keys, validated.rows_out)
        tables: dict[str, int] = {table.name: loaded}
        mart_files: list[FileEntry] = []
        for mart in dataset.marts:
            key = mart_key(dataset.name, part.day, mart.destination.table, part.run_id)
            (entry,) = write_parquet(
                part.storage, [(build_mart(mart, part.storage.scan_parquet(keys)), key)]
            )
            spec = TableSpec.of_mart(mart)
            tables[spec.name] = warehouse.replace_partition(spec, part.day, [key], entry.rows)
            mart_files.append(entry)
        return Output(
            files=mart_files,
            rows_in=validated.rows_out,
            rows_out=loaded,
            schema={c.name: str(c.dtype) for c in table.columns},
            extra={"warehouse": warehouse.describe(), "tables": tables},
        )


STEP = Load()
