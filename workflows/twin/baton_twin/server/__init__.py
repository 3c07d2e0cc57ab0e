"""`baton serve`: the local engine behind the REST and gRPC surfaces of the Workflow Executions
API v1 and the Cloud Run Admin API v2 `jobs.run`, on loopback, so Google's official client
libraries (and curl, and the console page at `/`) can drive the local twin as they drive GCP."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from http.server import ThreadingHTTPServer
from typing import Any, cast

import grpc

from baton.config import Settings
from baton_twin.connector_names import RUN_JOB
from baton_twin.connectors import RunJobConnector
from baton_twin.jobrunner import LocalJobRunner, baton_jobs
from baton_twin.local_engine import PIPELINE, enforcing_env, local_engine, twin_policy
from baton_twin.server.console import Pages
from baton_twin.server.deployment import TwinDeployment, twin_deployment
from baton_twin.server.executions import WorkflowExecutions
from baton_twin.server.grpc_front import make_grpc_server
from baton_twin.server.jobs import CloudRunJobs
from baton_twin.server.rest import Api, make_http_server
from baton_twin.server.workflows_api import DeployedWorkflows, ExecutionsRouter

__all__ = ["Pages", "ServeOptions", "Server", "build_server"]


@dataclass(frozen=True)
class ServeOptions:
    """Where to listen and what to serve as."""

    project: str = "baton-local"
    location: str = "local"
    workflow: str = "baton-pipeline"
    host: str = "127.0.0.1"
    port: int = 8080  # REST and the console; 0 picks a free port
    grpc_port: int = 8081  # Workflow Executions over gRPC; 0 picks a free port
    fast_retries: bool = False


class Server:
    """Both fronts, started and stopped together."""

    def __init__(
        self,
        http: ThreadingHTTPServer,
        grpc_server: grpc.Server,
        grpc_port: int,
        workflows: WorkflowExecutions,
        jobs: CloudRunJobs,
        deployed: DeployedWorkflows | None = None,
        deployment: TwinDeployment | None = None,
    ) -> None:
        self.http = http
        self.grpc = grpc_server
        self.grpc_port = grpc_port
        self.workflows = workflows
        self.jobs = jobs
        self.deployed = deployed
        self.deployment = deployment
        self._thread: threading.Thread | None = None

    @property
    def rest_endpoint(self) -> str:
        """The REST root, e.g. http://127.0.0.1:8080 (BATON_RUN_ENDPOINT)."""
        host, port = self.http.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def grpc_endpoint(self) -> str:
        """The gRPC host:port (BATON_WORKFLOWS_ENDPOINT)."""
        return f"{self.http.server_address[0]}:{self.grpc_port}"

    def start(self) -> Server:
        """Serve in background threads."""
        self.grpc.start()
        self._thread = threading.Thread(
            target=self.http.serve_forever, name="serve-http", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop both fronts (running executions keep their records)."""
        self.http.shutdown()
        self.http.server_close()
        self.grpc.stop(grace=1.0).wait()
        if self._thread is not None:
            self._thread.join()

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def build_server(
    settings: Settings,
    environ: Mapping[str, str],
    options: ServeOptions,
    pages: Pages | None = None,
) -> Server:
    """A server over the local twin of `settings` (lake, warehouse, execution records);
    `pages` draws the console's report and status pages."""
    env = {
        **environ,
        "GOOGLE_CLOUD_PROJECT": options.project,
        "GOOGLE_CLOUD_LOCATION": options.location,
    }
    engine = local_engine(settings, env, fast_retries=options.fast_retries)
    workflows = WorkflowExecutions(
        engine,
        PIPELINE.read_text(),
        project=options.project,
        location=options.location,
        workflow=options.workflow,
    )
    jobs = CloudRunJobs(
        cast(RunJobConnector, engine.connectors[RUN_JOB]),
        # Jobs an operator runs directly still run as the job's service account.
        lambda: LocalJobRunner(
            baton_jobs(), base_env={**environ, **enforcing_env(twin_policy(settings), settings)}
        ),
        settings.home / "jobs",
    )
    deployment = twin_deployment(
        options.project, options.location, options.workflow, engine.user_env, settings.bq_dataset
    )
    deployed = DeployedWorkflows(
        workflows,
        service_account=f"{deployment.name}-workflow@{options.project}.iam.gserviceaccount.com",
        virtual_time=options.fast_retries,
    )
    api = Api(workflows, jobs, deployed, deployment)
    http = make_http_server(api, options.host, options.port, pages)
    grpc_server, grpc_port = make_grpc_server(
        ExecutionsRouter(deployed), options.host, options.grpc_port
    )
    return Server(http, grpc_server, grpc_port, workflows, jobs, deployed, deployment)
