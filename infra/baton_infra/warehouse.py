"""The BigQuery warehouse: one dataset, and for every registered dataset its day-partitioned
table and its marts, with schemas generated from the data contracts (never written twice)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from baton.contract import Column, bigquery_fields
from baton.dataset import Dataset, Destination


@dataclass(frozen=True)
class TableSpec:
    """One warehouse table as BigQuery sees it."""

    dataset: str
    """The registered dataset the table belongs to."""
    destination: Destination
    columns: tuple[Column, ...]

    @property
    def schema_json(self) -> str:
        """The table schema, from the contract."""
        return json.dumps(bigquery_fields(self.columns))


def table_specs(registry: Mapping[str, Dataset]) -> list[TableSpec]:
    """Every table the registered datasets load: each main table and each mart."""
    specs = []
    for name, dataset in sorted(registry.items()):
        specs.append(TableSpec(name, dataset.destination, dataset.contract.warehouse_columns()))
        specs.extend(TableSpec(name, mart.destination, mart.columns) for mart in dataset.marts)
    tables = [s.destination.table for s in specs]
    duplicates = sorted({t for t in tables if tables.count(t) > 1})
    if duplicates:
        raise ValueError(f"registered datasets load the same table(s) {duplicates}")
    return specs


@dataclass(frozen=True)
class WarehouseArgs:
    """Where the warehouse lives and what it holds."""

    project: str
    dataset_id: str
    location: str
    tables: Sequence[TableSpec]
    protect_data: bool


class Warehouse(pulumi.ComponentResource):
    """The dataset and its tables; `deletion_protection` guards the loaded history."""

    def __init__(
        self, name: str, args: WarehouseArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("baton:infra:Warehouse", name, None, opts)
        self.dataset = gcp.bigquery.Dataset(
            f"{name}-dataset",
            project=args.project,
            dataset_id=args.dataset_id,
            location=args.location,
            description="baton: validated partitions and marts, loaded one day at a time",
            # A protected stack cannot drop tables with their data by destroying the dataset.
            delete_contents_on_destroy=not args.protect_data,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.tables = {
            spec.destination.table: gcp.bigquery.Table(
                f"{name}-{spec.destination.table}",
                project=args.project,
                dataset_id=self.dataset.dataset_id,
                table_id=spec.destination.table,
                description=f"baton dataset {spec.dataset}",
                schema=spec.schema_json,
                time_partitioning={"type": "DAY", "field": spec.destination.partition_column},
                clusterings=list(spec.destination.clustering) or None,
                deletion_protection=args.protect_data,
                opts=pulumi.ResourceOptions(parent=self),
            )
            for spec in args.tables
        }
        self.register_outputs(
            {
                "dataset": self.dataset.dataset_id,
                "tables": {t: table.table_id for t, table in self.tables.items()},
            }
        )
