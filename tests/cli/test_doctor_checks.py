"""`baton doctor`'s verdicts on what it read: each check holds for the deployment `pulumi up`
makes and fails, naming the fix, for each way a deployment can differ from it."""

from __future__ import annotations

from typing import Any

import pytest

from baton.jobs import get_job, load_jobs
from baton_cli.doctor import (
    REQUIRED_APIS,
    Check,
    Expected,
    Unread,
    check_apis,
    check_bucket,
    check_dataset,
    check_job,
    check_scheduler,
    check_workflow,
    exit_code,
)
from baton_cli.exit_codes import OperatorExit
from baton_infra.apis import BASE_APIS
from baton_twin.server.deployment import ENABLED_APIS

SOURCE = "main:\n  steps:\n    - done:\n        return: 1\n"
EXPECTED = Expected(
    project="acme-data",
    region="europe-west1",
    name="baton",
    workflow="baton-pipeline",
    source=SOURCE,
    jobs=load_jobs(),
)
SA = "@acme-data.iam.gserviceaccount.com"


def workflow(**over: Any) -> dict[str, Any]:
    return {
        "name": EXPECTED.workflow_name,
        "state": "ACTIVE",
        "sourceContents": SOURCE,
        "serviceAccount": f"projects/acme-data/serviceAccounts/baton-workflow{SA}",
        "userEnvVars": {"BATON_JOB_PREFIX": "baton-", "BATON_LAKE_BUCKET": "acme-lake"},
        **over,
    }


def job(step: str, **task_over: Any) -> dict[str, Any]:
    spec = get_job(step)
    image = f"europe-west1-docker.pkg.dev/acme-data/baton/baton-{step}@sha256:{'0' * 64}"
    task = {
        "serviceAccount": f"baton-{step}{SA}",
        "maxRetries": spec.max_retries,
        "timeout": f"{spec.timeout_s}s",
        "containers": [
            {"image": image, "resources": {"limits": {"cpu": spec.cpu, "memory": spec.memory}}}
        ],
        **task_over,
    }
    return {"name": EXPECTED.job_name(step), "template": {"template": task}}


def scheduler(**target_over: Any) -> dict[str, Any]:
    target = {
        "uri": f"https://workflowexecutions.googleapis.com/v1/{EXPECTED.workflow_name}/executions",
        "httpMethod": "POST",
        "oauthToken": {"serviceAccountEmail": f"baton-scheduler{SA}"},
        **target_over,
    }
    return {"name": EXPECTED.scheduler_name, "state": "ENABLED", "httpTarget": target}


def hardened_bucket() -> dict[str, Any]:
    return {
        "iamConfiguration": {
            "uniformBucketLevelAccess": {"enabled": True},
            "publicAccessPrevention": "enforced",
        },
        "versioning": {"enabled": True},
    }


def only(checks: list[Check]) -> Check:
    (check,) = checks
    return check


# -- one list of APIs


def test_doctor_and_the_twin_require_exactly_the_apis_the_stack_enables():
    assert set(REQUIRED_APIS) == set(BASE_APIS)
    assert set(ENABLED_APIS) == set(BASE_APIS)


def test_a_disabled_api_fails_with_the_command_that_enables_it():
    services = {api: {"state": "ENABLED"} for api in REQUIRED_APIS}
    services["run.googleapis.com"] = {"state": "DISABLED"}
    failing = [c for c in check_apis(services) if not c.ok]
    assert [c.name for c in failing] == ["api run.googleapis.com"]
    assert "gcloud services enable run.googleapis.com" in failing[0].fix


# -- the workflow


def test_the_deployed_workflow_passes_when_it_is_the_repositorys_source():
    assert all(c.ok for c in check_workflow(EXPECTED, workflow()))


def test_a_workflow_whose_source_differs_from_the_yaml_fails_its_source_check():
    checks = {c.name: c for c in check_workflow(EXPECTED, workflow(sourceContents=SOURCE + "#"))}
    source = checks["workflow baton-pipeline source"]
    assert not source.ok and "differs from workflows/pipeline.workflows.yaml" in source.detail
    assert "pulumi up" in source.fix


def test_a_workflow_running_as_another_identity_fails():
    checks = check_workflow(EXPECTED, workflow(serviceAccount=f"other{SA}"))
    (identity,) = [c for c in checks if c.name.endswith("identity")]
    assert not identity.ok and f"baton-workflow{SA}" in identity.detail


