"""`make plan` prints, offline, the resources, the IAM graph and the permission matrix for a
stack file."""

from __future__ import annotations

import io
import runpy
from collections import Counter

import pulumi
from infra_stacks import FULL, ROOT

from baton.jobs import load_jobs
from baton_infra.mock_runtime import RecordingMocks, RecordingMonitor
from baton_infra.plan import main


def test_the_plan_of_the_example_stack_lists_resources_and_the_iam_graph():
    out = io.StringIO()
    assert main([], out) == 0
    text = out.getvalue()
    assert "RESOURCES" in text and "IAM GRAPH" in text
    for job in load_jobs():
        assert f"gcp:cloudrunv2/job:Job  {job.name}-job" in text
        assert f"\n  baton-{job.name}\n" in text
    assert "roles/run.jobsExecutorWithOverrides  on job baton-extract" in text
    assert "if under landing/ && not under landing/reference/" in text


def test_the_plan_prints_the_permission_matrix_and_its_check():
    out = io.StringIO()
    assert main([], out) == 0
    text = out.getvalue()
    assert "PERMISSION MATRIX" in text
    assert (
        "run.operations.get  on project my-baton-project  <- "
        "projects/my-baton-project/roles/baton_workflow_polls_jobs"
    ) in text
    assert "PERMISSION CHECK: ok" in text


def test_a_missing_stack_file_is_a_usage_error(tmp_path, capsys):
    assert main([str(tmp_path / "Pulumi.nope.yaml")], io.StringIO()) == 2
    assert "Pulumi.nope.yaml not found" in capsys.readouterr().err


def test_an_invalid_stack_file_is_a_configuration_error_naming_the_key(tmp_path, capsys):
    stack = tmp_path / "Pulumi.dev.yaml"
    stack.write_text("config:\n  gcp:region: europe-west1\n")
    assert main([str(stack)], io.StringIO()) == 3
    assert "gcp:project is required" in capsys.readouterr().err


def test_the_program_entrypoint_composes_the_whole_stack():
    mocks = RecordingMocks()
    monitor = RecordingMonitor(mocks)
    pulumi.runtime.set_mocks(mocks, project="baton", stack="main", preview=False, monitor=monitor)
    pulumi.runtime.set_all_config(dict(FULL))

    def program() -> None:
        runpy.run_path(str(ROOT / "infra" / "__main__.py"))

    pulumi.runtime.test(program)()
    types = Counter(r.type for r in monitor.registered)
    assert types["gcp:cloudrunv2/job:Job"] == len(load_jobs()) + 1  # the steps and the gc
    assert types["gcp:workflows/workflow:Workflow"] == 1
    assert types["gcp:cloudscheduler/job:Job"] == 2  # the pipeline's and the gc's
