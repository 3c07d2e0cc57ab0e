"""The local twin under the deployed IAM policy (BATON_TWIN_IAM=enforce): each layer refuses
what the caller's service account could not do on GCP, with Google's 403 error body, and a
refused call ends as "unavailable" (exit code 5), never as a data error or a bug. The policy
is the one the Pulumi program grants (exported from the example stack by baton_infra.policy),
so the demo pipeline passing here proves the whole run fits in it."""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest
from lakes import BUCKET, JAN_1, JAN_2, STEP_OBJECTS, Lake
from typer.testing import CliRunner

from baton import datasets
from baton.config import load_settings
from baton.errors import ExitCode
from baton.iam import PermissionDenied, Policy, condition_holds, load_policy
from baton.policed_storage import PolicedStorage
from baton.stepcli import execute
from baton.storage import GcsStorage, LocalStorage
from baton.warehouse import PolicedWarehouse, TableSpec, open_warehouse
from baton_cli.app import app
from baton_cli.demo import seed
from baton_engine import Engine, ExecutionStore
from baton_twin.connector_names import GET_OBJECT, RUN_JOB
from baton_twin.connectors import GetObjectConnector, RunJobConnector
from baton_twin.jobrunner import JobSpec, LocalJobRunner
from baton_twin.local_engine import PIPELINE, local_engine, policed_log_sink

PROJECT = "my-baton-project"
LAKE = f"projects/_/buckets/{PROJECT}-baton-lake/objects"
EXTRACT_SA = f"baton-extract@{PROJECT}.iam.gserviceaccount.com"
WORKFLOW_SA = f"baton-workflow@{PROJECT}.iam.gserviceaccount.com"
RAW = "raw/flights/dt=2013-01-01"
STAGED = "staged/flights/dt=2013-01-01"


def forbidden(who: str, permission: str, resource: str) -> dict[str, Any]:
    """Google's JSON error body for a refused call."""
    message = f"{who} does not have {permission} access to {resource}"
    return {"error": {"code": 403, "message": message, "status": "PERMISSION_DENIED"}}


def write_policy(policy: Policy, folder: Path) -> Path:
    path = folder / f"policy-{uuid.uuid4().hex[:6]}.json"
    path.write_text(json.dumps(policy.to_json()))
    return path


def enforce(policy_file: Path, who: str | None = None) -> dict[str, str]:
    env = {"BATON_TWIN_IAM": "enforce", "BATON_TWIN_POLICY": str(policy_file)}
    return {**env, "BATON_TWIN_IDENTITY": who} if who else env


# --- the policy document ----------------------------------------------------------------------


def test_the_exported_policy_reads_back_as_the_same_policy(deployed_policy, tmp_path):
    path = write_policy(deployed_policy, tmp_path)
    again = load_policy(path)
    assert again.source == str(path)
    assert {**again.to_json(), "source": ""} == {**deployed_policy.to_json(), "source": ""}


def test_a_file_that_is_not_a_policy_is_a_configuration_error_naming_it(tmp_path):
    bad = tmp_path / "policy.json"
    bad.write_text('{"format": 1}')
    with pytest.raises(Exception) as caught:
        load_policy(bad)
    assert caught.value.exit_code == ExitCode.CONFIG
    assert str(bad) in caught.value.message


def test_an_object_prefix_condition_does_not_match_the_bucket_itself():
    condition = f'resource.name.startsWith("{LAKE}/raw/")'
    assert condition_holds(condition, f"{LAKE}/raw/x.parquet")
    assert not condition_holds(condition, f"projects/_/buckets/{PROJECT}-baton-lake")


# --- storage: the local lake and the gs:// lake -----------------------------------------------


@pytest.fixture
def extract_lake(deployed_policy, tmp_path) -> PolicedStorage:
    (tmp_path / "lake").mkdir()
    return PolicedStorage(LocalStorage(tmp_path / "lake"), deployed_policy, "step:extract")


def test_a_step_writes_and_reads_back_its_own_zone(extract_lake):
    extract_lake.write_bytes(f"{RAW}/_manifest.json", b"{}")
    assert extract_lake.read_bytes(f"{RAW}/_manifest.json") == b"{}"


