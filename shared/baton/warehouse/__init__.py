"""The warehouse behind one interface: replace one partition of a table from lake Parquet.

DuckDB (`$BATON_HOME/warehouse.duckdb`, the local default) or BigQuery (load jobs into
`table$YYYYMMDD` with WRITE_TRUNCATE). Both load only from Parquet the lake already holds; both
count a partition's rows and drop a table for `baton doctor --canary`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from baton.config import Settings
from baton.contract import Column
from baton.dataset import Dataset, Destination, Mart
from baton.iam import Policy
from baton.policed_storage import PolicedStorage
from baton.storage import Storage


@dataclass(frozen=True)
class TableSpec:
    """A warehouse table: where it goes and its columns (from the contract)."""

    destination: Destination
    columns: tuple[Column, ...]

    @property
    def name(self) -> str:
        return self.destination.table

    @classmethod
    def of_dataset(cls, dataset: Dataset) -> TableSpec:
        """A dataset's main table: its destination, with the contract's warehouse columns."""
        return cls(dataset.destination, dataset.contract.warehouse_columns())

    @classmethod
    def of_mart(cls, mart: Mart) -> TableSpec:
        """One of a dataset's marts."""
        return cls(mart.destination, mart.columns)


class Warehouse(Protocol):
    """What load needs from a warehouse."""

    def replace_partition(
        self, table: TableSpec, day: date, keys: Sequence[str], expected_rows: int
    ) -> int:
        """Atomically replace partition `day` of `table` with the rows of the Parquet objects
        `keys`; return the rows now in the partition (checked against `expected_rows`)."""
        ...

    def describe(self) -> str:
        """Where the data went, for manifests and logs."""
        ...

    def partition_rows(self, table: TableSpec, day: date) -> int | None:
        """The rows partition `day` of `table` holds (None when the table does not exist)."""
        ...

    def drop_table(self, name: str) -> bool:
        """Delete table `name` if it exists (the canary's cleanup); whether it existed."""
        ...

    def close(self) -> None:
        """Release what the warehouse holds open (a load task calls it after its last date)."""
        ...


def open_warehouse(settings: Settings, storage: Storage, run_id: str) -> Warehouse:
    """The configured warehouse (`BATON_WAREHOUSE=duckdb|bigquery`); on a lake under the
    enforced IAM policy, loads are checked against it as the same caller."""
    warehouse: Warehouse
    if settings.warehouse == "bigquery":
        from baton.warehouse.bigquery_warehouse import BigQueryWarehouse

        warehouse = BigQueryWarehouse.from_settings(settings, storage, run_id)
    else:
        from baton.warehouse.duckdb_warehouse import DuckDBWarehouse

        warehouse = DuckDBWarehouse(settings.duckdb_file, storage, settings.duckdb_memory)
    if isinstance(storage, PolicedStorage):
        return PolicedWarehouse(warehouse, storage.policy, storage.who)
    return warehouse


LOAD_PERMISSIONS = (
    ("bigquery.jobs.create", "project"),
    ("bigquery.tables.create", "dataset"),
    ("bigquery.tables.update", "dataset"),
    ("bigquery.tables.updateData", "dataset"),
)
"""What a load job into `table$YYYYMMDD` with WRITE_TRUNCATE, CREATE_IF_NEEDED and
ALLOW_FIELD_ADDITION needs, and where: jobs.create on the project, the table permissions on
the dataset (https://cloud.google.com/bigquery/docs/loading-data-cloud-storage-parquet#required_permissions).
All four are required every time, whether or not the table exists yet: stricter than BigQuery
may be, never laxer. Reading the source Parquet is checked by the lake (storage.objects.get)."""


class PolicedWarehouse:
    """A warehouse whose loads are refused (PermissionDenied) when `who` may not make them."""

    def __init__(self, inner: Warehouse, policy: Policy, who: str) -> None:
        self.inner, self.policy, self.who = inner, policy, who

    def replace_partition(
        self, table: TableSpec, day: date, keys: Sequence[str], expected_rows: int
    ) -> int:
        for permission, kind in LOAD_PERMISSIONS:
            self.policy.check(self.who, permission, self.policy.deployment.resource(kind))
        return self.inner.replace_partition(table, day, keys, expected_rows)

    def describe(self) -> str:
        return self.inner.describe()

    def partition_rows(self, table: TableSpec, day: date) -> int | None:
        return self.inner.partition_rows(table, day)

    def drop_table(self, name: str) -> bool:
        return self.inner.drop_table(name)

    def close(self) -> None:
        self.inner.close()
