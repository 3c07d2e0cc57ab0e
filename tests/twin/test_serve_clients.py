"""`baton serve` speaks the GCP APIs well enough for Google's own client libraries: the
Workflow Executions client (gRPC, its only transport in Python) and the Cloud Run v2 jobs
client (REST) run against it on loopback, as does `baton --target gcp`. Nothing is mocked:
the server runs the real engine and the real step processes over a small seeded lake."""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import date
from typing import Any

import grpc
import pytest
from google.api_core import exceptions as gexc
from google.auth.credentials import AnonymousCredentials
from google.cloud import run_v2
from google.cloud.workflows import executions_v1
from google.cloud.workflows.executions_v1.services.executions.transports import (
    ExecutionsGrpcTransport,
)
from google.longrunning import operations_pb2
from google.protobuf import json_format
from lakes import Lake
from typer.testing import CliRunner

from baton.config import load_settings
from baton_cli.app import app
from baton_twin.server import ServeOptions, Server, build_server

pytestmark = pytest.mark.slow
PROJECT, REGION, WORKFLOW = "baton-local", "local", "baton-pipeline"
PARENT = f"projects/{PROJECT}/locations/{REGION}/workflows/{WORKFLOW}"
JOBS = f"projects/{PROJECT}/locations/{REGION}/jobs"
State = executions_v1.Execution.State


@pytest.fixture(scope="module")
def served(
    seeded_template: Lake, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Server, Lake]]:
    """`baton serve` on loopback (free ports) over a private copy of the seeded lake."""
    lake = seeded_template.copy_to(tmp_path_factory.mktemp("served") / "home")
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("BATON_", "GOOGLE_"))}
    environ["BATON_HOME"] = str(lake.home)
    options = ServeOptions(PROJECT, REGION, WORKFLOW, "127.0.0.1", 0, 0, fast_retries=True)
    server = build_server(load_settings(environ=environ), environ, options)
    with server:
        yield server, lake


@pytest.fixture
def executions(served: tuple[Server, Lake]) -> Iterator[executions_v1.ExecutionsClient]:
    server, _ = served
    channel = grpc.insecure_channel(server.grpc_endpoint)
    yield executions_v1.ExecutionsClient(transport=ExecutionsGrpcTransport(channel=channel))
    channel.close()


@pytest.fixture
def jobs(served: tuple[Server, Lake]) -> run_v2.JobsClient:
    server, _ = served
    return run_v2.JobsClient(
        transport="rest",
        credentials=AnonymousCredentials(),
        client_options={"api_endpoint": server.rest_endpoint},
    )


def wait(client: executions_v1.ExecutionsClient, name: str) -> executions_v1.Execution:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        execution = client.get_execution(name=name)
        if execution.state != State.ACTIVE:
            return execution
        time.sleep(0.2)
    raise AssertionError(f"{name} still ACTIVE")


def create(client: executions_v1.ExecutionsClient, argument: Any) -> executions_v1.Execution:
    return client.create_execution(
        parent=PARENT, execution=executions_v1.Execution(argument=json.dumps(argument))
    )


# -- Workflow Executions API through the official client (gRPC)


def test_an_execution_created_through_the_client_runs_the_pipeline_and_returns_its_summary(
    executions,
):
    created = create(executions, {"date": "2013-01-01"})
    assert created.name.startswith(f"{PARENT}/executions/")
    assert created.state == State.ACTIVE
    assert json.loads(created.argument) == {"date": "2013-01-01"}

    done = wait(executions, created.name)

    assert done.state == State.SUCCEEDED
    summary = json.loads(done.result)
    assert summary["status"] == "succeeded" and summary["dates"] == 1
    assert done.end_time >= done.start_time and done.duration.total_seconds() > 0


def test_list_is_newest_first_and_its_basic_view_leaves_out_argument_and_result(executions):
    first = create(executions, {"date": "2013-01-09", "steps": ["extract"]})
    second = create(executions, {"date": "2013-01-10", "steps": ["extract"]})
    wait(executions, first.name), wait(executions, second.name)
    listed = list(executions.list_executions(parent=PARENT))
    names = [e.name for e in listed]
    assert names.index(second.name) < names.index(first.name)
    assert all(e.argument == "" and e.result == "" for e in listed)
    full = executions_v1.ListExecutionsRequest(
        parent=PARENT, view=executions_v1.ExecutionView.FULL, page_size=1
    )
    pages = list(executions.list_executions(request=full))
    assert len(pages) == len(listed) and pages[0].argument


