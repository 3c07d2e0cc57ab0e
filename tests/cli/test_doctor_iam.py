"""`baton doctor`'s identity checks: each runtime identity holds every permission its calls need
(baton.permission_model) on the resource where GCP checks it, read from the deployed IAM
policies and expanded with the role table; each gap fails naming the exact grant that closes it.

The policies are the twin's (baton_twin.server.deployed_iam), which one test compares with what
the Pulumi program grants under Pulumi's mock runtime."""

from __future__ import annotations

import dataclasses

from baton.jobs import load_jobs
from baton_cli.doctor import Check, Expected, Unread, exit_code
from baton_cli.doctor_iam import Policies, all_bindings, custom_roles, identity_checks
from baton_cli.exit_codes import OperatorExit
from baton_twin.server.deployed_iam import ServedBinding
from baton_twin.server.deployment import TwinDeployment

PROJECT, REGION, BUCKET = "acme-data", "europe-west1", "acme-lake"
EXPECTED = Expected(
    project=PROJECT,
    region=REGION,
    name="baton",
    workflow="baton-pipeline",
    source="",
    jobs=load_jobs(),
)
SA = f"@{PROJECT}.iam.gserviceaccount.com"


def deployment(lake_prefix: str = "") -> TwinDeployment:
    return TwinDeployment(
        project=PROJECT,
        region=REGION,
        job_prefix="baton-",
        workflow="baton-pipeline",
        lake_bucket=BUCKET,
        bq_dataset="baton",
        lake_prefix=lake_prefix,
    )


def policies(twin: TwinDeployment, lake_prefix: str | None = None) -> Policies:
    read = Policies(
        project=twin.policies.project_policy(PROJECT, 3),
        jobs={step: twin.job_policy(EXPECTED.job_name(step), 3) for step in twin.jobs},
        bucket=twin.bucket_policy(BUCKET, 3),
        dataset=twin.dataset(PROJECT, "baton"),
        lake_bucket=BUCKET,
        lake_prefix=twin.lake_prefix if lake_prefix is None else lake_prefix,
    )
    roles = {name: twin.policies.role(name) for name in custom_roles(all_bindings(read))}
    return dataclasses.replace(read, roles=roles)


def by_name(checks: list[Check]) -> dict[str, Check]:
    return {c.name: c for c in checks}


def without(twin: TwinDeployment, **match: str) -> TwinDeployment:
    twin.policies.bindings = [
        b for b in twin.policies.bindings if not all(getattr(b, k) == v for k, v in match.items())
    ]
    return twin


def test_the_stack_as_deployed_gives_every_identity_every_permission_its_calls_need():
    checks = identity_checks(EXPECTED, policies(deployment()))
    assert all(c.ok for c in checks), [c for c in checks if not c.ok]
    assert {c.name for c in checks} >= {
        "iam baton-extract storage",
        "iam baton-load bigquery",
        "iam baton-workflow run",
        "iam baton-workflow logging",
        "iam baton-scheduler workflows",
    }


def test_a_missing_conditional_write_grant_fails_with_the_gcloud_command_and_its_condition():
    twin = without(deployment(), member=f"serviceAccount:baton-extract{SA}", title="write raw/")
    check = by_name(identity_checks(EXPECTED, policies(twin)))["iam baton-extract storage"]
    assert not check.ok
    assert (
        f"storage.objects.create on gs://{BUCKET}/raw/flights/dt=2013-01-02/_manifest.json"
        in check.detail
    )
    assert check.fix == (
        f"pulumi up, or: gcloud storage buckets add-iam-policy-binding gs://{BUCKET} "
        f"--member=serviceAccount:baton-extract{SA} --role=roles/storage.objectUser "
        f'--condition=\'expression=resource.name.startsWith("projects/_/buckets/{BUCKET}/objects/raw/")'
        ",title=baton baton-extract'"
    )


def test_a_workflow_that_may_run_jobs_but_not_poll_them_fails_on_run_operations_get():
    twin = deployment()
    (polling,) = twin.policies.custom_roles
    twin.policies.custom_roles[polling] = ["run.executions.get"]
    check = by_name(identity_checks(EXPECTED, policies(twin)))["iam baton-workflow run"]
    assert not check.ok
    assert f"run.operations.get on project {PROJECT}" in check.detail
    assert f"custom role projects/{PROJECT}/roles/baton_workflow_polls_jobs" in check.fix


def test_a_missing_job_grant_fails_with_the_run_jobs_command():
    twin = without(deployment(), resource="job load")
    check = by_name(identity_checks(EXPECTED, policies(twin)))["iam baton-workflow run"]
    assert "run.jobs.run on job baton-load" in check.detail
    assert check.fix == (
        f"pulumi up, or: gcloud run jobs add-iam-policy-binding baton-load --region={REGION} "
        f"--member=serviceAccount:baton-workflow{SA} --role=roles/run.jobsExecutorWithOverrides"
    )


