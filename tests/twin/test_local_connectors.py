"""The connectors bound to local stand-ins, exercised through real workflow executions.

`jobs.run` runs tiny `python -c` jobs through the real local job runner; `objects.get` reads a
real local lake directory.
"""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from google.cloud import run_v2
from google.protobuf import json_format

from baton.storage import LocalStorage
from baton_engine import Engine, ExecutionRecord, ExecutionStore
from baton_twin.connector_names import GET_OBJECT, RUN_JOB
from baton_twin.connectors import GetObjectConnector, RunJobConnector
from baton_twin.jobrunner import JobSpec, LocalJobRunner

NAME = "projects/baton-local/locations/local/jobs/baton-{job}"


def jobs_engine(tmp_path: Path, *specs: JobSpec) -> tuple[Engine, LocalJobRunner]:
    runner = LocalJobRunner({s.name: s for s in specs}, base_env={})
    connector = RunJobConnector(
        runner, project="baton-local", location="local", job_prefix="baton-"
    )
    engine = Engine(ExecutionStore(tmp_path / "executions"), connectors={RUN_JOB: connector})
    return engine, runner


def py(name: str, code: str, *, retries: int = 0) -> JobSpec:
    return JobSpec(name, (sys.executable, "-c", textwrap.dedent(code)), 60, retries)


def run_job_workflow(args: dict[str, Any]) -> str:
    step = {"run": {"call": RUN_JOB, "args": args, "result": "execution"}}
    return json.dumps({"main": {"steps": [step, {"done": {"return": "${execution}"}}]}})


def run(engine: Engine, source: str, argument: Any = None) -> ExecutionRecord:
    return engine.run(source, argument)


def test_a_successful_execution_returns_an_execution_resource(tmp_path: Path) -> None:
    engine, _ = jobs_engine(tmp_path, py("ok", "print('working')"))
    record = run(engine, run_job_workflow({"name": NAME.format(job="ok")}))
    assert record.state == "SUCCEEDED", record.error
    execution = record.result
    assert execution["name"].startswith(NAME.format(job="ok") + "/executions/baton-ok-")
    # Proto3 JSON, as the REST API answers: a zero count is omitted.
    counts = [execution.get(k, 0) for k in ("taskCount", "succeededCount", "failedCount")]
    assert counts == [1, 1, 0]
    log_dir = Path(execution["logUri"].removeprefix("file://"))
    assert "working" in (log_dir / "task-0.log").read_text()
    assert log_dir.is_relative_to(tmp_path / "executions" / record.id / "jobs")


def test_overrides_replace_args_merge_env_and_set_the_task_count(tmp_path: Path) -> None:
    code = f"""
        import json, os, sys
        i = os.environ["CLOUD_RUN_TASK_INDEX"]
        out = {{"argv": sys.argv[1:], "who": os.environ["WHO"], "count": os.environ["CLOUD_RUN_TASK_COUNT"]}}
        open(os.path.join({str(tmp_path)!r}, "seen-" + i), "w").write(json.dumps(out))
    """
    engine, _ = jobs_engine(tmp_path, py("dump", code))
    body = {
        "overrides": {
            "containerOverrides": [
                {"args": ["run", "--force"], "env": [{"name": "WHO", "value": "wf"}]}
            ],
            "taskCount": 2,
            "timeout": "30s",
        }
    }
    record = run(engine, run_job_workflow({"name": NAME.format(job="dump"), "body": body}))
    assert record.state == "SUCCEEDED", record.error
    seen = [json.loads((tmp_path / f"seen-{i}").read_text()) for i in range(2)]
    assert seen == [{"argv": ["run", "--force"], "who": "wf", "count": "2"}] * 2


def test_a_failed_execution_raises_an_operation_error(tmp_path: Path) -> None:
    engine, runner = jobs_engine(tmp_path, py("bad", "import sys; sys.exit(4)", retries=1))
    record = run(engine, run_job_workflow({"name": NAME.format(job="bad")}))
    assert record.state == "FAILED"
    error = record.error
    assert error["tags"] == ["OperationError"]
    metadata = error["operation"]["metadata"]
    assert metadata["name"].startswith(NAME.format(job="bad") + "/executions/")
    assert (metadata["failedCount"], metadata["retriedCount"]) == (1, 1)
    assert runner.history[0].tasks[0].exit_codes == [4, 4]


def test_the_operation_error_carries_the_whole_execution_as_a_real_execution_message(
    tmp_path: Path,
) -> None:
    runner = LocalJobRunner(
        {"bad": py("bad", "import sys; sys.exit(4)")},
        base_env={"BATON_LAKE": "gs://acme-lake/etl", "BATON_SECRET_API_TOKEN": "s3cr3t-value"},
    )
    connector = RunJobConnector(
        runner, project="baton-local", location="local", job_prefix="baton-"
    )
    engine = Engine(ExecutionStore(tmp_path / "executions"), connectors={RUN_JOB: connector})
    body = {
        "overrides": {
            "containerOverrides": [
                {"args": ["run", "--date", "2013-01-02"], "env": [{"name": "WHO", "value": "wf"}]}
            ]
        }
    }
    record = run(engine, run_job_workflow({"name": NAME.format(job="bad"), "body": body}))
    metadata = record.error["operation"]["metadata"]
    message = run_v2.Execution()
    json_format.ParseDict(
        {k: v for k, v in metadata.items() if k != "@type"}, run_v2.Execution.pb(message)
    )
    (container,) = message.template.containers
    assert list(container.args) == ["run", "--date", "2013-01-02"]
    env = {e.name: e for e in container.env}
    assert (env["WHO"].value, env["BATON_LAKE"].value) == ("wf", "gs://acme-lake/etl")
    assert env["BATON_SECRET_API_TOKEN"].value_source.secret_key_ref.version == "latest"
    assert "s3cr3t-value" not in json.dumps(record.error)


