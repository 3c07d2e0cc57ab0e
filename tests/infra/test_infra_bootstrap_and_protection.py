"""The first deploy (foundationOnly) creates what images need; a disposable stack can be torn down."""

from __future__ import annotations

import pytest
from infra_stacks import run

from baton_infra.mock_runtime import Recording

BOOTSTRAP = {
    "gcp:project": "acme-dev",
    "gcp:region": "us-central1",
    "baton:protectData": "false",
    "baton:foundationOnly": "true",
    "baton:lakePrefix": "baton/v1",
}


@pytest.fixture(scope="module")
def bootstrap() -> Recording:
    return run(BOOTSTRAP)


def test_foundation_only_deploys_registry_lake_and_warehouse_but_no_jobs(bootstrap):
    kinds = {r.type for r in bootstrap.resources if r.custom}
    assert "gcp:storage/bucket:Bucket" in kinds
    assert "gcp:artifactregistry/repository:Repository" in kinds
    assert "gcp:bigquery/table:Table" in kinds
    for absent in (
        "gcp:cloudrunv2/job:Job",
        "gcp:workflows/workflow:Workflow",
        "gcp:cloudscheduler/job:Job",
        "gcp:serviceaccount/account:Account",
    ):
        assert absent not in kinds


def test_the_default_bucket_name_is_derived_from_project_and_name(bootstrap):
    bucket = bootstrap.one("gcp:storage/bucket:Bucket", "lake-bucket").inputs
    assert bucket["name"] == "acme-dev-baton-lake"
    assert bucket["location"] == "us-central1"


def test_an_unprotected_stack_lets_destroy_remove_data(bootstrap):
    bucket = bootstrap.one("gcp:storage/bucket:Bucket", "lake-bucket").inputs
    dataset = bootstrap.one("gcp:bigquery/dataset:Dataset", "warehouse-dataset").inputs
    assert bucket["forceDestroy"] is True
    assert dataset["deleteContentsOnDestroy"] is True
    tables = bootstrap.of_type("gcp:bigquery/table:Table")
    assert tables and all(t.inputs["deletionProtection"] is False for t in tables)


def test_lifecycle_rules_follow_the_lake_prefix(bootstrap):
    rules = bootstrap.one("gcp:storage/bucket:Bucket", "lake-bucket").inputs["lifecycleRules"]
    prefixes = [p for r in rules for p in r["condition"].get("matchesPrefixes", [])]
    assert prefixes == ["baton/v1/quarantine/"]
