"""The warehouse behind one interface: replace one partition of a table from lake Parquet.

DuckDB (`$BATON_HOME/warehouse.duckdb`, the local default) or BigQuery (load jobs into
`table$YYYYMMDD` with WRITE_TRUNCATE). Both load only from Parquet the lake already holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from baton.config import Settings
from baton.contract import Column
from baton.dataset import Dataset, Destination, Mart
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

    def close(self) -> None:
        """Release what the warehouse holds open (a load task calls it after its last date)."""
        ...


def open_warehouse(settings: Settings, storage: Storage, run_id: str) -> Warehouse:
    """The configured warehouse (`BATON_WAREHOUSE=duckdb|bigquery`)."""
    if settings.warehouse == "bigquery":
        from baton.warehouse.bigquery_warehouse import BigQueryWarehouse

        return BigQueryWarehouse.from_settings(settings, storage, run_id)
    from baton.warehouse.duckdb_warehouse import DuckDBWarehouse

    return DuckDBWarehouse(settings.duckdb_file, storage)
