"""With a lake prefix, every grant and the workflow's settings follow it."""

from __future__ import annotations

import pytest
from infra_stacks import FULL, run

from baton_engine import Engine, ExecutionStore, VirtualClock
from baton_infra.iam_graph import iam_graph
from baton_infra.mock_runtime import Recording
from baton_twin.connector_names import GET_OBJECT, RUN_JOB


@pytest.fixture(scope="module")
def prefixed() -> Recording:
    return run({**FULL, "baton:lakePrefix": "etl/prod"})


def test_lake_conditions_name_objects_under_the_lake_prefix(prefixed):
    expressions = [
        r.inputs["condition"]["expression"]
        for r in prefixed.of_type("gcp:storage/bucketIAMMember:BucketIAMMember")
        if r.name != "gc-lists"  # objects.list is checked on the bucket: no object condition
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


def test_a_file_the_notifications_publish_starts_the_deployed_workflow_on_its_partition(
    prefixed, tmp_path
):
    # The notifications fire for <lakePrefix>/landing/<dataset>/...; the deployed workflow,
    # with the user env vars the program gives it, must still read that as a landing file.
    workflow = prefixed.one("gcp:workflows/workflow:Workflow", "pipeline-workflow").inputs
    prefixes = [
        r.inputs["objectNamePrefix"]
        for r in prefixed.of_type("gcp:storage/notification:Notification")
    ]
    assert prefixes and all(p.startswith("etl/prod/landing/") for p in prefixes)
    started = []

    def run_job(args, ctx):
        started.append(args["body"]["overrides"]["containerOverrides"][0]["args"])
        return {"name": f"{args['name']}/executions/x"}

    for i, prefix in enumerate(prefixes):
        engine = Engine(
            ExecutionStore(tmp_path / str(i)),
            connectors={RUN_JOB: run_job, GET_OBJECT: lambda a, c: None},
            clock=VirtualClock(),
            user_env=workflow["userEnvVars"],
        )
        event = {"data": {"bucket": "acme-lake", "name": f"{prefix}2013-03-01.csv"}}
        record = engine.run(workflow["sourceContents"], event, workflow_id="pipeline")
        assert record.state == "SUCCEEDED", record.error
        assert list(record.result["partitions"]) == ["2013-03-01"], prefix
    assert started and all(args[1:3] == ["--date", "2013-03-01"] for args in started)
