"""`baton workflow conform --target gcp` for real, against `baton serve`: every conformance case
and probe is deployed through WorkflowsClient, executed through the Executions client, deleted,
and compared with the local engine. The served engine is baton's own, so the full suite must
agree; a real clock on the service side against the local virtual clock shows a difference."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from baton.config import load_settings
from baton_cli.app import app
from baton_cli.conform import PROBES, parse_cases
from baton_twin.server import ServeOptions, Server, build_server

pytestmark = pytest.mark.slow
CASES = Path(__file__).resolve().parents[1] / "engine" / "conformance"


def _serve(home: Path, *, fast: bool) -> Server:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("BATON_", "GOOGLE_"))}
    environ["BATON_HOME"] = str(home)
    options = ServeOptions(host="127.0.0.1", port=0, grpc_port=0, fast_retries=fast)
    return build_server(load_settings(environ=environ), environ, options)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with _serve(tmp_path_factory.mktemp("conform") / "home", fast=True) as server:
        yield server


def conform(server: Server, *args: str) -> tuple[int, str]:
    env = {
        "BATON_HOME": str(Path(server.jobs.log_root).parent),
        "BATON_GCP_PROJECT": "baton-local",
        "BATON_GCP_REGION": "local",
        "BATON_WORKFLOWS_ENDPOINT": server.grpc_endpoint,
        "BATON_RUN_ENDPOINT": server.rest_endpoint,
    }
    result = CliRunner().invoke(app, ["workflow", "conform", "--target", "gcp", *args], env=env)
    return result.exit_code, result.output


def test_every_case_and_probe_is_compared_and_the_twin_agrees_with_itself(served):
    code, output = conform(served, "--cases", str(CASES))
    assert code == 0, output[-3000:]
    cases = [c for p in sorted(CASES.glob("*.yaml")) for c in parse_cases(p.stem, p.read_text())]
    lines = output.splitlines()
    for case in [*cases, *PROBES]:
        label = "skipped" if case.skip else "agree"
        assert any(
            row.startswith(f"{label}    {case.name}") or row.startswith(f"{label}  {case.name}")
            for row in lines
        ), case.name
    assert f"0 differ, {sum(bool(c.skip) for c in cases)} skipped of " in output
    assert "probe::get_type_names  -> result: [integer, double, string, bool" in output


def test_no_temporary_workflow_is_left_behind(served):
    conform(served, "--cases", str(CASES), "--match", "switch")
    names = [w.name for w in served.deployed.list(served.deployed.parent).workflows]
    assert names == [served.workflows.parent]


def test_a_case_the_service_answers_otherwise_is_a_difference_and_exits_1(tmp_path):
    cases = tmp_path / "cases"
    cases.mkdir()
    # The local side runs on a virtual clock starting in 2023; this service runs on real time.
    (cases / "clock.yaml").write_text(
        "cases:\n  - name: now_is_after_mid_2025\n    expr: sys.now() > 1750000000\n"
    )
    with _serve(tmp_path / "home", fast=False) as server:
        code, output = conform(server, "--cases", str(cases), "--no-probes")
    assert code == 1
    assert "differ   clock::now_is_after_mid_2025" in output
    assert "local engine:     result: false" in output
    assert "Cloud Workflows:  result: true" in output
    assert "0 agree, 1 differ, 0 skipped of 1 cases" in output


def test_a_missing_cases_folder_is_a_configuration_error_naming_the_flag(served, tmp_path):
    code, output = conform(served, "--cases", str(tmp_path / "nowhere"))
    assert code == 3 and "--cases" in output


def test_conform_needs_the_gcp_target():
    result = CliRunner().invoke(app, ["workflow", "conform", "--target", "local"])
    assert result.exit_code == 3 and "--target gcp" in result.output
