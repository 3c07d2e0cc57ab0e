"""`baton serve` answers the Workflows API v1 as Google's `WorkflowsClient` (REST) drives it:
deploy a workflow, read it back, execute it through the Executions client (gRPC), delete it;
a definition the engine refuses is refused at deploy time, as the service refuses it."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator

import grpc
import pytest
from google.api_core import exceptions as gexc
from google.auth.credentials import AnonymousCredentials
from google.cloud import run_v2, workflows_v1
from google.cloud.workflows import executions_v1
from google.cloud.workflows.executions_v1.services.executions.transports import (
    ExecutionsGrpcTransport,
)

from baton.config import load_settings
from baton_twin.local_engine import PIPELINE
from baton_twin.server import ServeOptions, Server, build_server

pytestmark = pytest.mark.slow
LOCATION = "projects/baton-local/locations/local"
PIPELINE_NAME = f"{LOCATION}/workflows/baton-pipeline"
State = executions_v1.Execution.State


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("BATON_", "GOOGLE_"))}
    environ["BATON_HOME"] = str(tmp_path_factory.mktemp("workflows-api") / "home")
    options = ServeOptions(host="127.0.0.1", port=0, grpc_port=0, fast_retries=True)
    with build_server(load_settings(environ=environ), environ, options) as server:
        yield server


@pytest.fixture
def workflows(served: Server) -> workflows_v1.WorkflowsClient:
    return workflows_v1.WorkflowsClient(
        transport="rest",
        credentials=AnonymousCredentials(),
        client_options={"api_endpoint": served.rest_endpoint},
    )


@pytest.fixture
def executions(served: Server) -> Iterator[executions_v1.ExecutionsClient]:
    channel = grpc.insecure_channel(served.grpc_endpoint)
    yield executions_v1.ExecutionsClient(transport=ExecutionsGrpcTransport(channel=channel))
    channel.close()


def deploy(client: workflows_v1.WorkflowsClient, workflow_id: str, source: str, **env: str):
    workflow = workflows_v1.Workflow(source_contents=source, user_env_vars=env)
    return client.create_workflow(
        parent=LOCATION, workflow=workflow, workflow_id=workflow_id
    ).result(timeout=30)


def execute(client: executions_v1.ExecutionsClient, workflow: str, argument: object = None):
    execution = executions_v1.Execution(argument=json.dumps(argument) if argument else "")
    created = client.create_execution(parent=workflow, execution=execution)
    deadline = time.monotonic() + 30
    while created.state == State.ACTIVE and time.monotonic() < deadline:
        time.sleep(0.05)
        created = client.get_execution(name=created.name)
    return created


RETURN_ARG = "main:\n  params: [args]\n  steps:\n    - r:\n        return: ${args.x + 1}\n"


def test_the_served_pipeline_is_deployed_with_the_repositorys_source(workflows):
    pipeline = workflows.get_workflow(name=PIPELINE_NAME)
    assert pipeline.source_contents == PIPELINE.read_text()
    assert pipeline.state == workflows_v1.Workflow.State.ACTIVE
    assert pipeline.user_env_vars["BATON_JOB_PREFIX"] == "baton-"
    assert pipeline.service_account.startswith("baton-workflow@")


def test_a_deployed_workflow_runs_through_the_executions_client(workflows, executions):
    created = deploy(workflows, "adds-one", RETURN_ARG)
    assert created.name == f"{LOCATION}/workflows/adds-one"
    assert workflows.get_workflow(name=created.name).source_contents == RETURN_ARG
    done = execute(executions, created.name, {"x": 41})
    assert done.state == State.SUCCEEDED and json.loads(done.result) == 42
    workflows.delete_workflow(name=created.name).result(timeout=30)


def test_a_workflow_sees_only_its_own_user_environment(workflows, executions):
    source = 'main:\n  steps:\n    - r:\n        return: ${sys.get_env("GREETING")}\n'
    created = deploy(workflows, "greets", source, GREETING="hello")
    done = execute(executions, created.name)
    assert json.loads(done.result) == "hello"
    workflows.delete_workflow(name=created.name).result(timeout=30)


def test_an_invalid_definition_is_refused_at_deploy_time(workflows):
    with pytest.raises(gexc.BadRequest, match="steps"):
        deploy(workflows, "broken", "main:\n  steps: 3\n")
    with pytest.raises(gexc.NotFound):
        workflows.get_workflow(name=f"{LOCATION}/workflows/broken")


def test_a_deleted_workflow_is_gone_with_its_executions_api(workflows, executions):
    created = deploy(workflows, "short-lived", RETURN_ARG)
    workflows.delete_workflow(name=created.name).result(timeout=30)
    with pytest.raises(gexc.NotFound):
        workflows.get_workflow(name=created.name)
    with pytest.raises(gexc.NotFound):
        executions.create_execution(parent=created.name, execution=executions_v1.Execution())


def test_deploying_the_same_id_twice_is_already_exists(workflows):
    deploy(workflows, "twice", RETURN_ARG)
    with pytest.raises(gexc.Conflict):
        deploy(workflows, "twice", RETURN_ARG)
    workflows.delete_workflow(name=f"{LOCATION}/workflows/twice").result(timeout=30)


def test_a_bad_workflow_id_is_an_invalid_argument(workflows):
    with pytest.raises(gexc.BadRequest, match="workflow_id"):
        deploy(workflows, "Has_Capitals", RETURN_ARG)


def test_list_names_the_pipeline_and_the_deployed_workflows(workflows):
    deploy(workflows, "listed", RETURN_ARG)
    names = [w.name for w in workflows.list_workflows(parent=LOCATION)]
    assert PIPELINE_NAME in names and f"{LOCATION}/workflows/listed" in names
    workflows.delete_workflow(name=f"{LOCATION}/workflows/listed").result(timeout=30)


def test_the_served_pipeline_cannot_be_deleted(workflows):
    with pytest.raises(gexc.BadRequest, match="served pipeline"):
        workflows.delete_workflow(name=PIPELINE_NAME).result(timeout=30)


def test_jobs_get_describes_each_job_as_jobs_toml_sizes_it(served):
    client = run_v2.JobsClient(
        transport="rest",
        credentials=AnonymousCredentials(),
        client_options={"api_endpoint": served.rest_endpoint},
    )
    job = client.get_job(name=f"{LOCATION}/jobs/baton-validate")
    task = job.template.template
    assert task.service_account == "baton-validate@baton-local.iam.gserviceaccount.com"
    assert task.containers[0].image.endswith("/baton-validate:twin")
    with pytest.raises(gexc.NotFound):
        client.get_job(name=f"{LOCATION}/jobs/baton-publish")