def test_a_read_outside_the_steps_grants_is_refused_with_googles_403_body(extract_lake):
    extract_lake.inner.write_bytes(f"{STAGED}/_manifest.json", b"{}")
    with pytest.raises(PermissionDenied) as caught:
        extract_lake.read_bytes(f"{STAGED}/_manifest.json")
    assert caught.value.body == forbidden(
        EXTRACT_SA, "storage.objects.get", f"{LAKE}/{STAGED}/_manifest.json"
    )
    assert (caught.value.exit_code, caught.value.reason) == (
        ExitCode.UNAVAILABLE,
        "permission_denied",
    )


def test_a_refused_write_leaves_the_lake_untouched(extract_lake):
    with pytest.raises(PermissionDenied, match=r"storage\.objects\.create"):
        extract_lake.write_bytes(f"{STAGED}/_manifest.json", b"{}")
    with (
        pytest.raises(PermissionDenied, match=r"storage\.objects\.create"),
        extract_lake.sink_targets([f"{STAGED}/part-1.parquet"]),
    ):
        pass
    assert extract_lake.inner.list("staged") == []


def test_a_scratch_file_is_checked_as_a_write(extract_lake):
    extract_lake.write_scratch(f"{RAW}/spool/part-00000.csv", b"a\n")
    with pytest.raises(PermissionDenied, match=r"storage\.objects\.create"):
        extract_lake.write_scratch(f"{STAGED}/spool/part-00000.csv", b"a\n")
    assert extract_lake.inner.list("staged") == []


def test_replacing_an_object_needs_delete_as_well_as_create(deployed_policy, tmp_path):
    (tmp_path / "lake").mkdir()
    policy = deployed_policy.without("step:extract", "storage.objects.delete")
    lake = PolicedStorage(LocalStorage(tmp_path / "lake"), policy, "step:extract")
    lake.write_bytes(f"{RAW}/_attempt.json", b"first")
    with pytest.raises(PermissionDenied, match=r"storage\.objects\.delete"):
        lake.write_bytes(f"{RAW}/_attempt.json", b"second")
    assert lake.inner.read_bytes(f"{RAW}/_attempt.json") == b"first"


def test_listing_is_checked_on_the_bucket_which_no_prefix_grant_covers(extract_lake):
    with pytest.raises(PermissionDenied) as caught:
        extract_lake.sizes(RAW)
    assert caught.value.body == forbidden(
        EXTRACT_SA, "storage.objects.list", f"projects/_/buckets/{PROJECT}-baton-lake"
    )


def test_the_gs_lake_is_policed_the_same_way(deployed_policy, gcs):
    inner = GcsStorage(f"gs://{BUCKET}/iam-{uuid.uuid4().hex[:8]}")
    lake = PolicedStorage(inner, deployed_policy, "step:extract")
    lake.write_bytes(f"{RAW}/_manifest.json", b"{}")
    with pytest.raises(PermissionDenied) as caught:
        lake.write_bytes(f"{STAGED}/_manifest.json", b"{}")
    assert caught.value.body == forbidden(
        EXTRACT_SA, "storage.objects.create", f"{LAKE}/{STAGED}/_manifest.json"
    )
    assert inner.list("") == [f"{RAW}/_manifest.json"]


# --- a step process ---------------------------------------------------------------------------


def attempt(lake: Lake, zone: str, day: date) -> dict[str, Any]:
    return json.loads((lake.root / zone / "flights" / f"dt={day}" / "_attempt.json").read_text())


def test_a_step_refused_by_the_policy_exits_5_and_commits_nothing(lake, deployed_policy, tmp_path):
    no_reads = write_policy(
        deployed_policy.without("step:extract", "storage.objects.get"), tmp_path
    )
    code = lake.run("extract", JAN_1, env=enforce(no_reads, "step:extract"))
    assert code == ExitCode.UNAVAILABLE
    record = attempt(lake, "raw", JAN_1)
    assert record["reason"] == "permission_denied"
    # Its first read: the partition's current commit, before the landing file.
    assert record["message"].startswith(
        f"{EXTRACT_SA} does not have storage.objects.get access to {LAKE}/{RAW}/_manifest.json"
    )
    assert not (lake.root / RAW / "_manifest.json").exists()


