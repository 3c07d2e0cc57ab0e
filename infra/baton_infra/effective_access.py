"""Effective access of an offline run: which permissions each identity holds on which
resource (IAM conditions on object names evaluated on concrete names), checked against the
permission model, and the matrix `make plan` prints.

A grant on the project covers every resource in it; a grant on a bucket covers its objects
when its condition holds for `projects/_/buckets/<bucket>/objects/<name>`
(https://cloud.google.com/iam/docs/conditions-resource-attributes#resource-name).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TextIO

from baton.iam import reaches
from baton.lake_access import object_name
from baton.permission_model import PREDEFINED_ROLES, RUNTIME_CALLS, RuntimeCall
from baton_infra.iam_graph import Grant, iam_graph
from baton_infra.mock_runtime import Recording
from baton_infra.stack_config import StackConfig

STORAGE_AGENT_DOMAIN = "@gs-project-accounts.iam.gserviceaccount.com"


@dataclass(frozen=True)
class Need:
    """One runtime call resolved against the stack: who, which permission, on what."""

    identity: str
    permission: str
    resource: str
    call: RuntimeCall


def identity_of(who: str, config: StackConfig, grants: list[Grant]) -> str | None:
    """The account id (or IAM member) a caller of the model runs as in this stack; None when
    the stack does not deploy that caller."""
    if who.startswith("step:"):
        return config.job_prefix + who.removeprefix("step:")
    if who == "storage-agent":
        agents = {g.identity for g in grants if g.identity.endswith(STORAGE_AGENT_DOMAIN)}
        return next(iter(agents), None)
    return {
        "gc": config.job_prefix + "gc",
        "gc-scheduler": f"{config.name}-gc-scheduler",
        "workflow": f"{config.name}-workflow",
        "scheduler": f"{config.name}-scheduler",
        "trigger": f"{config.name}-trigger" if config.landing_trigger else None,
    }[who]


def _resources(on: str, config: StackConfig) -> list[str]:
    kind, _, detail = on.partition(":")
    if kind == "object":
        return [f"object {config.lake_bucket}/{object_name(config.lake_prefix, detail)}"]
    if kind == "secret":
        return [f"secret {s}" for s in config.source_secrets]
    if kind == "topic":
        return [f"topic {config.job_prefix}{detail}"] if config.landing_trigger else []
    return [
        {
            "project": f"project {config.project}",
            "bucket": f"bucket {config.lake_bucket}",
            "job": f"job {config.job_prefix}{detail}",
            "dataset": f"dataset {config.bq_dataset}",
            "workflow": f"workflow {config.name}-pipeline",
        }[kind]
    ]


def needs(recording: Recording) -> list[Need]:
    """Every call of the model this stack makes, resolved to identity and resource."""
    grants = iam_graph(recording)
    out = []
    for call in RUNTIME_CALLS:
        identity = identity_of(call.who, recording.config, grants)
        if identity is None:
            continue
        out += [
            Need(identity, call.permission, resource, call)
            for resource in _resources(call.on, recording.config)
        ]
    return out


def role_permissions(recording: Recording) -> dict[str, frozenset[str]]:
    """Every role a grant may name: the predefined ones and the program's custom roles."""
    roles = {name: role.permissions for name, role in PREDEFINED_ROLES.items()}
    for r in recording.of_type("gcp:projects/iAMCustomRole:IAMCustomRole"):
        roles[r.outputs["name"]] = frozenset(r.inputs["permissions"])
    return roles


def covers(grant: Grant, resource: str, project: str) -> bool:
    """Whether `grant` reaches `resource` (by resource hierarchy and condition), evaluated
    by baton.iam.reaches, the same code the local twin enforces with."""
    return reaches(grant.resource, grant.expression, resource, project)


def _granting(
    grants: list[Grant], roles: dict[str, frozenset[str]], need: Need, project: str
) -> list[Grant]:
    return [
        g
        for g in grants
        if g.identity == need.identity
        and need.permission in roles.get(g.role, frozenset())
        and covers(g, need.resource, project)
    ]


def granted_by(recording: Recording, need: Need) -> list[Grant]:
    """The grants that give `need.identity` the permission on the resource."""
    return _granting(
        iam_graph(recording), role_permissions(recording), need, recording.config.project
    )


def problems(recording: Recording) -> list[str]:
    """What the deployed policy gets wrong against the model: a role the model does not know,
    a call no grant covers, a grant no call needs."""
    grants, roles = iam_graph(recording), role_permissions(recording)
    project = recording.config.project
    found = [
        f"{g.identity}: role {g.role} is not in the permission model"
        for g in grants
        if g.role not in roles
    ]
    used: set[Grant] = set()
    for n in needs(recording):
        by = _granting(grants, roles, n, project)
        used.update(by)
        if not by:
            found.append(f"{n.identity} cannot {n.call.call}: needs {n.permission} on {n.resource}")
    found += [
        f"{g.identity}: {g.role} on {g.resource}"
        + (f" if {g.condition}" if g.condition else "")
        + " covers no call of the model"
        for g in grants
        if g not in used
    ]
    return found


def print_matrix(recording: Recording, out: TextIO) -> None:
    """identity -> permission on resource <- the grant that gives it; then any problem."""
    all_needs = sorted(needs(recording), key=lambda n: (n.identity, n.permission, n.resource))
    print(
        f"\nPERMISSION MATRIX ({len(all_needs)} runtime needs: identity -> permission on "
        "resource <- granted by)",
        file=out,
    )
    current = None
    for n in all_needs:
        if n.identity != current:
            current = n.identity
            print(f"  {current}", file=out)
        by = granted_by(recording, n)
        source = "; ".join(g.role + (f" if {g.condition}" if g.condition else "") for g in by)
        print(f"    {n.permission}  on {n.resource}  <- {source or 'MISSING'}", file=out)
    found = problems(recording)
    print(f"\nPERMISSION CHECK: {'ok' if not found else f'{len(found)} problem(s)'}", file=out)
    for problem in found:
        print(f"  {problem}", file=out)