def test_a_dataset_without_loads_writer_entry_fails_the_bigquery_check():
    twin = without(deployment(), resource="dataset")
    check = by_name(identity_checks(EXPECTED, policies(twin)))["iam baton-load bigquery"]
    assert not check.ok and "bigquery.tables.updateData on dataset" in check.detail
    assert "userByEmail: baton-load" in check.fix


def test_grants_conditioned_on_another_lake_prefix_do_not_cover_the_prefixed_lake():
    checks = identity_checks(EXPECTED, policies(deployment(), lake_prefix="team-a"))
    assert not by_name(checks)["iam baton-transform storage"].ok


def test_a_lake_prefix_deployed_with_its_own_conditions_passes():
    assert all(c.ok for c in identity_checks(EXPECTED, policies(deployment("team-a"))))


def test_a_condition_doctor_cannot_evaluate_is_not_counted_as_a_grant():
    twin = without(deployment(), member=f"serviceAccount:baton-workflow{SA}", resource="bucket")
    twin.policies.bindings.append(
        ServedBinding(
            "bucket",
            "roles/storage.objectViewer",
            f"serviceAccount:baton-workflow{SA}",
            "office hours",
            'request.time < timestamp("2030-01-01T00:00:00Z")',
        )
    )
    assert not by_name(identity_checks(EXPECTED, policies(twin)))["iam baton-workflow storage"].ok


def test_a_basic_role_on_a_runtime_identity_is_flagged_with_the_command_that_removes_it():
    twin = deployment()
    twin.policies.bindings.append(
        ServedBinding("project", "roles/editor", f"serviceAccount:baton-load{SA}")
    )
    check = by_name(identity_checks(EXPECTED, policies(twin)))["iam baton-load extra roles"]
    assert not check.ok and "roles/editor on project" in check.detail
    assert check.fix == (
        f"gcloud projects remove-iam-policy-binding {PROJECT} "
        f"--member=serviceAccount:baton-load{SA} --role=roles/editor"
    )


def test_an_admin_role_on_the_bucket_is_flagged_too():
    twin = deployment()
    twin.policies.bindings.append(
        ServedBinding("bucket", "roles/storage.admin", f"serviceAccount:baton-extract{SA}")
    )
    assert not by_name(identity_checks(EXPECTED, policies(twin)))[
        "iam baton-extract extra roles"
    ].ok


def test_a_refused_project_policy_read_says_which_permission_doctor_needs_and_exits_5():
    read = dataclasses.replace(
        policies(deployment()), project=Unread("PERMISSION_DENIED", "caller lacks permission")
    )
    checks = identity_checks(EXPECTED, read)
    refused = by_name(checks)["iam policy project"]
    assert "resourcemanager.projects.getIamPolicy" in refused.fix
    assert exit_code(checks) is OperatorExit.PERMISSION


def with_extract_secret(twin: TwinDeployment, granted: bool) -> Policies:
    read = policies(twin)
    bindings = (
        [
            {
                "role": "roles/secretmanager.secretAccessor",
                "members": [f"serviceAccount:baton-extract{SA}"],
            }
        ]
        if granted
        else []
    )
    return dataclasses.replace(read, secrets={"flights-api-token": {"bindings": bindings}})


def test_the_secret_the_extract_job_reads_must_grant_it_access():
    twin = deployment()
    ok = by_name(identity_checks(EXPECTED, with_extract_secret(twin, True)))
    assert ok["iam baton-extract secretmanager"].ok
    missing = by_name(identity_checks(EXPECTED, with_extract_secret(twin, False)))
    check = missing["iam baton-extract secretmanager"]
    assert "secretmanager.versions.access on secret flights-api-token" in check.detail
    assert check.fix == (
        "pulumi up, or: gcloud secrets add-iam-policy-binding flights-api-token "
        f"--project={PROJECT} --member=serviceAccount:baton-extract{SA} "
        "--role=roles/secretmanager.secretAccessor"
    )


def test_the_secrets_doctor_reads_are_the_ones_the_jobs_env_references():
    from baton_cli.doctor_gcp import job_secrets

    env = [
        {"name": "BATON_LAKE", "value": "gs://acme-lake"},
        {
            "name": "BATON_SECRET_FLIGHTS_API_TOKEN",
            "valueSource": {"secretKeyRef": {"secret": "flights-api-token", "version": "latest"}},
        },
    ]
    job = {"template": {"template": {"containers": [{"env": env}]}}}
    assert job_secrets(job) == ["flights-api-token"]
    assert job_secrets(Unread("NOT_FOUND", "gone")) == []


def test_a_deployed_landing_trigger_is_checked_for_its_event_and_execution_rights():
    twin = deployment()
    trigger = f"serviceAccount:baton-trigger{SA}"
    twin.policies.bindings.append(ServedBinding("project", "roles/workflows.invoker", trigger))
    checks = by_name(identity_checks(EXPECTED, policies(twin)))
    assert checks["iam baton-trigger workflows"].ok
    eventarc = checks["iam baton-trigger eventarc"]
    assert (
        not eventarc.ok and f"eventarc.events.receiveEvent on project {PROJECT}" in eventarc.detail
    )
    assert "--role=roles/eventarc.eventReceiver" in eventarc.fix
