"""The REST front of `baton serve`: Workflow Executions API v1 and Cloud Run Admin API v2 paths
on a loopback HTTP server, JSON in the proto3 JSON mapping the official REST clients speak,
plus the console pages: the executions at `/`, an execution's report at
`/executions/<id>/report` and the partition status at `/status`."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from google.cloud.workflows.executions_v1 import Execution, ExecutionView
from google.cloud.workflows_v1 import Workflow
from google.protobuf import json_format
from google.protobuf.message import Message

from baton_twin.server.api_error import ApiError
from baton_twin.server.console import Pages, error_page, render_console
from baton_twin.server.deployment import TwinDeployment
from baton_twin.server.executions import WorkflowExecutions
from baton_twin.server.iam_routes import iam_routes
from baton_twin.server.jobs import CloudRunJobs
from baton_twin.server.workflows_api import DeployedWorkflows

_SEG = r"[^/:?]+"
_WORKFLOW = rf"projects/{_SEG}/locations/{_SEG}/workflows/{_SEG}"
_EXECUTION = rf"{_WORKFLOW}/executions/{_SEG}"
_JOB = rf"projects/{_SEG}/locations/{_SEG}/jobs/{_SEG}"
_OPERATION = rf"projects/{_SEG}/locations/{_SEG}/operations/{_SEG}"
_LOCATION = rf"projects/{_SEG}/locations/{_SEG}"
_REPORT = re.compile(r"/executions/([^/]+)/report")
MAX_BODY = 1 << 20
Route = Callable[[re.Match[str], dict[str, list[str]], dict[str, Any]], Any]


def _json(message: Any) -> dict[str, Any]:
    raw = message if isinstance(message, Message) else type(message).pb(message)
    return json_format.MessageToDict(raw)


def _view(query: dict[str, list[str]], default: ExecutionView) -> ExecutionView:
    value = (query.get("view") or [""])[0]
    if not value:
        return default
    try:
        return ExecutionView[value] if not value.isdigit() else ExecutionView(int(value))
    except (KeyError, ValueError) as err:
        raise ApiError("INVALID_ARGUMENT", f"unknown view {value!r}") from err


class Api:
    """Routes one request to the backends; returns (HTTP status, JSON body)."""

    def __init__(
        self,
        workflows: WorkflowExecutions,
        jobs: CloudRunJobs,
        deployed: DeployedWorkflows | None = None,
        deployment: TwinDeployment | None = None,
    ) -> None:
        self.workflows = workflows
        self.jobs = jobs
        self.deployed = deployed
        self.deployment = deployment
        self.routes: list[tuple[str, re.Pattern[str], Route]] = [
            ("POST", re.compile(rf"/v1/({_WORKFLOW})/executions"), self._create),
            ("GET", re.compile(rf"/v1/({_WORKFLOW})/executions"), self._list),
            ("GET", re.compile(rf"/v1/({_EXECUTION})"), self._get),
            ("POST", re.compile(rf"/v1/({_EXECUTION}):cancel"), self._cancel),
            ("POST", re.compile(rf"/v2/({_JOB}):run"), self._run_job),
            ("GET", re.compile(rf"/v2/({_OPERATION})"), self._operation),
        ]
        if deployed is not None:
            self.routes += deployed_workflow_routes(deployed)
        if deployment is not None:
            self.routes += deployment_routes(deployment) + iam_routes(deployment)

    def handle(self, method: str, path: str, query: dict[str, list[str]], body: bytes) -> Any:
        """The JSON answer of one API request; ApiError for refusals."""
        allowed = False
        for verb, pattern, handler in self.routes:
            match = pattern.fullmatch(path)
            if match is None:
                continue
            allowed = True
            if verb == method:
                return handler(match, query, _body(body))
        if allowed:
            raise ApiError("UNIMPLEMENTED", f"{method} is not supported on {path}")
        raise ApiError("NOT_FOUND", f"no API at {path}")

    def _create(self, m: re.Match[str], q: dict[str, list[str]], body: dict[str, Any]) -> Any:
        execution = Execution.pb(Execution())
        try:
            json_format.ParseDict(body, execution)
        except json_format.ParseError as err:
            raise ApiError("INVALID_ARGUMENT", f"bad Execution: {err}") from err
        return _json(self.workflows.create(m.group(1), Execution.wrap(execution)))

    def _list(self, m: re.Match[str], q: dict[str, list[str]], body: dict[str, Any]) -> Any:
        try:
            size = int((q.get("pageSize") or ["0"])[0])
        except ValueError as err:
            raise ApiError("INVALID_ARGUMENT", "pageSize must be an integer") from err
        token = (q.get("pageToken") or [""])[0]
        view = _view(q, ExecutionView.BASIC)
        return _json(self.workflows.list(m.group(1), size, token, view))

    def _get(self, m: re.Match[str], q: dict[str, list[str]], body: dict[str, Any]) -> Any:
        return _json(self.workflows.get(m.group(1), _view(q, ExecutionView.FULL)))

    def _cancel(self, m: re.Match[str], q: dict[str, list[str]], body: dict[str, Any]) -> Any:
        return _json(self.workflows.cancel(m.group(1)))

    def _run_job(self, m: re.Match[str], q: dict[str, list[str]], body: dict[str, Any]) -> Any:
        return _json(self.jobs.run(m.group(1), body))

    def _operation(self, m: re.Match[str], q: dict[str, list[str]], body: dict[str, Any]) -> Any:
        return _json(self.jobs.get(m.group(1)))


def deployed_workflow_routes(
    deployed: DeployedWorkflows,
) -> list[tuple[str, re.Pattern[str], Route]]:
    """Workflows API v1: create, list, get and delete workflows."""

    def create(m: re.Match[str], q: dict[str, list[str]], body: dict[str, Any]) -> Any:
        workflow = Workflow.pb(Workflow())
        try:
            json_format.ParseDict(body, workflow)
        except json_format.ParseError as err:
            raise ApiError("INVALID_ARGUMENT", f"bad Workflow: {err}") from err
        workflow_id = (q.get("workflowId") or [""])[0]
        return _json(deployed.create(m.group(1), workflow_id, Workflow.wrap(workflow)))

    def listed(m: re.Match[str], q: dict[str, list[str]], body: dict[str, Any]) -> Any:
        try:
            size = int((q.get("pageSize") or ["0"])[0])
        except ValueError as err:
            raise ApiError("INVALID_ARGUMENT", "pageSize must be an integer") from err
        return _json(deployed.list(m.group(1), size, (q.get("pageToken") or [""])[0]))

    return [
        ("POST", re.compile(rf"/v1/({_LOCATION})/workflows"), create),
        ("GET", re.compile(rf"/v1/({_LOCATION})/workflows"), listed),
        ("GET", re.compile(rf"/v1/({_WORKFLOW})"), lambda m, q, b: _json(deployed.get(m.group(1)))),
        (
            "DELETE",
            re.compile(rf"/v1/({_WORKFLOW})"),
            lambda m, q, b: _json(deployed.delete(m.group(1))),
        ),
    ]


def deployment_routes(deployment: TwinDeployment) -> list[tuple[str, re.Pattern[str], Route]]:
    """The read APIs `baton doctor` uses: Cloud Run jobs.get, Service Usage services.get,
    Cloud Scheduler jobs.get, Storage buckets.get, BigQuery datasets.get."""
    return [
        ("GET", re.compile(rf"/v2/({_JOB})"), lambda m, q, b: _json(deployment.job(m.group(1)))),
        (
            "GET",
            re.compile(rf"/v1/projects/({_SEG})/services/({_SEG})"),
            lambda m, q, b: deployment.service(m.group(1), m.group(2)),
        ),
        (
            "GET",
            re.compile(rf"/v1/({_LOCATION}/jobs/{_SEG})"),
            lambda m, q, b: deployment.scheduler_job(m.group(1)),
        ),
        (
            "GET",
            re.compile(rf"/storage/v1/b/({_SEG})"),
            lambda m, q, b: deployment.bucket(m.group(1)),
        ),
        (
            "GET",
            re.compile(rf"/bigquery/v2/projects/({_SEG})/datasets/({_SEG})"),
            lambda m, q, b: deployment.dataset(m.group(1), m.group(2)),
        ),
    ]


def _body(raw: bytes) -> dict[str, Any]:
    if not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ApiError("INVALID_ARGUMENT", f"the request body is not JSON: {err}") from err
    if not isinstance(value, dict):
        raise ApiError("INVALID_ARGUMENT", "the request body must be a JSON object")
    return value


def console_page(
    api: Api, pages: Pages, path: str, query: dict[str, list[str]]
) -> tuple[int, str] | None:
    """The (HTTP status, HTML) of a console path, or None when `path` is not a console page."""
    if path in ("/", "/index.html"):
        return HTTPStatus.OK, render_console(api.workflows, pages=pages)
    match = _REPORT.fullmatch(path)
    if match is not None and pages.report is not None:
        execution_id = unquote(match.group(1))
        try:
            return HTTPStatus.OK, pages.report(execution_id)
        except LookupError as err:
            return HTTPStatus.NOT_FOUND, error_page("no such execution", str(err.args[0]))
    if path == "/status" and pages.status is not None:
        try:
            return HTTPStatus.OK, pages.status(query)
        except ValueError as err:
            return HTTPStatus.BAD_REQUEST, error_page("bad status query", str(err))
    return None


def make_http_server(
    api: Api, host: str, port: int, pages: Pages | None = None
) -> ThreadingHTTPServer:
    """A threading HTTP server answering the API and the console pages."""
    console = pages or Pages()

    class Handler(BaseHTTPRequestHandler):
        server_version = "baton-serve"

        def log_message(self, format: str, *args: Any) -> None:
            return  # quiet: the console and the execution records say what happened

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _answer(self, method: str) -> None:
            url = urlsplit(self.path)
            page = console_page(api, console, url.path, parse_qs(url.query))
            if method == "GET" and page is not None:
                self._send(page[0], page[1].encode(), "text/html; charset=utf-8")
                return
            length = int(self.headers.get("Content-Length") or 0)
            try:
                if length > MAX_BODY:
                    raise ApiError("INVALID_ARGUMENT", "the request body is too large")
                raw = self.rfile.read(length) if length else b""
                answer = api.handle(method, url.path, parse_qs(url.query), raw)
                status = HTTPStatus.OK
            except ApiError as err:
                answer, status = err.body(), err.http_code
            self._send(status, json.dumps(answer).encode(), "application/json; charset=utf-8")

        def do_GET(self) -> None:
            self._answer("GET")

        def do_POST(self) -> None:
            self._answer("POST")

        def do_DELETE(self) -> None:
            self._answer("DELETE")

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    return server
