"""Who may do what in the deployment `baton serve` stands for: the IAM bindings `pulumi up`
grants (infra/baton_infra: step_job.py, pipeline.py, triggers.py; a test compares the two under
Pulumi's mock runtime), served as the getIamPolicy answers `baton doctor` reads.

Shapes follow the references (proto3 JSON of `google.iam.v1.Policy`):
- Resource Manager `projects.getIamPolicy`: https://cloud.google.com/resource-manager/reference/rest/v3/projects/getIamPolicy
- Cloud Run `jobs.getIamPolicy` (run_v2 JobsClient.get_iam_policy): https://cloud.google.com/run/docs/reference/rest/v2/projects.locations.jobs/getIamPolicy
- Storage `buckets.getIamPolicy`: https://cloud.google.com/storage/docs/json_api/v1/buckets/getIamPolicy
  ("This must be set to a value of 3 to retrieve IAM policies containing conditions": the twin
  refuses a lower version for the conditional lake policy, as GCS does)
- IAM `projects.roles.get`: https://cloud.google.com/iam/docs/reference/rest/v1/projects.roles/get
- BigQuery dataset access entries, legacy role names ("will return only the legacy format"):
  https://cloud.google.com/bigquery/docs/reference/rest/v2/datasets#Dataset

Tests edit `bindings` or `custom_roles` to serve a deployment with a permission missing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from baton.lake_access import (
    READ_ROLE,
    STEP_LAKE_ACCESS,
    WRITE_ROLE,
    attempt_records_condition,
    prefix_condition,
)
from baton.permission_model import JOB_RUNNER_ROLE
from baton_twin.server.api_error import ApiError

POLLING_PERMISSIONS = ("run.executions.get", "run.operations.get")
ETAG = "BwYtwin="  # base64, as the clients decode `etag` as bytes


@dataclass(frozen=True)
class ServedBinding:
    """One member with one role on one resource (`project`, `job <step>`, `bucket`,
    `dataset`), maybe under a condition."""

    resource: str
    role: str
    member: str
    title: str = ""
    expression: str | None = None


def _sa(project: str, account_id: str) -> str:
    return f"serviceAccount:{account_id}@{project}.iam.gserviceaccount.com"


def stack_bindings(
    project: str, name: str, bucket: str, lake_prefix: str, steps: tuple[str, ...]
) -> list[ServedBinding]:
    """The grants of the stack named `name` (no landing trigger, no source secrets)."""
    workflow = _sa(project, f"{name}-workflow")
    polling = f"projects/{project}/roles/{name.replace('-', '_')}_workflow_polls_jobs"
    out = [
        ServedBinding("project", polling, workflow),
        ServedBinding("project", "roles/logging.logWriter", workflow),
        ServedBinding("project", "roles/bigquery.jobUser", _sa(project, f"{name}-load")),
        ServedBinding("project", "roles/workflows.invoker", _sa(project, f"{name}-scheduler")),
        ServedBinding("dataset", "roles/bigquery.dataEditor", _sa(project, f"{name}-load")),
        ServedBinding(
            "bucket",
            READ_ROLE,
            workflow,
            "read attempt records",
            attempt_records_condition(bucket, lake_prefix),
        ),
    ]
    out += [ServedBinding(f"job {step}", JOB_RUNNER_ROLE, workflow) for step in steps]
    for step, access in STEP_LAKE_ACCESS.items():
        who = _sa(project, f"{name}-{step}")
        out += [
            ServedBinding(
                "bucket",
                READ_ROLE,
                who,
                f"read {p}",
                prefix_condition(bucket, lake_prefix, p, access.read_except),
            )
            for p in access.read
        ]
        out += [
            ServedBinding(
                "bucket", WRITE_ROLE, who, f"write {p}", prefix_condition(bucket, lake_prefix, p)
            )
            for p in access.write
        ]
        out += [
            ServedBinding(
                "bucket",
                READ_ROLE,
                who,
                f"read-attempts {p}",
                attempt_records_condition(bucket, lake_prefix, p),
            )
            for p in access.read_attempts
        ]
    return out


def policy(bindings: list[ServedBinding], resource: str, requested_version: int) -> dict[str, Any]:
    """The `Policy` of `resource`: one binding per (role, condition), members sorted."""
    grouped: dict[tuple[str, str, str | None], list[str]] = {}
    for b in bindings:
        if b.resource == resource:
            grouped.setdefault((b.role, b.title, b.expression), []).append(b.member)
    conditional = any(expression for _, _, expression in grouped)
    if conditional and requested_version < 3:
        raise ApiError(
            "INVALID_ARGUMENT",
            f"the {resource} policy has conditional role bindings: request policy version 3",
        )
    out = []
    for (role, title, expression), members in sorted(grouped.items(), key=str):
        binding: dict[str, Any] = {"role": role, "members": sorted(members)}
        if expression:
            binding["condition"] = {"title": title, "expression": expression}
        out.append(binding)
    return {"version": 3 if conditional else 1, "etag": ETAG, "bindings": out}


@dataclass
class DeployedIam:
    """The served stack's bindings and custom roles."""

    project: str
    bindings: list[ServedBinding]
    custom_roles: dict[str, list[str]] = field(default_factory=dict)

    def project_policy(self, project: str, requested_version: int) -> dict[str, Any]:
        """projects.getIamPolicy."""
        if project != self.project:
            raise ApiError("NOT_FOUND", f"Project '{project}' was not found")
        return policy(self.bindings, "project", requested_version)

    def resource_policy(self, resource: str, requested_version: int) -> dict[str, Any]:
        """getIamPolicy of a job (`job <step>`) or the lake bucket (`bucket`)."""
        return policy(self.bindings, resource, requested_version)

    def dataset_access(self) -> list[dict[str, str]]:
        """The dataset's access entries for the stack's grants (legacy role names)."""
        legacy = {"roles/bigquery.dataEditor": "WRITER", "roles/bigquery.dataViewer": "READER"}
        return [
            {"role": legacy.get(b.role, b.role), "userByEmail": b.member.split(":", 1)[1]}
            for b in self.bindings
            if b.resource == "dataset"
        ]

    def role(self, name: str) -> dict[str, Any]:
        """projects.roles.get of a custom role."""
        if name not in self.custom_roles:
            raise ApiError("NOT_FOUND", f"The role named {name} was not found.")
        return {
            "name": name,
            "title": name.rsplit("/", 1)[-1],
            "includedPermissions": sorted(self.custom_roles[name]),
            "stage": "GA",
            "etag": ETAG,
        }


def deployed_iam(
    project: str, name: str, bucket: str, lake_prefix: str, steps: tuple[str, ...]
) -> DeployedIam:
    """The IAM of the stack `pulumi up` makes with these names."""
    polling = f"projects/{project}/roles/{name.replace('-', '_')}_workflow_polls_jobs"
    return DeployedIam(
        project,
        stack_bindings(project, name, bucket, lake_prefix, steps),
        {polling: list(POLLING_PERMISSIONS)},
    )
