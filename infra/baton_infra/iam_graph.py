"""The IAM graph of an offline run: which identity holds which role on which resource, and
under which condition, read from the IAM member resources the program registered."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from baton_infra.mock_runtime import Recording

_TARGETS: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "gcp:projects/iAMMember:IAMMember": lambda i: f"project {i['project']}",
    "gcp:storage/bucketIAMMember:BucketIAMMember": lambda i: f"bucket {i['bucket']}",
    "gcp:cloudrunv2/jobIamMember:JobIamMember": lambda i: f"job {i['name']}",
    "gcp:bigquery/datasetIamMember:DatasetIamMember": lambda i: f"dataset {i['datasetId']}",
    "gcp:secretmanager/secretIamMember:SecretIamMember": lambda i: f"secret {i['secretId']}",
    "gcp:pubsub/topicIAMMember:TopicIAMMember": lambda i: f"topic {i['topic']}",
    "gcp:serviceaccount/iAMMember:IAMMember": lambda i: f"service account {i['serviceAccountId']}",
}
"""Every non-authoritative IAM resource type the program may use, and what it grants on."""

_OBJECT = re.compile(r'resource\.name\.startsWith\("projects/_/buckets/[^/]+/objects/([^"]*)"\)')
_SUFFIX = re.compile(r'resource\.name\.endsWith\("([^"]*)"\)')


def is_iam_type(type_: str) -> bool:
    """Whether a resource type grants access (member, binding or policy of any service)."""
    tail = type_.rsplit(":", 1)[-1].lower()
    return "iam" in tail and any(k in tail for k in ("member", "binding", "policy"))


def describe_condition(expression: str) -> str:
    """A lake-relative reading of a condition: `under raw/ && not under landing/reference/`."""
    text = _OBJECT.sub(lambda m: f"under {m.group(1) or '(lake root)'}", expression)
    text = _SUFFIX.sub(lambda m: f"named *{m.group(1)}", text)
    return text.replace("!under", "not under")


@dataclass(frozen=True, order=True)
class Grant:
    """One edge of the graph."""

    identity: str
    """Our service accounts by account id; anyone else by IAM member string."""
    role: str
    resource: str
    condition: str | None = None
    """The condition, as `describe_condition` reads it."""
    expression: str | None = field(default=None, compare=False)
    """The condition's CEL expression as granted (for evaluating it on a resource name)."""


def identities(recording: Recording) -> dict[str, str]:
    """`serviceAccount:<email>` -> account id, for every service account the program creates."""
    return {
        r.outputs["member"]: r.inputs["accountId"]
        for r in recording.of_type("gcp:serviceaccount/account:Account")
    }


def iam_graph(recording: Recording) -> list[Grant]:
    """Every grant the program makes, sorted by identity, role and resource."""
    names = identities(recording)
    grants = []
    for r in recording.resources:
        if not is_iam_type(r.type):
            continue
        if r.type not in _TARGETS:
            raise ValueError(f"{r.type} ({r.name}) is not a grant type the IAM graph knows")
        condition = r.inputs.get("condition")
        grants.append(
            Grant(
                identity=names.get(r.inputs["member"], r.inputs["member"]),
                role=r.inputs["role"],
                resource=_TARGETS[r.type](r.inputs),
                condition=describe_condition(condition["expression"]) if condition else None,
                expression=condition["expression"] if condition else None,
            )
        )
    return sorted(grants)
