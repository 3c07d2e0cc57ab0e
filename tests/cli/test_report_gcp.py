"""`baton report --target gcp`: the report of an execution read through the official Workflow
Executions client (gRPC, against `baton serve` on loopback) and the lake's records on `gs://`
(the gcp-storage-emulator, holding a copy of the served lake as the steps committed it).

One real execution (2013-01-01 succeeds, 2013-01-04 has no landing file so its extract fails)
is shared by the module; nothing is mocked."""

from __future__ import annotations

import json
import os
import re
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.cloud.workflows import executions_v1
from google.cloud.workflows.executions_v1.services.executions.transports import (
    ExecutionsGrpcTransport,
)
from lakes import BUCKET, Lake
from typer.testing import CliRunner

from baton.config import load_settings
from baton.lake import STEPS
from baton.log import trace_resource
from baton.manifest import Manifest
from baton.storage import GcsStorage
from baton_cli.app import app
from baton_twin.server import ServeOptions, Server, build_server

pytestmark = pytest.mark.slow
PROJECT, REGION, WORKFLOW = "baton-local", "local", "baton-pipeline"
PARENT = f"projects/{PROJECT}/locations/{REGION}/workflows/{WORKFLOW}"
GOOD, BAD = "2013-01-01", "2013-01-04"


@pytest.fixture(scope="module")
def executed(
    seeded_template: Lake, tmp_path_factory: pytest.TempPathFactory, gcs: str
) -> Iterator[tuple[Server, str, str, Lake]]:
    """`baton serve` after one execution over GOOD and BAD, and the lake copied to gs://:
    (server, execution id, lake URI, the served lake)."""
    lake = seeded_template.copy_to(tmp_path_factory.mktemp("gcp-report") / "home")
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("BATON_", "GOOGLE_"))}
    environ["BATON_HOME"] = str(lake.home)
    options = ServeOptions(PROJECT, REGION, WORKFLOW, "127.0.0.1", 0, 0, fast_retries=True)
    with build_server(load_settings(environ=environ), environ, options) as server:
        channel = grpc.insecure_channel(server.grpc_endpoint)
        client = executions_v1.ExecutionsClient(transport=ExecutionsGrpcTransport(channel=channel))
        created = client.create_execution(
            parent=PARENT,
            execution=executions_v1.Execution(argument=json.dumps({"dates": [GOOD, BAD]})),
        )
        deadline = time.monotonic() + 180
        while client.get_execution(name=created.name).state == executions_v1.Execution.State.ACTIVE:
            assert time.monotonic() < deadline, "the execution did not finish"
            time.sleep(0.2)
        channel.close()
        uri = f"gs://{BUCKET}/report-{uuid.uuid4().hex[:8]}"
        remote = GcsStorage(uri)
        for path in sorted(lake.root.rglob("*")):
            if path.is_file():
                remote.write_bytes(path.relative_to(lake.root).as_posix(), path.read_bytes())
        yield server, created.name.rsplit("/", 1)[-1], uri, lake


def report(server: Server, lake_uri: str, home: Path, *args: str) -> Any:
    env = {
        "BATON_HOME": str(home),
        "BATON_LAKE": lake_uri,
        "BATON_GCP_PROJECT": PROJECT,
        "BATON_GCP_REGION": REGION,
        "BATON_WORKFLOWS_ENDPOINT": server.grpc_endpoint,
        "BATON_RUN_ENDPOINT": server.rest_endpoint,
    }
    return CliRunner().invoke(app, ["report", "--target", "gcp", *args], env=env)


@pytest.fixture(scope="module")
def page(executed, tmp_path_factory: pytest.TempPathFactory) -> str:
    server, execution, uri, _ = executed
    home = tmp_path_factory.mktemp("operator")
    result = report(server, uri, home, execution)
    assert result.exit_code == 0, result.output
    path = home / "reports" / f"{execution}.html"
    assert result.output.strip() == f"report: {path.resolve()}"
    return path.read_text()


def test_the_header_shows_the_execution_as_the_executions_api_reports_it(page, executed):
    _, execution, _, _ = executed
    assert f"baton run report: {execution}" in page
    assert '<span class="st FAILED">FAILED</span>' in page
    console = f"https://console.cloud.google.com/workflows/workflow/{REGION}/{WORKFLOW}/execution/{execution}"
    assert console in page


def test_every_date_and_step_appears_in_the_grid(page):
    for day in (GOOD, BAD):
        assert f"<td>{day}</td>" in page
    for step in STEPS:
        assert f"<th>{step}</th>" in page


def test_the_failed_partition_shows_its_reason_and_a_rerun_command_for_the_gcp_target(page):
    assert f"<b>missing_input</b>: no landing file for flights {BAD}" in page
    assert f"baton rerun --date {BAD} --step extract --downstream --target gcp" in page
    assert re.search(r"baton rerun --execution [0-9a-f-]+ --target gcp", page)


def test_manifests_link_to_their_console_pages_with_the_gs_uri_on_hover(page, executed):
    _, _, uri, _ = executed
    bucket, _, prefix = uri.removeprefix("gs://").partition("/")
    key = f"{prefix}/loaded/flights/dt={GOOD}/_manifest.json"
    href = f"https://console.cloud.google.com/storage/browser/_details/{bucket}/{key}?project={PROJECT}"
    assert f'href="{href}" title="gs://{bucket}/{key}"' in page.replace("&amp;", "&")


def test_step_runs_link_to_logs_explorer_filtered_on_the_executions_trace(page, executed):
    _, execution, _, _ = executed
    query = urllib.parse.quote(f'trace="{trace_resource(PROJECT, execution)}"', safe="")
    assert f"https://console.cloud.google.com/logs/query;query={query}" in page


def test_the_timeline_has_a_bar_per_step_run_of_the_execution(page):
    for step in STEPS:
        assert f"{GOOD} {step}: committed in" in page
    assert f"{BAD} extract: failed" in page


def test_the_row_flow_balances_against_the_lakes_manifests(page, executed):
    *_, lake = executed
    loaded = Manifest.from_bytes(
        (lake.root / "loaded" / "flights" / f"dt={GOOD}" / "_manifest.json").read_bytes()
    )
    landed = Manifest.from_bytes(
        (lake.root / "raw" / "flights" / f"dt={GOOD}" / "_manifest.json").read_bytes()
    ).rows_in
    quarantined = sum(
        Manifest.from_bytes(p.read_bytes()).rows_quarantined
        for p in lake.root.glob(f"*/flights/dt={GOOD}/_manifest.json")
    )
    assert landed == loaded.rows_out + quarantined
    assert f"{landed:,} = {loaded.rows_out:,} + {quarantined:,}" in page


def test_a_lake_that_is_not_on_gcs_is_exit_3_naming_baton_lake(executed, tmp_path):
    server, execution, _, _ = executed
    result = report(server, str(tmp_path), tmp_path, execution)
    assert result.exit_code == 3
    assert "BATON_LAKE=gs://BUCKET" in result.output


def test_an_execution_the_api_does_not_know_is_exit_2_naming_it(executed, tmp_path):
    server, _, uri, _ = executed
    result = report(server, uri, tmp_path, "no-such-execution")
    assert result.exit_code == 2
    assert "no-such-execution" in result.output
