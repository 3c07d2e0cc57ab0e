"""The deployed IAM policy as data, and the check Google's APIs make against it: does this
identity hold this permission on this resource (resource hierarchy and IAM conditions on
object names honoured)? Infra exports the policy (`python -m baton_infra.policy`); the local
twin enforces it with BATON_TWIN_IAM=enforce (docs/deploying.md, "The twin under the deployed
IAM policy"). Pure: reading the policy file is `load_policy`'s only I/O.

Resources are written `<kind> <name>` with deployed names: `project p`, `bucket b`,
`object b/<object name>`, `job <job>`, `dataset d`, `secret s`, `topic t`, `workflow w`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from baton.errors import ConfigError, UnavailableError

POLICY_FORMAT = 1
"""The version of the exported document; a file of another version is refused."""

ERROR_MODEL = "https://cloud.google.com/apis/design/errors"
"""Google's APIs answer a refused call with HTTP 403 and the JSON body
`{"error": {"code": 403, "message": ..., "status": "PERMISSION_DENIED"}}` (the error model)."""

_TERM = re.compile(r'(!?)resource\.name\.(startsWith|endsWith)\("([^"]*)"\)\Z')


def condition_holds(expression: str | None, resource_name: str) -> bool:
    """Evaluate a baton lake condition (`&&` of [!]resource.name.startsWith/endsWith) on a
    resource name. Any other CEL is refused (ValueError) rather than guessed."""
    if expression is None:
        return True
    for term in expression.split("&&"):
        match = _TERM.match(term.strip())
        if match is None:
            raise ValueError(f"condition term the model cannot evaluate: {term.strip()!r}")
        negated, test, value = match.groups()
        hit = (
            resource_name.startswith(value)
            if test == "startsWith"
            else resource_name.endswith(value)
        )
        if hit == bool(negated):
            return False
    return True


def reaches(granted_on: str, expression: str | None, resource: str, project: str) -> bool:
    """Whether a grant on `granted_on` (under `expression`) applies to `resource`.

    A project grant covers every resource in the project. A bucket grant covers the bucket
    and its objects when its condition holds on the resource's name: an object's is
    `projects/_/buckets/<b>/objects/<name>`, the bucket's own (what objects.list is checked
    on) `projects/_/buckets/<b>`, so an object-prefix condition never grants listing
    (https://cloud.google.com/iam/docs/conditions-resource-attributes#resource-name). A grant
    on any other resource covers that resource only.
    """
    if granted_on == f"project {project}":
        return True
    if resource.startswith("object "):
        bucket, _, name = resource.removeprefix("object ").partition("/")
        return granted_on == f"bucket {bucket}" and condition_holds(
            expression, f"projects/_/buckets/{bucket}/objects/{name}"
        )
    if resource.startswith("bucket "):
        bucket = resource.removeprefix("bucket ")
        return granted_on == resource and condition_holds(
            expression, f"projects/_/buckets/{bucket}"
        )
    return granted_on == resource


@dataclass(frozen=True)
class Binding:
    """One permission an identity holds on one resource, maybe under a condition."""

    permission: str
    resource: str
    condition: str | None = None
    """The CEL expression as granted (None: unconditional)."""


@dataclass(frozen=True)
class Deployment:
    """The deployed names the twin's local resources stand for."""

    project: str
    region: str
    lake_bucket: str
    lake_prefix: str
    job_prefix: str
    bq_dataset: str
    workflow: str

    def object_resource(self, key: str) -> str:
        """The lake object `key` (relative to the lake root) as deployed."""
        name = f"{self.lake_prefix.strip('/')}/{key}" if self.lake_prefix.strip("/") else key
        return f"object {self.lake_bucket}/{name}"

    def resource(self, kind: str, detail: str = "") -> str:
        """A deployed resource by kind: project, bucket, job (detail: the step), dataset,
        workflow, or object (detail: the lake key)."""
        if kind == "object":
            return self.object_resource(detail)
        return {
            "project": f"project {self.project}",
            "bucket": f"bucket {self.lake_bucket}",
            "job": f"job {self.job_prefix}{detail}",
            "dataset": f"dataset {self.bq_dataset}",
            "workflow": f"workflow {self.workflow}",
        }[kind]

    def full_name(self, resource: str) -> str:
        """A resource as Google's APIs name it in their errors."""
        kind, _, name = resource.partition(" ")
        if kind == "object":
            bucket, _, obj = name.partition("/")
            return f"projects/_/buckets/{bucket}/objects/{obj}"
        return {
            "project": f"projects/{name}",
            "bucket": f"projects/_/buckets/{name}",
            "job": f"projects/{self.project}/locations/{self.region}/jobs/{name}",
            "dataset": f"projects/{self.project}/datasets/{name}",
            "workflow": f"projects/{self.project}/locations/{self.region}/workflows/{name}",
            "secret": f"projects/{self.project}/secrets/{name}",
            "topic": f"projects/{self.project}/topics/{name}",
        }.get(kind, resource)


class PermissionDenied(UnavailableError):  # noqa: N818 - Google's own name for the status
    """An identity called something the deployed policy does not let it call (HTTP 403,
    PERMISSION_DENIED). Never retried: the policy must change (exit code 5)."""

    def __init__(self, identity: str, permission: str, resource: str) -> None:
        self.status_message = f"{identity} does not have {permission} access to {resource}"
        super().__init__(
            f"{self.status_message} (HTTP 403 PERMISSION_DENIED under the deployed policy "
            "enforced by BATON_TWIN_IAM=enforce): grant it in infra/baton_infra, re-export the "
            "policy, or find the call that should not be made",
            reason="permission_denied",
        )
        self.identity, self.permission, self.resource = identity, permission, resource

    @property
    def body(self) -> dict[str, Any]:
        """The JSON error body Google's APIs return for it."""
        return {
            "error": {"code": 403, "message": self.status_message, "status": "PERMISSION_DENIED"}
        }


@dataclass(frozen=True)
class Policy:
    """Who holds which permission where, as the Pulumi program grants it."""

    deployment: Deployment
    identities: Mapping[str, str]
    """Caller (`step:<step>`, `workflow`, `scheduler`, `trigger`) -> service account email."""
    bindings: Mapping[str, tuple[Binding, ...]] = field(default_factory=dict)
    """Service account email -> every permission its roles give it, where."""
    source: str = ""

    def email(self, who: str) -> str:
        """The deployed identity of a caller; ConfigError when the policy has none."""
        try:
            return self.identities[who]
        except KeyError:
            known = ", ".join(sorted(self.identities))
            raise ConfigError(
                f"the IAM policy {self.source or ''} has no identity for {who!r} (known: "
                f"{known}); re-export it from the stack that deploys this caller",
                reason="policy_identity_unknown",
            ) from None

    def allows(self, who: str, permission: str, resource: str) -> bool:
        """Whether `who`'s deployed identity holds `permission` on `resource`."""
        project = self.deployment.project
        return any(
            b.permission == permission and reaches(b.resource, b.condition, resource, project)
            for b in self.bindings.get(self.email(who), ())
        )

    def check(self, who: str, permission: str, resource: str) -> None:
        """Raise PermissionDenied unless `who` may use `permission` on `resource`."""
        if not self.allows(who, permission, resource):
            raise PermissionDenied(self.email(who), permission, self.deployment.full_name(resource))

    def without(self, who: str, permission: str) -> Policy:
        """This policy with one permission taken from one caller everywhere (what-if runs)."""
        email = self.email(who)
        kept = tuple(b for b in self.bindings.get(email, ()) if b.permission != permission)
        return Policy(self.deployment, self.identities, {**self.bindings, email: kept}, self.source)

    def to_json(self) -> dict[str, Any]:
        """The exported document."""
        d = self.deployment
        return {
            "format": POLICY_FORMAT,
            "source": self.source,
            "deployment": {
                "project": d.project,
                "region": d.region,
                "lake_bucket": d.lake_bucket,
                "lake_prefix": d.lake_prefix,
                "job_prefix": d.job_prefix,
                "bq_dataset": d.bq_dataset,
                "workflow": d.workflow,
            },
            "identities": dict(sorted(self.identities.items())),
            "bindings": {
                email: [
                    {"permission": b.permission, "resource": b.resource, "condition": b.condition}
                    for b in sorted(bindings, key=lambda b: (b.permission, b.resource))
                ]
                for email, bindings in sorted(self.bindings.items())
            },
        }


def policy_from_json(doc: Mapping[str, Any], source: str = "") -> Policy:
    """A policy from its exported document; ValueError/KeyError/TypeError when malformed."""
    if doc.get("format") != POLICY_FORMAT:
        raise ValueError(f"format {doc.get('format')!r}, expected {POLICY_FORMAT}")
    bindings = {
        email: tuple(
            Binding(str(b["permission"]), str(b["resource"]), b.get("condition")) for b in items
        )
        for email, items in doc["bindings"].items()
    }
    return Policy(
        Deployment(**{k: str(v) for k, v in doc["deployment"].items()}),
        {str(k): str(v) for k, v in doc["identities"].items()},
        bindings,
        source or str(doc.get("source", "")),
    )


def load_policy(path: Path) -> Policy:
    """Read an exported policy file; ConfigError naming the file and what to do."""
    try:
        return policy_from_json(json.loads(path.read_text()), str(path))
    except OSError as err:
        raise ConfigError(
            f"cannot read the IAM policy {path}: {err.strerror or err}; export it with `make "
            "policy` (or `python -m baton_infra.policy --out FILE` and point BATON_TWIN_POLICY "
            "at it)",
            reason="policy_unreadable",
        ) from err
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        raise ConfigError(
            f"{path} is not an IAM policy exported by `python -m baton_infra.policy` "
            f"({type(err).__name__}: {err}); export it again",
            reason="policy_invalid",
        ) from err


IAM_MODES = ("off", "enforce")


def enforced_policy(mode: str, policy_file: Path) -> Policy | None:
    """The policy to enforce for BATON_TWIN_IAM=`mode` (None: off); ConfigError when the mode
    is unknown or the policy file cannot be read."""
    if mode not in IAM_MODES:
        raise ConfigError(f"BATON_TWIN_IAM={mode!r}: use off or enforce", reason="invalid_setting")
    return None if mode == "off" else load_policy(policy_file)
