"""With a lake prefix, every grant and the workflow's settings follow it."""

from __future__ import annotations

import pytest
from infra_stacks import FULL, run

from baton_infra.iam_graph import iam_graph
from baton_infra.mock_runtime import Recording


@pytest.fixture(scope="module")
def prefixed() -> Recording:
    return run({**FULL, "baton:lakePrefix": "etl/prod"})


def test_lake_conditions_name_objects_under_the_lake_prefix(prefixed):
    expressions = [
        r.inputs["condition"]["expression"]
        for r in prefixed.of_type("gcp:storage/bucketIAMMember:BucketIAMMember")
    ]
    assert expressions
    for expression in expressions:
        assert expression.startswith(
            'resource.name.startsWith("projects/_/buckets/acme-lake/objects/etl/prod/'
        ), expression


def test_extract_reads_landing_under_the_prefix_but_not_its_reference_tables(prefixed):
    (extract_read,) = [
        r.inputs["condition"]["expression"]
        for r in prefixed.of_type("gcp:storage/bucketIAMMember:BucketIAMMember")
        if r.name == "extract-read-landing"
    ]
    assert extract_read == (
        'resource.name.startsWith("projects/_/buckets/acme-lake/objects/etl/prod/landing/")'
        ' && !resource.name.startsWith("projects/_/buckets/acme-lake/objects/etl/prod/landing/reference/")'
    )


def test_steps_and_workflow_see_the_prefixed_lake(prefixed):
    job = prefixed.one("gcp:cloudrunv2/job:Job", "extract-job").inputs
    env = {e["name"]: e.get("value") for e in job["template"]["template"]["containers"][0]["envs"]}
    assert env["BATON_LAKE"] == "gs://acme-lake/etl/prod"
    workflow = prefixed.one("gcp:workflows/workflow:Workflow", "pipeline-workflow").inputs
    assert workflow["userEnvVars"]["BATON_LAKE_PREFIX"] == "etl/prod"


def test_the_grant_table_is_the_same_shape_with_a_prefix(prefixed, full):
    assert len(iam_graph(prefixed)) == len(iam_graph(full))
