"""IAM as GCP checks it: every identity of the deployed stack holds each permission its runtime
calls need, on the resource it is checked on (IAM conditions evaluated on concrete object
names), and no grant goes beyond what some call needs. The calls and the roles' permissions
are tables written from Google's documentation (baton.permission_model), not from the
program, so a wrong or missing grant shows here."""

from __future__ import annotations

from dataclasses import replace

import pytest
from infra_stacks import FULL, ROOT, run

from baton.iam import condition_holds, load_policy
from baton.permission_model import PREDEFINED_ROLES, RUNTIME_CALLS, RuntimeCall
from baton_infra.effective_access import (
    Need,
    granted_by,
    needs,
    problems,
)
from baton_infra.iam_graph import is_iam_type
from baton_infra.mock_runtime import Recording, config_values
from baton_infra.plan import EXAMPLE_STACK
from baton_infra.policy import effective_policy
from baton_infra.policy import main as policy_main


@pytest.fixture(scope="module")
def prefixed() -> Recording:
    return run({**FULL, "baton:lakePrefix": "etl/prod"})


@pytest.fixture(scope="module")
def example() -> Recording:
    return run(config_values(ROOT / EXAMPLE_STACK))


def test_the_production_like_stack_grants_exactly_what_its_calls_need(full):
    assert problems(full) == []


def test_a_prefixed_lake_grants_exactly_what_its_calls_need(prefixed):
    assert problems(prefixed) == []


def test_the_example_stack_grants_exactly_what_its_calls_need(example):
    assert problems(example) == []


def _without(recording: Recording, name: str) -> Recording:
    kept = [r for r in recording.resources if r.name != name]
    assert len(kept) == len(recording.resources) - 1, name
    return replace(recording, resources=kept)


def test_without_the_polling_grant_the_workflow_cannot_wait_for_its_jobs(full):
    found = problems(_without(full, "pipeline-polls"))
    assert any("run.operations.get on project acme-data" in p for p in found), found


def test_without_a_lake_grant_the_step_cannot_write_its_zone(full):
    found = problems(_without(full, "extract-write-raw"))
    assert any(p.startswith("baton-extract cannot write raw/") for p in found), found


def test_a_grant_no_call_needs_is_reported(full):
    (grant,) = [r for r in full.resources if r.name == "pipeline-logs"]
    extra = replace(
        grant, name="pipeline-logs-twice", inputs={**grant.inputs, "role": "roles/pubsub.publisher"}
    )
    found = problems(replace(full, resources=[*full.resources, extra]))
    assert found == [
        "baton-workflow: roles/pubsub.publisher on project acme-data covers no call of the model"
    ]


def _need(identity: str, permission: str, key: str) -> Need:
    call = RuntimeCall(identity, "probe", permission, f"object:{key}", "-")
    return Need(identity, permission, f"object acme-lake/{key}", call)


@pytest.mark.parametrize(
    ("identity", "permission", "key"),
    [
        ("baton-extract", "storage.objects.get", "landing/reference/airlines.csv"),
        ("baton-transform", "storage.objects.create", "raw/flights/dt=2013-01-02/part-x.parquet"),
        ("baton-load", "storage.objects.get", "landing/flights/2013-01-02.csv"),
        ("baton-workflow", "storage.objects.get", "raw/flights/dt=2013-01-02/part-r1.parquet"),
        ("baton-workflow", "storage.objects.create", "raw/flights/dt=2013-01-02/_attempt.json"),
    ],
)
def test_an_identity_cannot_touch_what_its_calls_do_not_need(full, identity, permission, key):
    assert granted_by(full, _need(identity, permission, key)) == []