def test_a_failed_partition_fails_the_execution_with_the_summary_in_the_error_payload(executions):
    done = wait(executions, create(executions, {"date": "2013-01-09"}).name)
    assert done.state == State.FAILED
    payload = json.loads(done.error.payload)
    assert payload["tags"] == ["PartitionsFailed"]
    cell = payload["summary"]["partitions"]["2013-01-09"]["extract"]
    assert (cell["status"], cell["reason"]) == ("failed", "missing_input")
    assert "PartitionsFailed" in done.error.context


def test_cancel_stops_an_active_execution(executions):
    created = create(executions, {"date": "2013-02-12", "force": True})
    cancelled = executions.cancel_execution(name=created.name)
    assert cancelled.state == State.CANCELLED
    assert json.loads(cancelled.error.payload)["tags"] == ["Cancelled"]
    with pytest.raises(gexc.FailedPrecondition, match="only an ACTIVE execution"):
        executions.cancel_execution(name=created.name)


def test_unknown_executions_and_workflows_are_not_found(executions):
    with pytest.raises(gexc.NotFound):
        executions.get_execution(name=f"{PARENT}/executions/no-such-execution")
    other = f"projects/{PROJECT}/locations/{REGION}/workflows/other"
    with pytest.raises(gexc.NotFound, match=f"this server serves {PARENT}"):
        create_other = executions_v1.Execution(argument="{}")
        executions.create_execution(parent=other, execution=create_other)


def test_an_argument_that_is_not_json_is_an_invalid_argument(executions):
    with pytest.raises(gexc.InvalidArgument, match="not valid JSON"):
        executions.create_execution(
            parent=PARENT, execution=executions_v1.Execution(argument="{date: 2013-01-01")
        )


# -- Cloud Run Admin API v2 jobs.run through the official client (REST)


def run_request(step: str, day: str, *, force: bool = True) -> run_v2.RunJobRequest:
    container = run_v2.RunJobRequest.Overrides.ContainerOverride(
        args=["run", "--date", day, *(["--force"] if force else [])],
        env=[run_v2.EnvVar(name="BATON_EXECUTION_ID", value="client-test")],
    )
    return run_v2.RunJobRequest(
        name=f"{JOBS}/baton-{step}",
        overrides=run_v2.RunJobRequest.Overrides(
            container_overrides=[container], task_count=1, timeout="600s"
        ),
    )


def test_run_job_with_overrides_returns_an_operation_whose_result_is_the_execution(jobs, served):
    _, lake = served
    operation = jobs.run_job(request=run_request("extract", "2013-01-03"))
    assert operation.metadata.name.startswith(f"{JOBS}/baton-extract/executions/baton-extract-")

    execution = operation.result(timeout=120)

    assert (execution.task_count, execution.succeeded_count, execution.failed_count) == (1, 1, 0)
    assert execution.conditions[0].state == run_v2.Condition.State.CONDITION_SUCCEEDED
    assert execution.log_uri.startswith("file://")
    assert lake.manifest("extract", date(2013, 1, 3)).execution_id == "client-test"


def test_a_failing_job_fails_its_operation_and_its_metadata_counts_the_failed_task(jobs):
    operation = jobs.run_job(request=run_request("load", "2013-01-05", force=False))
    with pytest.raises(gexc.GoogleAPICallError, match="1 of 1 task"):
        operation.result(timeout=120)
    assert operation.metadata.failed_count == 1


def test_a_job_that_is_not_deployed_is_not_found_and_names_the_jobs_there_are(jobs):
    request = run_request("extract", "2013-01-03")
    request.name = f"{JOBS}/baton-publish"
    with pytest.raises(gexc.NotFound, match="baton-extract"):
        jobs.run_job(request=request)


# -- the REST surface as Cloud Scheduler and curl use it


