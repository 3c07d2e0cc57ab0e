"""workflows/pipeline.workflows.yaml as a definition: valid for the real service (the official
Workflows JSON schema), clean under the engine's static checks, and in agreement with the one
source of truth for jobs, zones and exit codes."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from baton.errors import RETRYABLE_EXIT_CODES
from baton.jobs import load_jobs
from baton.lake import OUTPUT_ZONE, STEPS
from baton_engine import check_source
from baton_engine.definition.model import read_document
from baton_twin.connector_names import GET_OBJECT, RUN_JOB
from baton_twin.local_engine import PIPELINE

ROOT = Path(__file__).resolve().parents[2]
# The official schema ships in this wheel (pinned so the check is reproducible).
SCHEMA_PACKAGE = "workflows-emulator==1.10.0"
CONNECTOR_MARGIN_S = 300  # queueing and start-up on top of the job's own worst case


@pytest.fixture(scope="module")
def pipeline() -> dict[str, Any]:
    return read_document(PIPELINE.read_text())


def init_assignments(pipeline: dict[str, Any]) -> dict[str, Any]:
    (init,) = [s["init"] for s in pipeline["main"]["steps"] if "init" in s]
    return {k: v for item in init["assign"] for k, v in item.items()}


def connector_calls(node: Any) -> list[dict[str, Any]]:
    """Every step body in the document that calls the Cloud Run connector."""
    found = []
    if isinstance(node, dict):
        if node.get("call") == RUN_JOB:
            found.append(node)
        for value in node.values():
            found += connector_calls(value)
    elif isinstance(node, list):
        for value in node:
            found += connector_calls(value)
    return found


def test_the_jobs_map_agrees_with_jobs_toml(pipeline: dict[str, Any]) -> None:
    expected = {
        j.name: {"timeout_s": j.timeout_s, "max_retries": j.max_retries} for j in load_jobs()
    }
    assert init_assignments(pipeline)["jobs"] == expected


def test_step_order_zones_and_retryable_codes_agree_with_the_shared_library(
    pipeline: dict[str, Any],
) -> None:
    init = init_assignments(pipeline)
    assert tuple(init["step_order"]) == STEPS
    assert init["zones"] == OUTPUT_ZONE
    assert sorted(init["retryable_exit_codes"]) == sorted(int(c) for c in RETRYABLE_EXIT_CODES)


def test_one_subworkflow_calls_the_connector_with_a_timeout_covering_every_job(
    pipeline: dict[str, Any],
) -> None:
    (call,) = connector_calls(pipeline)
    assert [name for name, body in pipeline.items() if connector_calls(body)] == ["run_job"]
    timeout = call["args"]["connector_params"]["timeout"]
    worst = max(j.timeout_s * (j.max_retries + 1) for j in load_jobs())
    assert isinstance(timeout, int)
    assert timeout >= worst + CONNECTOR_MARGIN_S


def test_the_retry_uses_an_explicit_predicate_and_backoff(pipeline: dict[str, Any]) -> None:
    (run,) = [s["run"] for s in pipeline["run_job"]["steps"] if "run" in s]
    assert run["retry"]["predicate"] == "${job_retryable}"
    assert set(run["retry"]["backoff"]) == {"initial_delay", "max_delay", "multiplier"}
    assert "job_retryable" in pipeline


def test_the_engine_finds_no_issue() -> None:
    workflow, issues = check_source(PIPELINE.read_text(), {RUN_JOB, GET_OBJECT})
    assert workflow is not None
    assert issues == []


def _uv() -> str:
    found = shutil.which("uv") or str(ROOT / ".tools" / "bin" / "uv")
    if not Path(found).exists():
        pytest.fail("uv is needed to fetch the Workflows schema; run `make sync`")
    return found


@pytest.fixture(scope="module")
def official_schema(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The official Workflows JSON schema, from the workflows-emulator wheel installed into an
    isolated environment (its old pins must not touch ours); the uv cache makes repeats fast."""
    env = tmp_path_factory.mktemp("schema-env")
    subprocess.run([_uv(), "venv", "--quiet", str(env)], check=True)
    subprocess.run(
        [
            _uv(),
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--python",
            str(env / "bin" / "python"),
            SCHEMA_PACKAGE,
        ],
        check=True,
    )
    (schema,) = env.glob("lib/python*/site-packages/workflows_emulator/workflow-schema.json")
    return schema


def check_jsonschema(schema: Path, document: Path) -> subprocess.CompletedProcess[str]:
    tool = Path(sys.executable).parent / "check-jsonschema"
    return subprocess.run(
        [str(tool), "--schemafile", str(schema), str(document)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_pipeline_is_valid_under_the_official_schema(official_schema: Path) -> None:
    result = check_jsonschema(official_schema, PIPELINE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_rejects_an_expression_concurrency_limit(
    official_schema: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        PIPELINE.read_text().replace("concurrency_limit: 20", "concurrency_limit: ${concurrency}")
    )
    assert bad.read_text() != PIPELINE.read_text()
    result = check_jsonschema(official_schema, bad)
    assert result.returncode != 0
    assert "concurrency_limit" in result.stdout + result.stderr