def test_a_step_run_as_another_steps_identity_is_refused(lake, deployed_policy_file):
    code = lake.run("extract", JAN_1, env=enforce(deployed_policy_file, "step:load"))
    assert code == ExitCode.UNAVAILABLE


def test_enforce_without_a_policy_file_is_a_configuration_error(lake):
    env = {"BATON_TWIN_IAM": "enforce", "BATON_TWIN_IDENTITY": "step:extract"}
    assert lake.run("extract", JAN_1, env=env) == ExitCode.CONFIG


def test_a_rerun_under_the_deployed_policy_skips_without_listing_the_bucket(
    lake, deployed_policy_file
):
    # Every step's skip check is the same code (baton.step); extract's is the cheapest to run.
    env = enforce(deployed_policy_file, "step:extract")
    assert [lake.run("extract", JAN_1, env=env) for _ in range(2)] == [ExitCode.OK] * 2
    assert attempt(lake, "raw", JAN_1)["outcome"] == "skipped"


@pytest.mark.slow
def test_a_step_on_a_gs_lake_is_policed_like_on_a_local_one(gcs, deployed_policy, tmp_path):
    root = f"gs://{BUCKET}/iam-step-{uuid.uuid4().hex[:8]}"
    storage = GcsStorage(root)
    seed(storage, JAN_2, JAN_2)
    no_writes = write_policy(
        deployed_policy.without("step:extract", "storage.objects.create"), tmp_path
    )
    allowed = write_policy(deployed_policy, tmp_path)
    base = {"BATON_HOME": str(tmp_path / "home"), "BATON_LAKE": root}

    def extract(policy: Path) -> ExitCode:
        with contextlib.redirect_stdout(io.StringIO()):
            return execute(
                STEP_OBJECTS["extract"],
                JAN_2,
                "flights",
                force=False,
                dry_run=False,
                verbose=False,
                environ={**base, **enforce(policy, "step:extract")},
            )

    assert extract(no_writes) == ExitCode.UNAVAILABLE
    assert storage.list("raw") == []  # not even its attempt record could be written
    assert extract(allowed) == ExitCode.OK
    assert f"raw/flights/dt={JAN_2}/_manifest.json" in storage.list("raw")


# --- the warehouse ----------------------------------------------------------------------------


def test_a_load_without_table_data_edit_is_refused_before_the_warehouse_is_touched(
    deployed_policy, tmp_path
):
    (tmp_path / "lake").mkdir()
    policy = deployed_policy.without("step:load", "bigquery.tables.updateData")
    storage = PolicedStorage(LocalStorage(tmp_path / "lake"), policy, "step:load")
    settings = load_settings(environ={"BATON_HOME": str(tmp_path)})
    warehouse = open_warehouse(settings, storage, "r1")
    assert isinstance(warehouse, PolicedWarehouse)
    table = TableSpec.of_dataset(datasets.get("flights"))
    with pytest.raises(PermissionDenied) as caught:
        warehouse.replace_partition(table, JAN_1, [], 0)
    assert caught.value.body == forbidden(
        f"baton-load@{PROJECT}.iam.gserviceaccount.com",
        "bigquery.tables.updateData",
        f"projects/{PROJECT}/datasets/baton",
    )
    assert not settings.duckdb_file.exists()


# --- the workflow's connectors and sys.log ----------------------------------------------------

JOB = "projects/baton-local/locations/local/jobs/baton-extract"
OVERRIDES = {"overrides": {"containerOverrides": [{"args": ["run"]}]}}


def catching(call: str, args: dict[str, Any]) -> str:
    """A workflow that makes one call and returns the error it raised."""
    step = {
        "try": {"call": call, "args": args, "result": "r"},
        "except": {"as": "e", "steps": [{"caught": {"return": "${e}"}}]},
    }
    return json.dumps({"main": {"steps": [{"call_it": step}, {"fine": {"return": "no error"}}]}})