def call(server: Server, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        server.rest_endpoint + path,
        data=data,
        method=method,
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_rest_create_takes_the_argument_as_a_json_string_and_get_reports_the_end(served):
    server, _ = served
    status, created = call(
        server,
        "POST",
        f"/v1/{PARENT}/executions",
        {"argument": json.dumps({"date": "2013-01-03", "steps": ["extract"]})},
    )
    assert status == 200 and created["state"] == "ACTIVE"
    deadline = time.monotonic() + 60
    while created["state"] == "ACTIVE" and time.monotonic() < deadline:
        time.sleep(0.2)
        _, created = call(server, "GET", f"/v1/{created['name']}")
    assert created["state"] == "SUCCEEDED"
    assert json.loads(created["result"])["steps"] == ["extract"]
    assert created["duration"].endswith("s") and created["workflowRevisionId"].startswith("000001-")

    status, refused = call(server, "POST", f"/v1/{created['name']}:cancel", {})
    assert status == 400
    assert refused["error"]["status"] == "FAILED_PRECONDITION"


def test_rest_errors_have_the_google_error_shape(served):
    server, _ = served
    status, body = call(server, "POST", f"/v1/{PARENT}/executions", {"argument": "[1,"})
    assert status == 400 and body["error"]["status"] == "INVALID_ARGUMENT"
    status, body = call(server, "POST", f"/v1/{PARENT}/executions", {"argumnet": "{}"})
    assert status == 400 and "argumnet" in body["error"]["message"]
    status, body = call(server, "GET", "/v1/projects/x/locations/y/nothing")
    assert status == 404 and body["error"]["code"] == 404


def test_a_jobs_run_operation_is_valid_proto_json_for_the_strict_parser(served):
    server, _ = served
    status, operation = call(
        server,
        "POST",
        f"/v2/{JOBS}/baton-extract:run",
        {"overrides": {"containerOverrides": [{"args": ["run", "--date", "2013-01-03"]}]}},
    )
    assert status == 200
    while not operation.get("done"):
        time.sleep(0.2)
        status, operation = call(server, "GET", f"/v2/{operation['name']}")
    # Strict: an unknown field anywhere (the Execution inside the Any included) would raise.
    parsed = json_format.ParseDict(operation, operations_pb2.Operation())
    execution = run_v2.Execution.deserialize(parsed.response.value)
    assert execution.succeeded_count == 1


def test_the_console_page_lists_the_executions(served, executions):
    server, _ = served
    created = create(executions, {"date": "2013-01-11", "steps": ["extract"]})
    wait(executions, created.name)
    with urllib.request.urlopen(server.rest_endpoint + "/", timeout=30) as page:
        html = page.read().decode()
    assert created.name.rsplit("/", 1)[1] in html and PARENT in html


# -- baton --target gcp, pointed at the server


def test_baton_run_and_rerun_with_the_gcp_target_work_through_the_official_clients(served):
    server, lake = served
    env = {
        "BATON_HOME": str(lake.home),
        "BATON_TARGET": "gcp",
        "BATON_GCP_PROJECT": PROJECT,
        "BATON_GCP_REGION": REGION,
        "BATON_WORKFLOWS_ENDPOINT": server.grpc_endpoint,
        "BATON_RUN_ENDPOINT": server.rest_endpoint,
    }
    runner = CliRunner()
    run = runner.invoke(app, ["run", "--date", "2013-01-02"], env=env)
    assert run.exit_code == 0, run.output
    assert "2013-01-02  load      committed" in run.output

    listed = runner.invoke(app, ["executions", "list", "--json", "--limit", "1"], env=env)
    (newest,) = json.loads(listed.stdout)
    assert (newest["state"], newest["argument"]["date"]) == ("SUCCEEDED", "2013-01-02")
    assert newest["where"].startswith("https://console.cloud.google.com/workflows/")

    rerun = runner.invoke(app, ["rerun", "--date", "2013-01-02", "--step", "validate"], env=env)
    assert rerun.exit_code == 0, rerun.output
    assert "succeeded: projects/baton-local/locations/local/jobs/baton-validate/executions/" in (
        rerun.output
    )
    assert lake.manifest("validate", date(2013, 1, 2)).execution_id.startswith("rerun-")
