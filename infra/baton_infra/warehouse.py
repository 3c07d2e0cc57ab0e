"""The BigQuery warehouse: one dataset, and for every registered dataset its day-partitioned
table and its marts, with schemas generated from the data contracts (never written twice)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from baton.contract import bigquery_fields
from baton.dataset import Dataset
from baton.warehouse import TableSpec


def table_specs(registry: Mapping[str, Dataset]) -> list[tuple[str, TableSpec]]:
    """Every table the registered datasets load, each main table and each mart, with the name
    of the dataset it belongs to."""
    specs = []
    for name, dataset in sorted(registry.items()):
        specs.append((name, TableSpec.of_dataset(dataset)))
        specs.extend((name, TableSpec.of_mart(mart)) for mart in dataset.marts)
    tables = [spec.name for _, spec in specs]
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
    tables: Sequence[tuple[str, TableSpec]]
    """(registered dataset, table) pairs, as `table_specs` lists them."""
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
            spec.name: gcp.bigquery.Table(
                f"{name}-{spec.name}",
                project=args.project,
                dataset_id=self.dataset.dataset_id,
                table_id=spec.name,
                description=f"baton dataset {dataset}",
                schema=json.dumps(bigquery_fields(spec.columns)),
                time_partitioning={"type": "DAY", "field": spec.destination.partition_column},
                clusterings=list(spec.destination.clustering) or None,
                deletion_protection=args.protect_data,
                opts=pulumi.ResourceOptions(parent=self),
            )
            for dataset, spec in args.tables
        }
        self.register_outputs(
            {
                "dataset": self.dataset.dataset_id,
                "tables": {t: table.table_id for t, table in self.tables.items()},
            }
        )