def workflow_engine(tmp_path: Path, policy: Policy) -> tuple[Engine, RunJobConnector]:
    spec = JobSpec("extract", (sys.executable, "-c", "pass"), 30, 0)
    runner = LocalJobRunner({"extract": spec}, base_env={})
    jobs = RunJobConnector(
        runner, project="baton-local", location="local", job_prefix="baton-", policy=policy
    )
    (tmp_path / "lake" / RAW).mkdir(parents=True)
    (tmp_path / "lake" / RAW / "_attempt.json").write_text('{"outcome": "committed"}')
    (tmp_path / "lake" / RAW / "_manifest.json").write_text("{}")
    objects = GetObjectConnector(
        lambda: LocalStorage(tmp_path / "lake"), bucket="twin-lake", prefix="", policy=policy
    )
    connectors = {RUN_JOB: jobs, GET_OBJECT: objects}
    return Engine(ExecutionStore(tmp_path / "executions"), connectors=connectors), jobs


def http_403(message: str) -> dict[str, Any]:
    """The HttpError a connector raises for a refused call, Google's body included."""
    body = {"error": {"code": 403, "message": message, "status": "PERMISSION_DENIED"}}
    return {"message": message, "code": 403, "tags": ["HttpError"], "body": body, "headers": {}}


def test_jobs_run_with_overrides_needs_run_with_overrides_on_the_job(deployed_policy, tmp_path):
    policy = deployed_policy.without("workflow", "run.jobs.runWithOverrides")
    engine, jobs = workflow_engine(tmp_path, policy)
    record = engine.run(catching(RUN_JOB, {"name": JOB, "body": OVERRIDES}))
    assert record.result == http_403(
        f"{WORKFLOW_SA} does not have run.jobs.runWithOverrides access to "
        f"projects/{PROJECT}/locations/europe-west1/jobs/baton-extract"
    )
    assert jobs.runner.history == []


def test_a_refused_wait_leaves_the_started_execution_running_unwatched(deployed_policy, tmp_path):
    engine, jobs = workflow_engine(
        tmp_path, deployed_policy.without("workflow", "run.operations.get")
    )
    record = engine.run(catching(RUN_JOB, {"name": JOB, "body": OVERRIDES}))
    assert record.result == http_403(
        f"{WORKFLOW_SA} does not have run.operations.get access to projects/{PROJECT}"
    )
    for thread in jobs.detached:
        thread.join(timeout=30)
    assert [e.succeeded for e in jobs.runner.history] == [True]


def test_the_workflow_reads_attempt_records_and_no_other_object(deployed_policy, tmp_path):
    engine, _ = workflow_engine(tmp_path, deployed_policy)
    args = {"bucket": "twin-lake", "alt": "media"}
    ok = engine.run(catching(GET_OBJECT, {**args, "object": f"{RAW}/_attempt.json"}))
    refused = engine.run(catching(GET_OBJECT, {**args, "object": f"{RAW}/_manifest.json"}))
    assert ok.result == "no error"
    assert refused.result == http_403(
        f"{WORKFLOW_SA} does not have storage.objects.get access to {LAKE}/{RAW}/_manifest.json"
    )


def test_sys_log_needs_the_log_writer_role(deployed_policy, tmp_path):
    sink = policed_log_sink(deployed_policy.without("workflow", "logging.logEntries.create"), None)
    engine = Engine(ExecutionStore(tmp_path / "executions"), log_sink=sink)
    record = engine.run(catching("sys.log", {"text": "hello"}))
    assert record.result == http_403(
        f"{WORKFLOW_SA} does not have logging.logEntries.create access to projects/{PROJECT}"
    )