def test_a_missing_workflow_is_one_failure_naming_it():
    check = only(check_workflow(EXPECTED, Unread("NOT_FOUND", "no such workflow")))
    assert not check.ok and EXPECTED.workflow_name in check.detail and check.fix == "pulumi up"


# -- the jobs


def test_each_job_deployed_as_jobs_toml_says_passes():
    assert all(only(check_job(EXPECTED, j, job(j.name))).ok for j in load_jobs())


@pytest.mark.parametrize(
    ("over", "said"),
    [
        ({"timeout": "60s"}, "timeout 60s"),
        ({"maxRetries": 3}, "max retries 3"),
        ({"serviceAccount": f"baton-load{SA}"}, "runs as baton-load"),
        (
            {"containers": [{"image": "gcr.io/x/other:1", "resources": {"limits": {}}}]},
            "not a baton-extract image",
        ),
    ],
)
def test_a_job_that_differs_from_jobs_toml_fails_naming_the_difference(over, said):
    check = only(check_job(EXPECTED, get_job("extract"), job("extract", **over)))
    assert not check.ok and said in check.detail


def test_a_job_with_other_memory_fails_naming_both_values():
    read = job("load")
    read["template"]["template"]["containers"][0]["resources"]["limits"]["memory"] = "1Gi"
    check = only(check_job(EXPECTED, get_job("load"), read))
    assert not check.ok and "1Gi" in check.detail and get_job("load").memory in check.detail


def test_with_the_stacks_images_a_job_must_run_exactly_its_image():
    pinned = Expected(**{**EXPECTED.__dict__, "images": {"extract": "registry/baton-extract:v2"}})
    check = only(check_job(pinned, get_job("extract"), job("extract")))
    assert not check.ok and "expected registry/baton-extract:v2" in check.detail


# -- the schedule


def test_the_scheduler_job_posting_an_execution_with_an_oauth_token_passes():
    assert only(check_scheduler(EXPECTED, scheduler())).ok


def test_a_scheduler_job_with_an_oidc_token_instead_fails():
    read = scheduler(oauthToken=None, oidcToken={"serviceAccountEmail": f"baton-scheduler{SA}"})
    check = only(check_scheduler(EXPECTED, read))
    assert not check.ok and "no OAuth token" in check.detail


def test_a_scheduler_job_targeting_another_workflow_fails():
    check = only(check_scheduler(EXPECTED, scheduler(uri="https://example.com/other")))
    assert not check.ok and "https://example.com/other" in check.detail


def test_a_paused_scheduler_job_passes_and_says_it_is_paused():
    read = {**scheduler(), "state": "PAUSED"}
    check = only(check_scheduler(EXPECTED, read))
    assert check.ok and "paused" in check.detail


# -- the lake and the warehouse


def test_a_hardened_bucket_passes():
    assert only(check_bucket("acme-lake", hardened_bucket())).ok


def test_a_bucket_without_public_access_prevention_or_versioning_fails_naming_both():
    read = hardened_bucket()
    read["iamConfiguration"]["publicAccessPrevention"] = "inherited"
    read["versioning"] = {"enabled": False}
    check = only(check_bucket("acme-lake", read))
    assert not check.ok
    assert "public access prevention is inherited" in check.detail and "versioning" in check.detail


def test_a_dataset_readable_by_all_authenticated_users_fails():
    read = {"access": [{"role": "READER", "specialGroup": "allAuthenticatedUsers"}]}
    assert not only(check_dataset("acme-data", "baton", read)).ok


# -- the exit code


def test_all_ok_exits_0_and_a_mismatch_exits_1():
    assert exit_code([Check("a", True, "")]) == OperatorExit.OK
    mismatch = check_workflow(EXPECTED, workflow(state="FAILED"))
    assert exit_code(mismatch) == OperatorExit.EXECUTION_FAILED


def test_a_refused_read_exits_5_and_names_the_permission_it_needs():
    refused = check_bucket(
        "acme-lake", Unread("PERMISSION_DENIED", "caller lacks storage.buckets.get")
    )
    assert exit_code(refused) == OperatorExit.PERMISSION
    assert "storage.buckets.get" in refused[0].fix


def test_an_unreachable_api_exits_75():
    assert exit_code(check_dataset("p", "d", Unread("UNAVAILABLE", "timed out"))) == (
        OperatorExit.UNAVAILABLE
    )