def test_an_execution_past_the_connector_timeout_raises_timeout_error(tmp_path: Path) -> None:
    engine, _ = jobs_engine(tmp_path, py("slow", "import time; time.sleep(60)"))
    args = {"name": NAME.format(job="slow"), "connector_params": {"timeout": 1}}
    record = run(engine, run_job_workflow(args))
    assert record.state == "FAILED"
    assert record.error["tags"] == ["TimeoutError"]
    assert record.duration is not None and record.duration < 10


def test_an_unknown_job_is_a_404(tmp_path: Path) -> None:
    engine, _ = jobs_engine(tmp_path, py("ok", "pass"))
    record = run(engine, run_job_workflow({"name": NAME.format(job="nope")}))
    assert record.error["tags"] == ["HttpError"] and record.error["code"] == 404


def test_cloud_run_variables_cannot_be_overridden(tmp_path: Path) -> None:
    engine, runner = jobs_engine(tmp_path, py("ok", "pass"))
    env = [{"name": "CLOUD_RUN_TASK_INDEX", "value": "7"}]
    body = {"overrides": {"containerOverrides": [{"env": env}]}}
    record = run(engine, run_job_workflow({"name": NAME.format(job="ok"), "body": body}))
    assert record.error["code"] == 400
    assert runner.history == []


def test_unknown_connector_arguments_are_a_type_error(tmp_path: Path) -> None:
    engine, _ = jobs_engine(tmp_path, py("ok", "pass"))
    record = run(engine, run_job_workflow({"name": NAME.format(job="ok"), "location": "x"}))
    assert record.error["tags"] == ["TypeError"]


def test_concurrency_limit_2_runs_at_most_two_job_processes_at_once(tmp_path: Path) -> None:
    spans = tmp_path / "spans"
    spans.mkdir()
    code = f"""
        import os, time
        path = os.path.join({str(spans)!r}, os.environ["CLOUD_RUN_EXECUTION"])
        start = time.time()
        time.sleep(0.4)
        open(path, "w").write(f"{{start}} {{time.time()}}")
    """
    engine, _ = jobs_engine(tmp_path, py("nap", code))
    source = f"""
main:
  steps:
    - fan_out:
        parallel:
          concurrency_limit: 2
          for:
            value: i
            range: [1, 5]
            steps:
              - run:
                  call: {RUN_JOB}
                  args:
                    name: {NAME.format(job="nap")}
    - done:
        return: ok
"""
    record = run(engine, source)
    assert record.state == "SUCCEEDED", record.error
    intervals = [tuple(map(float, p.read_text().split())) for p in spans.iterdir()]
    assert len(intervals) == 5
    peak = max(sum(s <= t < e for s, e in intervals) for t, _ in intervals)
    assert peak == 2


@pytest.fixture
def lake(tmp_path: Path) -> LocalStorage:
    root = tmp_path / "lake"
    root.mkdir()
    storage = LocalStorage(root)
    storage.write_bytes("raw/flights/dt=2013-03-01/_attempt.json", b'{"exit_code": 4}')
    storage.write_bytes("notes.txt", b"plain text")  # the lake root is gs://my-lake/pre
    return storage


def get_object_engine(tmp_path: Path, lake: LocalStorage) -> Engine:
    connector = GetObjectConnector(lambda: lake, bucket="my-lake", prefix="pre")
    return Engine(ExecutionStore(tmp_path / "executions"), connectors={GET_OBJECT: connector})


def get_object(bucket: str, name: str, alt: str | None = "media") -> str:
    args: dict[str, Any] = {
        "bucket": bucket,
        "object": "${text.url_encode(" + json.dumps(name) + ")}",
    }
    if alt:
        args["alt"] = alt
    step = {"get": {"call": GET_OBJECT, "args": args, "result": "data"}}
    return json.dumps({"main": {"steps": [step, {"done": {"return": "${data}"}}]}})


def test_get_object_media_decodes_json(tmp_path: Path, lake: LocalStorage) -> None:
    engine = get_object_engine(tmp_path, lake)
    record = engine.run(get_object("my-lake", "pre/raw/flights/dt=2013-03-01/_attempt.json"))
    assert record.result == {"exit_code": 4}


def test_get_object_media_of_text_is_a_string(tmp_path: Path, lake: LocalStorage) -> None:
    engine = get_object_engine(tmp_path, lake)
    assert engine.run(get_object("my-lake", "pre/notes.txt")).result == "plain text"


def test_get_object_without_alt_returns_metadata(tmp_path: Path, lake: LocalStorage) -> None:
    engine = get_object_engine(tmp_path, lake)
    meta = engine.run(get_object("my-lake", "pre/notes.txt", alt=None)).result
    assert meta["name"] == "pre/notes.txt" and meta["size"] == "10"


@pytest.mark.parametrize(
    ("bucket", "name"),
    [("my-lake", "pre/missing.json"), ("other-bucket", "pre/notes.txt"), ("my-lake", "notes.txt")],
)
def test_get_object_of_a_missing_object_is_a_404(
    tmp_path: Path, lake: LocalStorage, bucket: str, name: str
) -> None:
    engine = get_object_engine(tmp_path, lake)
    record = engine.run(get_object(bucket, name))
    assert record.error["tags"] == ["HttpError"] and record.error["code"] == 404
