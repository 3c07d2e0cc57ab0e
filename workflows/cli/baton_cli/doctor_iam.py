"""`baton doctor`'s identity checks: the IAM policies a deployment holds, expanded with the
permission model's role table (and the custom roles as IAM describes them), against every
runtime call in `baton.permission_model`, checked on the resource where GCP checks it.

Pure: `doctor_gcp` reads the policies (`Policy` JSON of each getIamPolicy, the dataset's access
entries, the custom roles' `roles.get`), this module returns one `Check` per identity x service
(storage, bigquery, run, ...) with the exact grant that fixes a gap, and one per identity that
holds a role far beyond its calls (owner, editor, any `*.admin`...).

A grant on the project covers every resource in it (IAM inheritance); a grant on the lake bucket
covers an object when its condition holds for `projects/_/buckets/<bucket>/objects/<name>`
(https://cloud.google.com/iam/docs/conditions-resource-attributes#resource-name). A condition
doctor cannot evaluate (anything but `&&` of [!]resource.name.startsWith/endsWith) is taken not
to cover: doctor may then report a gap GCP would not, never the reverse.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from baton.iam import condition_holds
from baton.lake_access import (
    READ_ROLE,
    STEP_LAKE_ACCESS,
    WRITE_ROLE,
    attempt_records_condition,
    object_name,
    prefix_condition,
)
from baton.permission_model import JOB_RUNNER_ROLE, PREDEFINED_ROLES, RUNTIME_CALLS, RuntimeCall
from baton_cli.doctor import Check, Expected, Read, Unread, failed, passed

DATASET_LEGACY_ROLES = {
    # "The following legacy mappings will be applied: OWNER roles/bigquery.dataOwner, WRITER
    # roles/bigquery.dataEditor, READER roles/bigquery.dataViewer ... will return only the
    # legacy format": https://cloud.google.com/bigquery/docs/reference/rest/v2/datasets#Dataset
    "OWNER": "roles/bigquery.dataOwner",
    "WRITER": "roles/bigquery.dataEditor",
    "READER": "roles/bigquery.dataViewer",
}
POWERFUL_ROLES = frozenset(
    {
        "roles/owner",
        "roles/editor",
        "roles/run.developer",
        "roles/iam.serviceAccountUser",
        "roles/iam.serviceAccountTokenCreator",
        "roles/resourcemanager.projectIamAdmin",
        "roles/storage.objectAdmin",
        "roles/bigquery.dataOwner",
    }
)
"""Roles no runtime identity of baton needs, each far beyond its calls (basic roles: "Avoid
using basic roles", https://cloud.google.com/iam/docs/roles-overview#basic); any `*.admin` role
counts too."""
POLICY_READ_PERMISSIONS = {
    # "Authorization requires the following IAM permission", on each method's REST reference.
    "project": "resourcemanager.projects.getIamPolicy",
    "job": "run.jobs.getIamPolicy",
    "bucket": "storage.buckets.getIamPolicy",
    "dataset": "bigquery.datasets.get",
    "secret": "secretmanager.secrets.getIamPolicy",
    "role": "iam.roles.get",
}
BQ_DATASET_ACCESS = "https://cloud.google.com/bigquery/docs/control-access-to-resources-iam"
SHOWN = 3
"""Missing needs listed per line; the rest are counted."""


@dataclass(frozen=True)
class Binding:
    """One member holding one role on one resource, maybe under a condition."""

    role: str
    member: str
    resource: str
    """`project`, `job <step>`, `bucket`, `dataset` or `secret <id>`."""
    expression: str | None = None


@dataclass(frozen=True)
class Policies:
    """What doctor read about who may do what; a `Read` is the API's JSON or why not."""

    project: Read
    jobs: Mapping[str, Read]
    """step -> the job's getIamPolicy."""
    bucket: Read
    dataset: Read
    """datasets.get (its `access` entries are the dataset's IAM)."""
    lake_bucket: str
    lake_prefix: str = ""
    secrets: Mapping[str, Read] = field(default_factory=dict)
    """secret id -> its getIamPolicy (the secrets the extract job's env references)."""
    roles: Mapping[str, Read] = field(default_factory=dict)
    """custom role name -> its roles.get."""


def policy_bindings(policy: Read, resource: str) -> list[Binding]:
    """The bindings of an IAM `Policy` (version 3, conditions kept); none when unread."""
    if isinstance(policy, Unread):
        return []
    return [
        Binding(b.get("role", ""), m, resource, (b.get("condition") or {}).get("expression"))
        for b in policy.get("bindings") or []
        for m in b.get("members") or []
    ]


def dataset_bindings(dataset: Read) -> list[Binding]:
    """A dataset's access entries as bindings (legacy role names mapped to IAM roles)."""
    if isinstance(dataset, Unread):
        return []
    out = []
    for entry in dataset.get("access") or []:
        role = DATASET_LEGACY_ROLES.get(entry.get("role", ""), entry.get("role", ""))
        email = entry.get("userByEmail")
        if email:
            kind = "serviceAccount" if email.endswith(".gserviceaccount.com") else "user"
            out.append(Binding(role, f"{kind}:{email}", "dataset"))
        elif entry.get("iamMember"):
            out.append(Binding(role, entry["iamMember"], "dataset"))
    return out


def all_bindings(policies: Policies) -> list[Binding]:
    """Every binding doctor read, on every resource."""
    out = policy_bindings(policies.project, "project")
    for step, policy in sorted(policies.jobs.items()):
        out += policy_bindings(policy, f"job {step}")
    out += policy_bindings(policies.bucket, "bucket")
    out += dataset_bindings(policies.dataset)
    for secret, policy in sorted(policies.secrets.items()):
        out += policy_bindings(policy, f"secret {secret}")
    return out


def custom_roles(bindings: Iterable[Binding]) -> list[str]:
    """The custom roles the bindings name (doctor reads each with roles.get)."""
    return sorted({b.role for b in bindings if b.role.startswith(("projects/", "organizations/"))})


def role_permissions(role: str, roles: Mapping[str, Read]) -> frozenset[str] | None:
    """A role's permissions: the model's table, or a custom role as read; None if unknown."""
    if role in PREDEFINED_ROLES:
        return PREDEFINED_ROLES[role].permissions
    read = roles.get(role)
    if read is None or isinstance(read, Unread):
        return None
    return frozenset(read.get("includedPermissions") or [])


# -- needs


@dataclass(frozen=True)
class Need:
    """One runtime call resolved against the deployment."""

    account_id: str
    email: str
    call: RuntimeCall
    resource: str
    """`project`, `job <step>`, `bucket`, `dataset`, `secret <id>` or `workflow`."""
    object: str | None = None
    """For an object call: the object's resource name the bucket condition is evaluated on."""
    shown: str = ""
    """The resource as the user names it, when `resource` is not (`job baton-load`)."""

    @property
    def service(self) -> str:
        """The permission's service (`storage`, `run`, ...), the unit of one check line."""
        return self.call.permission.split(".", 1)[0]

    @property
    def where(self) -> str:
        """The resource as a user would name it."""
        if self.object is not None:
            return "gs://" + self.object.removeprefix("projects/_/buckets/").replace(
                "/objects/", "/", 1
            )
        return self.shown or self.resource


def _account(call: RuntimeCall, name: str) -> str | None:
    if call.who.startswith("step:"):
        return f"{name}-{call.who.removeprefix('step:')}"
    return {"workflow": f"{name}-workflow", "scheduler": f"{name}-scheduler"}.get(call.who)


def needs(expected: Expected, policies: Policies, *, trigger: bool = False) -> list[Need]:
    """Every runtime call of the model this deployment makes. The landing trigger's calls count
    when `trigger` (its identity holds a role); the storage agent's publish is Google's own."""
    out = []
    for call in RUNTIME_CALLS:
        account = _account(call, expected.name)
        if call.who == "trigger" and trigger:
            account = f"{expected.name}-trigger"
        if account is None:
            continue
        email = expected.account(account)
        kind, _, detail = call.on.partition(":")
        if kind == "object":
            name = object_name(policies.lake_prefix, detail)
            obj = f"projects/_/buckets/{policies.lake_bucket}/objects/{name}"
            out.append(Need(account, email, call, "bucket", obj))
        elif kind == "secret":
            out += [Need(account, email, call, f"secret {s}") for s in sorted(policies.secrets)]
        elif kind == "job":
            shown = f"job {expected.name}-{detail}"
            out.append(Need(account, email, call, f"job {detail}", shown=shown))
        elif kind == "project":
            out.append(Need(account, email, call, kind, shown=f"project {expected.project}"))
        elif kind == "workflow":
            out.append(Need(account, email, call, kind, shown=f"workflow {expected.workflow}"))
        elif kind == "dataset":
            out.append(Need(account, email, call, kind))
    return out


def _covers(binding: Binding, need: Need) -> bool:
    if binding.resource == "project":
        on = need.object or "project"
    elif binding.resource == need.resource:
        on = need.object or need.resource
    else:
        return False
    try:
        return condition_holds(binding.expression, on)
    except ValueError:
        return False  # a condition doctor cannot evaluate: not counted (see the docstring)


def granted(need: Need, bindings: Iterable[Binding], roles: Mapping[str, Read]) -> bool:
    """Whether some binding gives the need's identity its permission on its resource."""
    member = f"serviceAccount:{need.email}"
    for b in bindings:
        if b.member != member:
            continue
        permissions = role_permissions(b.role, roles)
        if permissions is not None and need.call.permission in permissions and _covers(b, need):
            return True
    return False


# -- fixes


def _smallest_role(permission: str) -> str | None:
    holding = [
        (len(r.permissions), n) for n, r in PREDEFINED_ROLES.items() if permission in r.permissions
    ]
    return min(holding)[1] if holding else None


def _bucket_condition(need: Need, policies: Policies) -> tuple[str, str]:
    """The role and condition infra grants for this object need (the same CEL)."""
    bucket, prefix = policies.lake_bucket, policies.lake_prefix
    if need.call.who == "workflow":
        return READ_ROLE, attempt_records_condition(bucket, prefix)
    step = need.call.who.removeprefix("step:")
    access = STEP_LAKE_ACCESS[step]
    key = need.call.on.removeprefix("object:")
    written = next((p for p in access.write if key.startswith(p)), None)
    if written is not None:
        return WRITE_ROLE, prefix_condition(bucket, prefix, written)
    attempts = next((p for p in access.read_attempts if key.startswith(p)), None)
    if attempts is not None:
        return READ_ROLE, attempt_records_condition(bucket, prefix, attempts)
    read = max((p for p in access.read if key.startswith(p)), key=len, default=key)
    return READ_ROLE, prefix_condition(bucket, prefix, read, access.read_except)


def fix_for(need: Need, expected: Expected, policies: Policies) -> str:
    """The one grant that gives `need` what it lacks, as `pulumi up` would make it."""
    member = f"--member=serviceAccount:{need.email}"
    role = _smallest_role(need.call.permission)
    if role is None:
        role_id = f"{expected.name}-workflow".replace("-", "_") + "_polls_jobs"
        return (
            f"pulumi up (it creates custom role projects/{expected.project}/roles/{role_id} "
            f"with {need.call.permission} and grants it to {need.account_id} on the project)"
        )
    if need.object is not None:
        role, condition = _bucket_condition(need, policies)
        return (
            f"pulumi up, or: gcloud storage buckets add-iam-policy-binding "
            f"gs://{policies.lake_bucket} {member} --role={role} "
            f"--condition='expression={condition},title=baton {need.account_id}'"
        )
    if need.resource.startswith("job "):
        job = f"{expected.name}-{need.resource.removeprefix('job ')}"
        if need.call.who == "workflow":  # it runs with overrides: the role infra grants
            role = JOB_RUNNER_ROLE
        return (
            f"pulumi up, or: gcloud run jobs add-iam-policy-binding {job} "
            f"--region={expected.region} {member} --role={role}"
        )
    if need.resource.startswith("secret "):
        secret = need.resource.removeprefix("secret ")
        return (
            f"pulumi up, or: gcloud secrets add-iam-policy-binding {secret} "
            f"--project={expected.project} {member} --role={role}"
        )
    if need.resource == "dataset":
        return (
            f"pulumi up, or add the access entry {{role: WRITER, userByEmail: {need.email}}} "
            f"to the dataset ({BQ_DATASET_ACCESS})"
        )
    return f"pulumi up, or: gcloud projects add-iam-policy-binding {expected.project} {member} --role={role}"


# -- the checks


def _unread_policy(name: str, kind: str, read: Unread) -> Check:
    if read.status in ("PERMISSION_DENIED", "UNAUTHENTICATED"):
        fix = (
            f"run doctor as an identity holding {POLICY_READ_PERMISSIONS[kind]} (the deployer does)"
        )
    elif read.status == "NOT_FOUND":
        fix = "pulumi up"
    else:
        fix = "try again"
    return failed(
        name, f"cannot read the {kind} policy: {read.status} ({read.message})", fix, read.status
    )


def policy_checks(policies: Policies) -> list[Check]:
    """One failure per policy or custom role that could not be read (the picture is partial)."""
    checks = []
    reads: list[tuple[str, str, Read]] = [("iam policy project", "project", policies.project)]
    reads += [(f"iam policy job {s}", "job", r) for s, r in sorted(policies.jobs.items())]
    reads += [("iam policy bucket", "bucket", policies.bucket)]
    reads += [(f"iam policy secret {s}", "secret", r) for s, r in sorted(policies.secrets.items())]
    reads += [(f"iam role {n}", "role", r) for n, r in sorted(policies.roles.items())]
    for name, kind, read in reads:
        if isinstance(read, Unread):
            checks.append(_unread_policy(name, kind, read))
    return checks


def _group_check(
    account: str,
    service: str,
    group: list[Need],
    bindings: list[Binding],
    expected: Expected,
    policies: Policies,
) -> Check:
    name = f"iam {account} {service}"
    missing = [n for n in group if not granted(n, bindings, policies.roles)]
    permissions = sorted({n.call.permission for n in group})
    if not missing:
        where = len({n.where for n in group})
        return passed(
            name, f"holds {', '.join(permissions)} on the {where} resource(s) its calls touch"
        )
    shown = "; ".join(f"{n.call.permission} on {n.where} ({n.call.call})" for n in missing[:SHOWN])
    more = f"; and {len(missing) - SHOWN} more" if len(missing) > SHOWN else ""
    return failed(name, f"lacks {shown}{more}", fix_for(missing[0], expected, policies))


def _extra_power(
    account: str, email: str, bindings: list[Binding], expected: Expected
) -> Check | None:
    member = f"serviceAccount:{email}"
    extra = sorted(
        {
            (b.role, b.resource)
            for b in bindings
            if b.member == member and (b.role in POWERFUL_ROLES or b.role.endswith(".admin"))
        }
    )
    if not extra:
        return None
    role, resource = extra[0]
    fix = (
        f"gcloud projects remove-iam-policy-binding {expected.project} --member={member} --role={role}"
        if resource == "project"
        else f"remove {role} from {account} on {resource}"
    )
    listed = ", ".join(f"{r} on {where}" for r, where in extra)
    return failed(
        f"iam {account} extra roles",
        f"holds {listed}: far beyond its runtime calls (least privilege)",
        fix,
    )


def identity_checks(expected: Expected, policies: Policies) -> list[Check]:
    """Unreadable policies, then one check per runtime identity x service, then any identity
    holding a powerful role it does not need."""
    checks = policy_checks(policies)
    bindings = all_bindings(policies)
    trigger = f"serviceAccount:{expected.account(f'{expected.name}-trigger')}"
    every = needs(expected, policies, trigger=any(b.member == trigger for b in bindings))
    groups: dict[tuple[str, str], list[Need]] = {}
    for need in every:
        groups.setdefault((need.account_id, need.service), []).append(need)
    for (account, service), group in groups.items():
        checks.append(_group_check(account, service, group, bindings, expected, policies))
    for account in dict.fromkeys(n.account_id for n in every):
        extra = _extra_power(account, expected.account(account), bindings, expected)
        if extra is not None:
            checks.append(extra)
    return checks
