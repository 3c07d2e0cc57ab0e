"""The workflow deploys the DAG file as is, and the scheduler and landing trigger start it."""

from __future__ import annotations

import base64
import json

import yaml

from baton import datasets
from baton.jobs import load_jobs
from baton.pipeline import pipeline_file
from baton_infra.triggers import landing_prefixes

WORKFLOW = "gcp:workflows/workflow:Workflow"
WORKFLOW_ID = "projects/acme-data/locations/europe-west1/workflows/baton-pipeline"


def _workflow(full):
    return full.one(WORKFLOW, "pipeline-workflow").inputs


def _yaml_jobs() -> dict:
    document = yaml.safe_load(pipeline_file().read_text())
    init = next(step["init"] for step in document["main"]["steps"] if "init" in step)
    return next(a["jobs"] for a in init["assign"] if "jobs" in a)


def _calls(node):
    if isinstance(node, dict):
        if "call" in node:
            yield node["call"]
        for value in node.values():
            yield from _calls(value)
    elif isinstance(node, list):
        for value in node:
            yield from _calls(value)


def test_the_workflow_source_is_the_dag_file_byte_for_byte(full):
    assert _workflow(full)["sourceContents"].encode() == pipeline_file().read_bytes()


def test_the_dag_runs_exactly_the_jobs_of_the_jobs_list():
    assert set(_yaml_jobs()) == {job.name for job in load_jobs()}


def test_the_dag_uses_the_timeouts_and_retries_of_the_jobs_list():
    in_yaml = _yaml_jobs()
    for job in load_jobs():
        assert in_yaml[job.name] == {"timeout_s": job.timeout_s, "max_retries": job.max_retries}


def test_the_dag_starts_jobs_through_the_cloud_run_v2_connector():
    calls = set(_calls(yaml.safe_load(pipeline_file().read_text())))
    assert "googleapis.run.v2.projects.locations.jobs.run" in calls


def test_the_workflow_gets_the_user_env_vars_the_dag_reads(full):
    assert _workflow(full)["userEnvVars"] == {
        "BATON_JOB_PREFIX": "baton-",
        "BATON_LAKE_BUCKET": "acme-lake",
        "BATON_DATASET": "flights",
    }


def test_the_workflow_runs_as_its_own_identity(full):
    assert _workflow(full)["serviceAccount"] == "baton-workflow@acme-data.iam.gserviceaccount.com"


def test_the_scheduler_posts_an_empty_argument_to_the_executions_api_with_an_oauth_token(full):
    job = full.one("gcp:cloudscheduler/job:Job", "schedule-job").inputs
    target = job["httpTarget"]
    assert target["uri"] == f"https://workflowexecutions.googleapis.com/v1/{WORKFLOW_ID}/executions"
    assert target["httpMethod"] == "POST"
    assert target["oauthToken"]["serviceAccountEmail"] == (
        "baton-scheduler@acme-data.iam.gserviceaccount.com"
    )
    assert "oidcToken" not in target
    body = json.loads(base64.b64decode(target["body"]))
    assert json.loads(body["argument"]) == {}


def test_the_scheduler_uses_the_configured_cron_and_time_zone(full):
    job = full.one("gcp:cloudscheduler/job:Job", "schedule-job").inputs
    assert (job["schedule"], job["timeZone"]) == ("30 4 * * *", "Europe/Berlin")


def test_landing_notifications_cover_each_dataset_landing_prefix_but_not_reference_tables(full):
    prefixes = sorted(
        r.inputs["objectNamePrefix"] for r in full.of_type("gcp:storage/notification:Notification")
    )
    assert prefixes == ["landing/flights/", "landing/weather/"]
    assert landing_prefixes(datasets.registry()) == prefixes


def test_landing_notifications_publish_finalized_objects_only(full):
    for r in full.of_type("gcp:storage/notification:Notification"):
        assert r.inputs["eventTypes"] == ["OBJECT_FINALIZE"]
        assert r.inputs["topic"] == "projects/acme-data/topics/baton-landing"


def test_the_landing_trigger_starts_the_workflow_on_the_landing_topic(full):
    trigger = full.one("gcp:eventarc/trigger:Trigger", "landing-trigger").inputs
    assert trigger["destination"] == {"workflow": WORKFLOW_ID}
    assert trigger["transport"] == {"pubsub": {"topic": "projects/acme-data/topics/baton-landing"}}
    assert trigger["matchingCriterias"] == [
        {"attribute": "type", "value": "google.cloud.pubsub.topic.v1.messagePublished"}
    ]
