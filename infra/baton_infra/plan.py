"""`make plan`: print, offline, the resources `pulumi up` would create, the IAM graph and the
permission matrix (each runtime call's permission and the grant that gives it), from the mock
runtime, for a stack file (default: the documented example).

Usage: python -m baton_infra.plan [STACK_FILE]
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from itertools import groupby
from pathlib import Path
from typing import Any, TextIO

from baton.errors import BatonError, ExitCode
from baton_infra.effective_access import print_matrix, problems
from baton_infra.iam_graph import iam_graph, is_iam_type
from baton_infra.mock_runtime import Recording, Registered, config_values, run_offline
from baton_infra.workflow_source import read_workflow_source, repo_root

EXAMPLE_STACK = Path("infra") / "Pulumi.example.yaml"

_KEY_PROPERTIES: dict[str, tuple[str, ...]] = {
    "gcp:projects/service:Service": ("service",),
    "gcp:artifactregistry/repository:Repository": ("repositoryId", "location", "format"),
    "gcp:storage/bucket:Bucket": (
        "name",
        "location",
        "uniformBucketLevelAccess",
        "publicAccessPrevention",
        "versioning.enabled",
        "forceDestroy",
        "lifecycleRules",
    ),
    "gcp:bigquery/dataset:Dataset": ("datasetId", "location", "deleteContentsOnDestroy"),
    "gcp:bigquery/table:Table": (
        "tableId",
        "timePartitioning.field",
        "clusterings",
        "deletionProtection",
        "schema",
    ),
    "gcp:secretmanager/secret:Secret": ("secretId",),
    "gcp:serviceaccount/account:Account": ("accountId",),
    "gcp:projects/iAMCustomRole:IAMCustomRole": ("roleId", "permissions"),
    "gcp:cloudrunv2/job:Job": (
        "name",
        "template.template.containers.0.image",
        "template.template.containers.0.resources.limits",
        "template.template.timeout",
        "template.template.maxRetries",
        "template.template.serviceAccount",
        "deletionProtection",
    ),
    "gcp:workflows/workflow:Workflow": (
        "name",
        "serviceAccount",
        "userEnvVars",
        "callLogLevel",
        "deletionProtection",
    ),
    "gcp:cloudscheduler/job:Job": ("name", "schedule", "timeZone", "httpTarget.uri"),
    "gcp:pubsub/topic:Topic": ("name",),
    "gcp:storage/notification:Notification": ("objectNamePrefix", "eventTypes"),
    "gcp:eventarc/trigger:Trigger": ("name", "destination.workflow", "serviceAccount"),
    "gcp:monitoring/notificationChannel:NotificationChannel": ("type", "labels"),
    "gcp:monitoring/alertPolicy:AlertPolicy": (
        "displayName",
        "conditions.0.conditionMatchedLog.filter",
        "alertStrategy.notificationRateLimit.period",
        "notificationChannels",
    ),
}


def _lookup(inputs: Any, path: str) -> Any:
    for part in path.split("."):
        if isinstance(inputs, list) and part.isdigit() and int(part) < len(inputs):
            inputs = inputs[int(part)]
        elif isinstance(inputs, Mapping) and part in inputs:
            inputs = inputs[part]
        else:
            return None
    return inputs


def _show(value: Any) -> str:
    if isinstance(value, Mapping):  # keys in a stable order: a map's order varies by run
        value = dict(sorted(value.items()))
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str) and len(value) > 200:
        return f"<{len(value)} characters>"
    if isinstance(value, list) and len(str(value)) > 90:
        return f"<{len(value)} items>"
    return str(value)


def _label(path: str) -> str:
    for noise in ("template.template.containers.0.", "template.template.", "resources."):
        path = path.removeprefix(noise)
    return path


def _properties(resource: Registered) -> str:
    paths = _KEY_PROPERTIES.get(resource.type, ())
    shown = [(_label(p), _lookup(resource.inputs, p)) for p in paths]
    return "  ".join(f"{k}={_show(v)}" for k, v in shown if v is not None)


def print_resources(recording: Recording, out: TextIO) -> None:
    """Each component with the resources it owns (IAM grants appear in the graph below), by
    name: the runtime registers resources from several threads, so its order varies by run."""
    by_name = sorted(recording.resources, key=lambda r: r.name)
    components = [r for r in by_name if not r.custom]
    owned = [r for r in by_name if r.custom and not is_iam_type(r.type)]
    print(f"RESOURCES ({len(owned)}, plus IAM grants below)", file=out)
    for component in components:
        print(f"  {component.name}  [{component.type}]", file=out)
        for r in owned:
            if r.parent == component.urn:
                print(f"    {r.type}  {r.name}", file=out)
                details = _properties(r)
                if details:
                    print(f"        {details}", file=out)


def print_iam_graph(recording: Recording, out: TextIO) -> None:
    """Who can do what on which resource."""
    grants = iam_graph(recording)
    print(
        f"\nIAM GRAPH ({len(grants)} grants: identity -> role on resource [if condition])", file=out
    )
    for identity, edges in groupby(grants, key=lambda g: g.identity):
        print(f"  {identity}", file=out)
        for g in edges:
            condition = f"  if {g.condition}" if g.condition else ""
            print(f"    {g.role}  on {g.resource}{condition}", file=out)


def main(argv: list[str], out: TextIO = sys.stdout, root: Path | None = None) -> int:
    """Print the plan for the stack file in `argv` (default: the example); the exit code."""
    root = root or repo_root()
    stack_file = Path(argv[0]) if argv else root / EXAMPLE_STACK
    if not stack_file.is_file():
        print(f"stack file {stack_file} not found; pass infra/Pulumi.<stack>.yaml", file=sys.stderr)
        return int(ExitCode.USAGE)
    try:
        recording = run_offline(config_values(stack_file), read_workflow_source(), "plan")
    except BatonError as err:
        print(f"{stack_file}: {err.message}", file=sys.stderr)
        return int(err.exit_code)
    c = recording.config
    print(
        f"baton offline plan from {stack_file}: project {c.project}, region {c.region} "
        "(Pulumi mock runtime: nothing was contacted; provider-assigned emails and ids are the "
        "mock's)\n",
        file=out,
    )
    print_resources(recording, out)
    print_iam_graph(recording, out)
    print_matrix(recording, out)
    return int(ExitCode.CONFIG) if problems(recording) else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
