"""Least privilege, through the mock runtime: one identity per job, each holding exactly the
grants in the table below; nothing public, no basic roles, no authoritative IAM resources."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

from baton import datasets
from baton.jobs import load_jobs
from baton.lake_access import REFERENCE_PREFIX, STEP_LAKE_ACCESS
from baton_infra.effective_access import role_permissions
from baton_infra.iam_graph import Grant, iam_graph, is_iam_type

VIEW, USE = "roles/storage.objectViewer", "roles/storage.objectUser"
LAKE = "bucket acme-lake"
PROJECT = "project acme-data"
RUN_JOBS = "roles/run.jobsExecutorWithOverrides"
POLLER = "projects/acme-data/roles/baton_workflow_polls_jobs"
GC_LISTS = "projects/acme-data/roles/baton_gc_lists_lake"
GC_SWEEPS = "projects/acme-data/roles/baton_gc_sweeps_lake"
GCS_AGENT = "serviceAccount:service-123456789012@gs-project-accounts.iam.gserviceaccount.com"

EXPECTED = {
    Grant("baton-extract", VIEW, LAKE, "under landing/ && not under landing/reference/"),
    Grant("baton-extract", USE, LAKE, "under raw/"),
    Grant("baton-extract", USE, LAKE, "under quarantine/"),
    Grant("baton-extract", VIEW, LAKE, "under staged/ && named */_attempt.json"),
    Grant("baton-extract", "roles/secretmanager.secretAccessor", "secret flights-api-token"),
    Grant("baton-extract", "roles/secretmanager.secretAccessor", "secret flights-db-password"),
    Grant("baton-transform", VIEW, LAKE, "under raw/"),
    Grant("baton-transform", VIEW, LAKE, "under landing/reference/"),
    Grant("baton-transform", USE, LAKE, "under staged/"),
    Grant("baton-transform", USE, LAKE, "under quarantine/"),
    Grant("baton-transform", VIEW, LAKE, "under validated/ && named */_attempt.json"),
    Grant("baton-validate", VIEW, LAKE, "under staged/"),
    Grant("baton-validate", VIEW, LAKE, "under landing/reference/"),
    Grant("baton-validate", USE, LAKE, "under validated/"),
    Grant("baton-validate", USE, LAKE, "under quarantine/"),
    Grant("baton-validate", VIEW, LAKE, "under loaded/ && named */_attempt.json"),
    Grant("baton-load", VIEW, LAKE, "under validated/"),
    Grant("baton-load", USE, LAKE, "under loaded/"),
    Grant("baton-load", "roles/bigquery.dataEditor", "dataset baton"),
    Grant("baton-load", "roles/bigquery.jobUser", PROJECT),
    Grant("baton-workflow", RUN_JOBS, "job baton-extract"),
    Grant("baton-workflow", RUN_JOBS, "job baton-transform"),
    Grant("baton-workflow", RUN_JOBS, "job baton-validate"),
    Grant("baton-workflow", RUN_JOBS, "job baton-load"),
    Grant("baton-workflow", POLLER, PROJECT),
    Grant("baton-workflow", VIEW, LAKE, "under (lake root) && named */_attempt.json"),
    Grant("baton-workflow", "roles/logging.logWriter", PROJECT),
    Grant("baton-scheduler", "roles/workflows.invoker", PROJECT),
    Grant("baton-trigger", "roles/workflows.invoker", PROJECT),
    Grant("baton-trigger", "roles/eventarc.eventReceiver", PROJECT),
    Grant(GCS_AGENT, "roles/pubsub.publisher", "topic baton-landing"),
    Grant("baton-gc", GC_LISTS, LAKE),
    *(
        Grant("baton-gc", GC_SWEEPS, LAKE, f"under {zone}/")
        for zone in ("raw", "staged", "validated", "loaded", "quarantine")
    ),
    Grant("baton-gc-scheduler", "roles/run.invoker", "job baton-gc"),
}
"""Who may do what: the whole IAM graph of the production-like stack."""


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def test_the_iam_graph_is_exactly_the_intended_one(full):
    assert set(iam_graph(full)) == EXPECTED
    assert len(iam_graph(full)) == len(EXPECTED), "a grant is made twice"


def test_the_workflow_may_run_each_job_with_overrides_but_never_change_or_delete_it(full):
    roles = {g.role for g in iam_graph(full) if g.resource.startswith("job ")}
    assert roles == {RUN_JOBS, "roles/run.invoker"}  # the gc's scheduler: no overrides


def test_the_workflow_may_poll_operations_at_the_project_level_where_they_live(full):
    # jobs.run returns a long-running operation projects/<p>/locations/<l>/operations/<op>,
    # not under the job: a grant on the job cannot cover polling it.
    role = full.one("gcp:projects/iAMCustomRole:IAMCustomRole", "pipeline-polling-role")
    assert sorted(role.inputs["permissions"]) == ["run.executions.get", "run.operations.get"]
    assert Grant("baton-workflow", role.outputs["name"], PROJECT) in iam_graph(full)


def test_no_identity_holds_a_cloud_run_role_that_may_update_or_delete_jobs(full):
    broad = {"roles/run.admin", "roles/run.developer", "roles/run.sourceDeveloper"}
    assert not [g for g in iam_graph(full) if g.role in broad]


def test_every_job_runs_as_its_own_service_account(full):
    accounts = {
        r.inputs["template"]["template"]["serviceAccount"]
        for r in full.of_type("gcp:cloudrunv2/job:Job")
    }
    steps = {f"baton-{j.name}@acme-data.iam.gserviceaccount.com" for j in load_jobs()}
    assert accounts == steps | {"baton-gc@acme-data.iam.gserviceaccount.com"}


def test_no_service_account_is_shared_between_jobs_workflow_and_triggers(full):
    ids = Counter(r.inputs["accountId"] for r in full.of_type("gcp:serviceaccount/account:Account"))
    assert all(n == 1 for n in ids.values()), ids
    users = [
        full.one("gcp:workflows/workflow:Workflow", "pipeline-workflow").inputs["serviceAccount"],
        full.one("gcp:eventarc/trigger:Trigger", "landing-trigger").inputs["serviceAccount"],
        *(
            r.inputs["httpTarget"]["oauthToken"]["serviceAccountEmail"]
            for r in full.of_type("gcp:cloudscheduler/job:Job")
        ),
        *(
            r.inputs["template"]["template"]["serviceAccount"]
            for r in full.of_type("gcp:cloudrunv2/job:Job")
        ),
    ]
    assert len(users) == len(set(users)) == len(ids)


def test_nothing_is_granted_to_all_users_or_all_authenticated_users(full):
    everything = [s for r in full.resources for s in _strings(r.inputs)]
    assert not [s for s in everything if "allUsers" in s or "allAuthenticatedUsers" in s]


def test_no_basic_role_is_granted(full):
    basic = {"roles/owner", "roles/editor", "roles/viewer"}
    assert not [g for g in iam_graph(full) if g.role in basic]


def test_only_additive_member_grants_are_used_never_authoritative_bindings(full):
    iam_types = {r.type for r in full.resources if is_iam_type(r.type)}
    assert iam_types and all(t.endswith("Member") for t in iam_types), iam_types


def test_lake_grants_carry_a_condition_so_no_identity_sees_the_whole_bucket(full):
    # The one exception: the gc's list-only role. objects.list is checked on the bucket, so no
    # object-name condition can scope it; it reveals names and sizes, never contents.
    roles = role_permissions(full)
    whole_bucket = [g for g in iam_graph(full) if g.resource == LAKE and not g.condition]
    assert [(g.identity, roles[g.role]) for g in whole_bucket] == [
        ("baton-gc", frozenset({"storage.objects.list"}))
    ]


def test_source_secrets_are_readable_by_extract_alone(full):
    readers = {g.identity for g in iam_graph(full) if g.resource.startswith("secret ")}
    assert readers == {"baton-extract"}


def test_the_access_table_covers_every_registered_reference_table():
    for dataset in datasets.registry().values():
        for ref in dataset.references.values():
            assert ref.path.startswith(REFERENCE_PREFIX), (dataset.name, ref.path)


def test_the_access_table_names_every_job_and_nothing_else():
    assert set(STEP_LAKE_ACCESS) == {job.name for job in load_jobs()}


def test_every_resource_belongs_to_a_component(full):
    components = {r.urn for r in full.resources if r.type.startswith("baton:infra:")}
    orphans = [r.name for r in full.resources if r.custom and r.parent not in components]
    assert not orphans


def test_the_twin_serves_the_grants_the_program_makes(full):
    # `baton serve` answers doctor's getIamPolicy reads from baton_twin.server.deployed_iam;
    # it models a stack without the landing trigger, the source secrets and the gc job.
    from baton_twin.server.deployed_iam import stack_bindings

    program = {
        (g.identity, g.role, g.resource, g.expression)
        for g in iam_graph(full)
        if g.identity not in {"baton-trigger", "baton-gc", "baton-gc-scheduler"}
        and not g.resource.startswith(("secret ", "topic "))
    }
    sa = "@acme-data.iam.gserviceaccount.com"
    names = {"project": PROJECT, "bucket": LAKE, "dataset": "dataset baton"}
    served = {
        (
            b.member.removeprefix("serviceAccount:").removesuffix(sa),
            b.role,
            names.get(b.resource, f"job baton-{b.resource.removeprefix('job ')}"),
            b.expression,
        )
        for b in stack_bindings(
            "acme-data", "baton", "acme-lake", "", tuple(j.name for j in load_jobs())
        )
    }
    assert served == program
