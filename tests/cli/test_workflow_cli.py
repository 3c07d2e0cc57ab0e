"""`baton workflow run|check`: JSON on stdout, the exit code says whether the execution failed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from baton_cli.app import app
from baton_twin.local_engine import PIPELINE

GOOD = """
main:
  params: [args]
  steps:
    - log:
        call: sys.log
        args: {text: hello, severity: INFO}
    - r:
        return: ${args.n * 2}
"""
FAILING = """
main:
  steps:
    - boom:
        raise: {code: 9, message: nope}
"""
INVALID = """
main:
  steps:
    - a:
        next: nowhere
    - b:
        call: undefined_thing
"""


@pytest.fixture
def cli(tmp_path: Path) -> tuple[CliRunner, dict[str, str]]:
    return CliRunner(), {"BATON_HOME": str(tmp_path / "home")}


def write(tmp_path: Path, text: str, name: str = "wf.workflows.yaml") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_run_prints_the_result_as_json_and_exits_0(
    cli: tuple[CliRunner, dict[str, str]], tmp_path: Path
) -> None:
    runner, env = cli
    result = runner.invoke(
        app, ["workflow", "run", write(tmp_path, GOOD), "--data", '{"n": 21}'], env=env
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == 42
    assert '"textPayload": "hello"' in result.stderr
    assert "SUCCEEDED" in result.stderr


def test_run_records_the_execution_under_baton_home(
    cli: tuple[CliRunner, dict[str, str]], tmp_path: Path
) -> None:
    runner, env = cli
    runner.invoke(app, ["workflow", "run", write(tmp_path, GOOD), "--data", '{"n": 1}'], env=env)
    (folder,) = (tmp_path / "home" / "executions").iterdir()
    record = json.loads((folder / "execution.json").read_text())
    assert (record["workflow"], record["state"], record["result"]) == ("wf", "SUCCEEDED", 2)


def test_run_prints_the_error_and_exits_1_when_the_execution_fails(
    cli: tuple[CliRunner, dict[str, str]], tmp_path: Path
) -> None:
    runner, env = cli
    result = runner.invoke(app, ["workflow", "run", write(tmp_path, FAILING)], env=env)
    assert result.exit_code == 1
    assert json.loads(result.stdout) == {"code": 9, "message": "nope"}


def test_run_refuses_an_invalid_workflow_naming_each_problem(
    cli: tuple[CliRunner, dict[str, str]], tmp_path: Path
) -> None:
    runner, env = cli
    result = runner.invoke(app, ["workflow", "run", write(tmp_path, INVALID)], env=env)
    assert result.exit_code == 1
    error = json.loads(result.stdout)
    assert error["tags"] == ["DefinitionError"]
    assert any("main/a: next: nowhere" in i for i in error["issues"])
    assert any("main/b: call to undefined" in i for i in error["issues"])
    assert not (tmp_path / "home" / "executions").exists()


def test_run_rejects_data_that_is_not_json(
    cli: tuple[CliRunner, dict[str, str]], tmp_path: Path
) -> None:
    runner, env = cli
    result = runner.invoke(
        app, ["workflow", "run", write(tmp_path, GOOD), "--data", "{n: 1"], env=env
    )
    assert result.exit_code == 2
    assert "--data is not JSON" in result.output


def test_check_reports_every_problem_with_its_step_path(
    cli: tuple[CliRunner, dict[str, str]], tmp_path: Path
) -> None:
    runner, env = cli
    result = runner.invoke(app, ["workflow", "check", write(tmp_path, INVALID)], env=env)
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "error: main/a: next: nowhere names no step reachable from here",
        "error: main/b: call to undefined subworkflow or function undefined_thing",
    ]


def test_check_accepts_the_production_pipeline(cli: tuple[CliRunner, dict[str, str]]) -> None:
    runner, env = cli
    result = runner.invoke(app, ["workflow", "check", str(PIPELINE)], env=env)
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