# --- the demo pipeline, end to end ------------------------------------------------------------


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    """This process's environment without the machine's BATON_* and GCP settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BATON_", "GOOGLE_CLOUD"))}
    return {**env, "BATON_HOME": str(home), **extra}


@pytest.mark.slow
def test_the_demo_pipeline_passes_under_the_enforced_deployed_policy(lake, deployed_policy_file):
    """`make run`'s path: `baton run` over seeded days, the real YAML and step entrypoints,
    every call of the workflow and of each step checked against the deployed policy."""
    env = clean_env(lake.home, BATON_TWIN_POLICY=str(deployed_policy_file))
    result = CliRunner().invoke(
        app,
        [
            "run",
            "--start",
            "2013-01-01",
            "--end",
            "2013-01-02",
            "--iam",
            "enforce",
            "--concurrency",
            "2",
            "--no-report",
        ],
        env=env,
    )
    assert result.exit_code == 0, result.output
    with duckdb.connect(str(lake.warehouse), read_only=True) as con:
        days = con.execute("SELECT DISTINCT flight_date FROM flights ORDER BY 1").fetchall()
    assert [d for (d,) in days] == [JAN_1, JAN_2]


def test_baton_run_with_iam_enforce_and_no_policy_is_a_configuration_error(tmp_path):
    result = CliRunner().invoke(
        app, ["run", "--date", "2013-01-01", "--iam", "enforce"], env=clean_env(tmp_path)
    )
    assert result.exit_code == ExitCode.CONFIG, result.output
    assert "BATON_TWIN_POLICY" in result.output


@pytest.mark.slow
def test_without_run_operations_get_the_run_fails_clearly_at_the_wait(
    lake, deployed_policy, tmp_path
):
    policy = write_policy(deployed_policy.without("workflow", "run.operations.get"), tmp_path)
    env = clean_env(lake.home, **enforce(policy))
    engine = local_engine(load_settings(environ=env), env, fast_retries=True)
    record = engine.run(PIPELINE.read_text(), {"dates": ["2013-01-01"]}, workflow_id="pipeline")
    for thread in engine.connectors[RUN_JOB].detached:
        thread.join(timeout=60)
    assert record.state == "FAILED"
    assert record.error["tags"] == ["PartitionsFailed"], record.error
    failure = record.error["summary"]["partitions"]["2013-01-01"]["extract"]
    assert failure["reason"] == "job_call_failed"
    assert failure["message"].startswith(
        f"{WORKFLOW_SA} does not have run.operations.get access to projects/{PROJECT}"
    )


def test_baton_serve_with_iam_enforce_and_no_policy_is_a_configuration_error(tmp_path):
    args = ["serve", "--iam", "enforce", "--port", "0", "--grpc-port", "0"]
    result = CliRunner().invoke(app, args, env=clean_env(tmp_path))
    assert result.exit_code == ExitCode.CONFIG, result.output
    assert "policy.json" in result.output


def test_baton_run_refuses_iam_on_the_gcp_target(tmp_path):
    args = ["run", "--date", "2013-01-01", "--iam", "enforce", "--target", "gcp"]
    env = clean_env(tmp_path, BATON_GCP_PROJECT="p", BATON_GCP_REGION="r")
    result = CliRunner().invoke(app, args, env=env)
    assert result.exit_code == ExitCode.USAGE, result.output
    assert "baton serve --iam enforce" in result.output


@pytest.mark.slow
def test_a_refused_attempt_record_read_is_a_failure_no_retry_repeats(
    lake, deployed_policy, tmp_path
):
    """A failed step sends the workflow to its `_attempt.json`. Only a 404 means "no record"
    (which is retried); a refused read surfaces with Google's message and is not retried,
    since no retry can mend a permission."""
    (lake.root / "landing" / "flights" / "2013-01-01.csv").unlink()
    policy = write_policy(deployed_policy.without("workflow", "storage.objects.get"), tmp_path)
    env = clean_env(lake.home, **enforce(policy))
    engine = local_engine(load_settings(environ=env), env, fast_retries=True)
    record = engine.run(PIPELINE.read_text(), {"dates": ["2013-01-01"]}, workflow_id="pipeline")
    assert record.state == "FAILED"
    failure = record.error["summary"]["partitions"]["2013-01-01"]["extract"]
    assert failure["reason"] == "attempt_unreadable"
    assert f"{WORKFLOW_SA} does not have storage.objects.get access" in failure["message"]
    assert len(engine.connectors[RUN_JOB].runner.executions_of("extract")) == 1
