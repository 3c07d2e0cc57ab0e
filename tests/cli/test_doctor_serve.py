"""`baton doctor` for real: `--target gcp` against `baton serve` on loopback (the official
Workflows and Cloud Run clients, and REST GETs, read the twin's deployment), and
`--target local` on a seeded and an empty home. Nothing is mocked."""

from __future__ import annotations

import copy
import os
from collections.abc import Iterator

import pytest
from google.auth.credentials import AnonymousCredentials
from google.cloud import workflows_v1
from lakes import Lake
from typer.testing import CliRunner

from baton.config import load_settings
from baton_cli.app import app
from baton_twin.local_engine import PIPELINE
from baton_twin.server import ServeOptions, Server, build_server

pytestmark = pytest.mark.slow
PROJECT, REGION = "baton-local", "local"
LOCATION = f"projects/{PROJECT}/locations/{REGION}"


def _environ(lake: Lake) -> dict[str, str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("BATON_", "GOOGLE_"))}
    environ["BATON_HOME"] = str(lake.home)
    return environ


@pytest.fixture(scope="module")
def served(seeded_template: Lake, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    lake = seeded_template.copy_to(tmp_path_factory.mktemp("doctor") / "home")
    environ = _environ(lake)
    options = ServeOptions(PROJECT, REGION, "baton-pipeline", "127.0.0.1", 0, 0, fast_retries=True)
    with build_server(load_settings(environ=environ), environ, options) as server:
        yield server


def doctor(server: Server, *args: str) -> tuple[int, str]:
    env = {
        "BATON_GCP_PROJECT": PROJECT,
        "BATON_GCP_REGION": REGION,
        "BATON_WORKFLOWS_ENDPOINT": server.grpc_endpoint,
        "BATON_RUN_ENDPOINT": server.rest_endpoint,
    }
    result = CliRunner().invoke(app, ["doctor", "--target", "gcp", *args], env=env)
    return result.exit_code, result.output


def line(output: str, name: str) -> str:
    (found,) = [row for row in output.splitlines() if row[6:].startswith(name + " ")]
    return found


def test_the_served_deployment_passes_every_check_and_prints_each(served):
    code, output = doctor(served)
    assert code == 0, output
    for name in (
        "api run.googleapis.com",
        "workflow baton-pipeline source",
        "job baton-extract",
        "job baton-load",
        "scheduler baton-daily",
        "bucket baton-local-lake",
        "dataset baton-local:baton",
        "iam baton-extract storage",
        "iam baton-load bigquery",
        "iam baton-workflow run",
        "iam baton-scheduler workflows",
    ):
        assert line(output, name).startswith("ok"), name
    assert "31 of 31 checks passed" in output


def test_a_served_policy_without_polling_fails_the_workflows_run_check_with_the_fix(served):
    iam = served.deployment.policies
    (polling,) = iam.custom_roles
    saved = iam.custom_roles[polling]
    iam.custom_roles[polling] = ["run.executions.get"]
    try:
        code, output = doctor(served)
    finally:
        iam.custom_roles[polling] = saved
    assert code == 1
    assert line(output, "iam baton-workflow run").startswith("fail")
    assert "run.operations.get on project baton-local" in output
    assert "custom role projects/baton-local/roles/baton_workflow_polls_jobs" in output


def test_the_served_lake_policy_refuses_a_read_below_version_3_as_gcs_does(served):
    import requests

    url = f"{served.rest_endpoint}/storage/v1/b/baton-local-lake/iam"
    assert requests.get(url, timeout=10).status_code == 400
    policy = requests.get(url, params={"optionsRequestedPolicyVersion": 3}, timeout=10).json()
    assert policy["version"] == 3 and all("condition" in b for b in policy["bindings"])


def test_a_deployed_workflow_with_another_source_fails_the_source_check_and_exits_1(served):
    client = workflows_v1.WorkflowsClient(
        transport="rest",
        credentials=AnonymousCredentials(),
        client_options={"api_endpoint": served.rest_endpoint},
    )
    drifted = PIPELINE.read_text().replace("concurrency", "concurrency ", 1)
    env = {"BATON_JOB_PREFIX": "baton-", "BATON_LAKE_BUCKET": "baton-local-lake"}
    workflow = workflows_v1.Workflow(source_contents=drifted, user_env_vars=env)
    client.create_workflow(parent=LOCATION, workflow=workflow, workflow_id="drifted").result()
    try:
        code, output = doctor(served, "--workflow", "drifted")
    finally:
        client.delete_workflow(name=f"{LOCATION}/workflows/drifted").result()
    assert code == 1
    source = line(output, "workflow drifted source")
    assert source.startswith("fail") and "differs from workflows/pipeline.workflows.yaml" in source
    assert "fix: pulumi up from this commit" in output


def test_a_job_deployed_with_other_memory_fails_and_names_the_values(served):
    deployment = served.deployment
    assert deployment is not None
    saved = copy.deepcopy(deployment.jobs["load"])
    limits = deployment.jobs["load"]["template"]["template"]["containers"][0]["resources"]
    limits["limits"]["memory"] = "2Gi"
    try:
        code, output = doctor(served)
    finally:
        deployment.jobs["load"] = saved
    assert code == 1
    assert "cpu/memory 1/2Gi, jobs.toml says 1/512Mi" in line(output, "job baton-load")


def test_a_disabled_api_fails_with_the_enable_command(served):
    deployment = served.deployment
    assert deployment is not None
    deployment.enabled_apis.discard("workflowexecutions.googleapis.com")
    try:
        code, output = doctor(served)
    finally:
        deployment.enabled_apis.add("workflowexecutions.googleapis.com")
    assert code == 1
    assert line(output, "api workflowexecutions.googleapis.com").startswith("fail")
    assert "gcloud services enable workflowexecutions.googleapis.com" in output


def test_another_stack_name_finds_nothing_and_says_what_is_missing(served):
    code, output = doctor(served, "--workflow", "prod-pipeline")
    assert code == 1
    assert "does not exist" in line(output, "workflow prod-pipeline")


def test_an_unreachable_api_exits_75():
    env = {
        "BATON_GCP_PROJECT": PROJECT,
        "BATON_GCP_REGION": REGION,
        "BATON_RUN_ENDPOINT": "http://127.0.0.1:9",  # discard port: nothing listens
    }
    result = CliRunner().invoke(app, ["doctor", "--target", "gcp"], env=env)
    assert result.exit_code == 75, result.output


def test_doctor_without_a_project_is_a_configuration_error_naming_the_flag():
    env = {"BATON_GCP_REGION": REGION, "BATON_GCP_PROJECT": "", "GOOGLE_CLOUD_PROJECT": ""}
    result = CliRunner().invoke(app, ["doctor", "--target", "gcp"], env=env)
    assert result.exit_code == 3 and "--project" in result.output


# -- the local twin


def test_doctor_local_passes_on_a_seeded_home(lake: Lake):
    result = CliRunner().invoke(app, ["doctor", "--target", "local"], env=_environ(lake))
    assert result.exit_code == 0, result.output
    assert line(result.output, "pipeline yaml").startswith("ok")
    assert line(result.output, "job transform").startswith("ok")


def test_doctor_local_on_an_empty_home_fails_the_lake_check_with_the_fix(tmp_path):
    env = {"BATON_HOME": str(tmp_path / "home")}
    result = CliRunner().invoke(app, ["doctor", "--target", "local"], env=env)
    assert result.exit_code == 1
    assert line(result.output, "lake").startswith("fail")
    assert "fix: make run" in result.output
