"""`baton report` as a command: where it writes, and each bad input's message and exit code
(over execution records written by the engine's own ExecutionStore, no pipeline run)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from baton_cli.app import app
from baton_engine import ExecutionRecord, ExecutionStore


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(("BATON_", "GOOGLE_CLOUD")):
            monkeypatch.delenv(name)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    (tmp_path / "home" / "lake").mkdir(parents=True)
    return tmp_path / "home"


def record(home: Path, execution_id: str, start: float, state: str = "FAILED") -> None:
    argument = {"dates": ["2013-01-01"], "dataset": "flights"}
    error = {"message": "the connector was refused", "tags": ["ConnectionError"]}
    ExecutionStore(home / "executions").create(
        ExecutionRecord(
            execution_id, "baton-pipeline", argument, state, error=error, start=start, end=start + 2
        ),
        "main: {}",
    )


def baton(home: Path, *args: str) -> Any:
    return CliRunner().invoke(app, ["report", *args], env={"BATON_HOME": str(home)})


def test_it_writes_report_html_in_the_execution_folder_and_prints_the_path(home):
    record(home, "ex-1", time.time())
    result = baton(home, "ex-1")
    assert result.exit_code == 0, result.output
    path = home / "executions" / "ex-1" / "report.html"
    assert result.output.strip() == f"report: {path}"
    page = path.read_text()
    assert "the connector was refused" in page  # an execution that failed before its summary
    assert "2013-01-01" in page


def test_without_an_id_it_reports_the_newest_execution(home):
    record(home, "older", time.time() - 60)
    record(home, "newer", time.time())
    result = baton(home)
    assert result.exit_code == 0, result.output
    assert "executions/newer/report.html" in result.output


def test_out_writes_where_asked_with_links_relative_to_it(home, tmp_path):
    record(home, "ex-1", time.time())
    out = tmp_path / "elsewhere" / "run.html"
    result = baton(home, "ex-1", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert 'href="../home/executions/ex-1"' in out.read_text()


def test_an_unknown_execution_is_a_usage_error_naming_it(home):
    result = baton(home, "no-such-run")
    assert result.exit_code == 2
    assert "no execution no-such-run" in result.output


def test_no_executions_at_all_says_how_to_start_one(home):
    result = baton(home)
    assert result.exit_code == 2
    assert "start one with baton run" in result.output


def test_an_out_file_that_cannot_be_written_is_exit_3_naming_it(home, tmp_path):
    record(home, "ex-1", time.time())
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = baton(home, "ex-1", "--out", str(blocker / "run.html"))
    assert result.exit_code == 3
    assert f"cannot write the report to {blocker / 'run.html'}" in result.output


def test_the_gcp_target_without_a_project_is_exit_3_naming_the_flag(home):
    result = baton(home, "ex-1", "--target", "gcp")
    assert result.exit_code == 3
    assert "--project" in result.output and "BATON_GCP_PROJECT" in result.output
