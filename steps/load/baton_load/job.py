"""Load's I/O sequence: replace the table partition, then rebuild and replace each mart's."""

from __future__ import annotations

from baton.config import Settings
from baton.lake import mart_key
from baton.manifest import FileEntry, Manifest
from baton.parquet import write_parquet
from baton.step import Output, Partition, StepPlan, read_upstream
from baton.storage import Storage
from baton.warehouse import TableSpec, Warehouse, open_warehouse
from baton_load.core import build_mart


class Load:
    """Validated -> warehouse.

    A task's dates share one local DuckDB warehouse (its in-process instance is started once,
    the file attached per date); a BigQuery load is one job per date, its client opened per
    date (the job id carries the date's run id).
    """

    name = "load"

    def __init__(self) -> None:
        self._shared: tuple[Settings, Storage, Warehouse] | None = None

    def _warehouse(self, part: Partition) -> tuple[Warehouse, bool]:
        """The warehouse for `part`, and whether it is shared with the task's next dates."""
        if part.settings.warehouse != "duckdb":
            return open_warehouse(part.settings, part.storage, part.run_id), False
        if self._shared is not None:
            settings, storage, warehouse = self._shared
            if settings is part.settings and storage is part.storage:
                return warehouse, True
            self.close()
        warehouse = open_warehouse(part.settings, part.storage, part.run_id)
        self._shared = (part.settings, part.storage, warehouse)
        return warehouse, True

    def close(self) -> None:
        """End the warehouse the task's dates shared (once the task's dates are done)."""
        if self._shared is not None:
            self._shared[2].close()
        self._shared = None

    def plan(self, part: Partition) -> StepPlan:
        validated, ref = read_upstream(part)
        return StepPlan([ref], lambda: self._execute(part, validated), reads=[validated])

    def _execute(self, part: Partition, validated: Manifest) -> Output:
        warehouse, shared = self._warehouse(part)
        try:
            return self._load(part, validated, warehouse)
        finally:
            if not shared:
                warehouse.close()

    def _load(self, part: Partition, validated: Manifest, warehouse: Warehouse) -> Output:
        dataset = part.dataset
        keys = [f.key for f in validated.files]
        table = TableSpec.of_dataset(dataset)
        # The marts are built before the warehouse insert: polars' memory for them is freed
        # before DuckDB's is taken, so the two peaks do not add up.
        marts: list[tuple[TableSpec, FileEntry]] = []
        for mart in dataset.marts:
            key = mart_key(dataset.name, part.day, mart.destination.table, part.run_id)
            (entry,) = write_parquet(
                part.storage, [(build_mart(mart, part.storage.scan_parquet(keys)), key)]
            )
            marts.append((TableSpec.of_mart(mart), entry))
        loaded = warehouse.replace_partition(table, part.day, keys, validated.rows_out)
        tables: dict[str, int] = {table.name: loaded}
        for spec, entry in marts:
            tables[spec.name] = warehouse.replace_partition(spec, part.day, [entry.key], entry.rows)
        mart_files = [entry for _, entry in marts]
        return Output(
            files=mart_files,
            rows_in=validated.rows_out,
            rows_out=loaded,
            schema={c.name: str(c.dtype) for c in table.columns},
            extra={"warehouse": warehouse.describe(), "tables": tables},
        )


STEP = Load()