@pytest.mark.parametrize(
    ("expression", "name", "holds"),
    [
        (
            'resource.name.startsWith("projects/_/buckets/b/objects/raw/")',
            "projects/_/buckets/b/objects/raw/x",
            True,
        ),
        (
            'resource.name.startsWith("projects/_/buckets/b/objects/raw/")',
            "projects/_/buckets/b/objects/rawx",
            False,
        ),
        (
            'resource.name.startsWith("projects/_/buckets/b/objects/landing/") && '
            '!resource.name.startsWith("projects/_/buckets/b/objects/landing/reference/")',
            "projects/_/buckets/b/objects/landing/reference/a.csv",
            False,
        ),
        (
            'resource.name.endsWith("/_attempt.json")',
            "projects/_/buckets/b/objects/raw/_attempt.json",
            True,
        ),
        (None, "anything", True),
    ],
)
def test_conditions_are_evaluated_on_the_object_name(expression, name, holds):
    assert condition_holds(expression, name) is holds


def test_a_condition_the_model_cannot_read_is_refused_not_guessed():
    with pytest.raises(ValueError, match="cannot evaluate"):
        condition_holds('request.time < timestamp("2030-01-01T00:00:00Z")', "x")


def test_every_runtime_call_and_every_role_cites_a_google_page():
    cites = [c.cite for c in RUNTIME_CALLS] + [r.cite for r in PREDEFINED_ROLES.values()]
    assert all(c.startswith("https://cloud.google.com/") for c in cites)


def test_every_role_the_program_grants_is_in_the_model_or_its_own_custom_role(full):
    custom = {r.outputs["name"] for r in full.of_type("gcp:projects/iAMCustomRole:IAMCustomRole")}
    granted = {r.inputs["role"] for r in full.resources if is_iam_type(r.type)}
    assert granted <= set(PREDEFINED_ROLES) | custom


def test_every_identity_of_the_model_exists_in_the_production_like_stack(full):
    identities = {n.identity for n in needs(full)}
    accounts = {r.inputs["accountId"] for r in full.of_type("gcp:serviceaccount/account:Account")}
    assert accounts <= identities


# The exported policy (what the twin enforces) says the same as the matrix: every call of the
# model is allowed, and a grant taken out of the program is a call refused.


def test_the_exported_policy_allows_every_runtime_call_of_the_model(full):
    policy = effective_policy(full)
    refused = [
        f"{n.identity} {n.permission} on {n.resource}"
        for n in needs(full)
        if n.call.who != "storage-agent" and not policy.allows(n.call.who, n.permission, n.resource)
    ]
    assert refused == []


def test_the_exported_policy_refuses_what_a_removed_grant_gave(full):
    policy = effective_policy(_without(full, "pipeline-polls"))
    assert not policy.allows("workflow", "run.operations.get", "project acme-data")
    assert policy.allows("workflow", "run.jobs.run", "job baton-extract")


def test_the_exported_policy_names_every_caller_by_its_service_account(full):
    identities = effective_policy(full).identities
    assert identities["step:extract"] == "baton-extract@acme-data.iam.gserviceaccount.com"
    assert identities["workflow"] == "baton-workflow@acme-data.iam.gserviceaccount.com"
    assert set(identities) == {
        "step:extract",
        "step:transform",
        "step:validate",
        "step:load",
        "workflow",
        "scheduler",
        "trigger",
        "gc",
        "gc-scheduler",
    }


def test_the_exported_policy_maps_lake_keys_under_the_stacks_prefix(prefixed):
    deployment = effective_policy(prefixed).deployment
    assert deployment.object_resource("raw/x") == "object acme-lake/etl/prod/raw/x"
    policy = effective_policy(prefixed)
    assert policy.allows(
        "step:extract", "storage.objects.create", deployment.object_resource("raw/x")
    )
    assert not policy.allows("step:extract", "storage.objects.create", "object acme-lake/raw/x")


def test_the_policy_export_writes_the_file_the_twin_reads(tmp_path, capsys):
    out = tmp_path / "policy.json"
    assert policy_main([str(ROOT / EXAMPLE_STACK), "--out", str(out)]) == 0
    assert load_policy(out).identities["workflow"].startswith("baton-workflow@")
