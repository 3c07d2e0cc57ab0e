"""The REST paths of the IAM reads `baton doctor` makes, answered from the served deployment:
projects.getIamPolicy (Resource Manager v3), Cloud Run jobs.getIamPolicy, Storage
buckets.getIamPolicy and IAM projects.roles.get (references in deployed_iam.py)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from baton_twin.server.api_error import ApiError
from baton_twin.server.deployment import TwinDeployment

_SEG = r"[^/:?]+"
_JOB = rf"projects/{_SEG}/locations/{_SEG}/jobs/{_SEG}"
Route = Callable[[re.Match[str], dict[str, list[str]], dict[str, Any]], Any]


def _version(raw: object) -> int:
    try:
        return int(str(raw or 0))
    except ValueError as err:
        raise ApiError("INVALID_ARGUMENT", f"bad requested policy version {raw!r}") from err


def _query_version(query: dict[str, list[str]], *names: str) -> int:
    for name in names:
        if query.get(name):
            return _version(query[name][0])
    return 0


def iam_routes(deployment: TwinDeployment) -> list[tuple[str, re.Pattern[str], Route]]:
    """(method, path pattern, handler) of each IAM read."""
    iam = deployment.policies

    def project(m: re.Match[str], q: dict[str, list[str]], body: dict[str, Any]) -> Any:
        options = body.get("options") or {}
        return iam.project_policy(m.group(1), _version(options.get("requestedPolicyVersion")))

    def job(m: re.Match[str], q: dict[str, list[str]], body: dict[str, Any]) -> Any:
        version = _query_version(
            q, "options.requestedPolicyVersion", "options.requested_policy_version"
        )
        return deployment.job_policy(m.group(1), version)

    def bucket(m: re.Match[str], q: dict[str, list[str]], body: dict[str, Any]) -> Any:
        version = _query_version(q, "optionsRequestedPolicyVersion")
        return deployment.bucket_policy(m.group(1), version)

    def role(m: re.Match[str], q: dict[str, list[str]], body: dict[str, Any]) -> Any:
        return iam.role(m.group(1))

    return [
        ("POST", re.compile(rf"/v3/projects/({_SEG}):getIamPolicy"), project),
        ("GET", re.compile(rf"/v2/({_JOB}):getIamPolicy"), job),
        ("GET", re.compile(rf"/storage/v1/b/({_SEG})/iam"), bucket),
        ("GET", re.compile(rf"/v1/(projects/{_SEG}/roles/{_SEG})"), role),
    ]
