"""The lake bucket is hardened, and the warehouse tables are generated from the contracts."""

from __future__ import annotations

import json

import pytest

from baton import datasets
from baton.contract import bigquery_fields

BUCKET = "gcp:storage/bucket:Bucket"
TABLE = "gcp:bigquery/table:Table"


def _tables():
    for dataset in datasets.registry().values():
        yield dataset.destination, dataset.contract.warehouse_columns()
        for mart in dataset.marts:
            yield mart.destination, mart.columns


TABLES = list(_tables())


def _bucket(full):
    return full.one(BUCKET, "lake-bucket").inputs


def test_the_lake_bucket_has_uniform_access_and_enforced_public_access_prevention(full):
    bucket = _bucket(full)
    assert bucket["uniformBucketLevelAccess"] is True
    assert bucket["publicAccessPrevention"] == "enforced"


def test_quarantined_rows_are_deleted_after_their_retention(full):
    rules = _bucket(full)["lifecycleRules"]
    assert {
        "action": {"type": "Delete"},
        "condition": {"age": 90, "matchesPrefixes": ["quarantine/"]},
    } in rules


def test_superseded_versions_and_abandoned_uploads_are_cleaned_up(full):
    bucket = _bucket(full)
    assert bucket["versioning"] == {"enabled": True}
    conditions = {r["action"]["type"]: r["condition"] for r in bucket["lifecycleRules"]}
    assert conditions["AbortIncompleteMultipartUpload"] == {"age": 1}
    noncurrent = [
        r["condition"]
        for r in bucket["lifecycleRules"]
        if r["condition"].get("withState") == "ARCHIVED"
    ]
    assert noncurrent == [{"daysSinceNoncurrentTime": 7, "withState": "ARCHIVED"}]


def test_a_protected_lake_is_never_force_destroyed(full):
    assert _bucket(full)["forceDestroy"] is False


@pytest.mark.parametrize("dest,columns", TABLES, ids=[d.table for d, _ in TABLES])
def test_each_table_schema_is_the_contract(full, dest, columns):
    table = full.one(TABLE, f"warehouse-{dest.table}").inputs
    assert json.loads(table["schema"]) == bigquery_fields(columns)


@pytest.mark.parametrize("dest,columns", TABLES, ids=[d.table for d, _ in TABLES])
def test_each_table_is_day_partitioned_and_clustered_as_its_destination_says(full, dest, columns):
    table = full.one(TABLE, f"warehouse-{dest.table}").inputs
    assert table["timePartitioning"] == {"type": "DAY", "field": dest.partition_column}
    assert table.get("clusterings", []) == list(dest.clustering)
    assert table["deletionProtection"] is True


def test_every_registered_table_and_mart_is_provisioned_once(full):
    ids = sorted(r.inputs["tableId"] for r in full.of_type(TABLE))
    assert ids == sorted(d.table for d, _ in TABLES)
    assert "flights" in ids
    assert "carrier_daily_performance" in ids


@pytest.mark.parametrize(
    "type_,setting",
    [
        ("gcp:storage/bucket:Bucket", "forceDestroy"),
        ("gcp:bigquery/dataset:Dataset", "deleteContentsOnDestroy"),
        ("gcp:bigquery/table:Table", "deletionProtection"),
        ("gcp:cloudrunv2/job:Job", "deletionProtection"),
        ("gcp:workflows/workflow:Workflow", "deletionProtection"),
        ("gcp:projects/service:Service", "disableOnDestroy"),
    ],
)
def test_what_destroy_may_delete_is_set_explicitly_never_left_to_defaults(full, type_, setting):
    resources = full.of_type(type_)
    assert resources
    assert all(isinstance(r.inputs.get(setting), bool) for r in resources)
