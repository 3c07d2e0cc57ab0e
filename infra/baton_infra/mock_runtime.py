"""Running the program offline in Pulumi's own mock runtime, recording every resource it
registers. Shared by the policy tests and `make plan`: no Pulumi CLI, no credentials, no cloud.

The mock stands in for the GCP provider, which cannot run here: it echoes inputs as outputs
and computes the provider-assigned values the program reads (service account emails, ids).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml
from pulumi.runtime.mocks import MockMonitor

from baton_infra.stack import Stack, deploy
from baton_infra.stack_config import StackConfig, from_pulumi

PROJECT_NUMBER = "123456789012"
"""What the mock answers for the project number (it appears in Google-managed identities)."""


@dataclass(frozen=True)
class Registered:
    """One resource as the program registered it."""

    urn: str
    type: str
    name: str
    custom: bool
    parent: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]


@dataclass
class Recording:
    """Everything one offline run registered, in registration order."""

    config: StackConfig
    stack: Stack
    resources: list[Registered] = field(default_factory=list)

    def of_type(self, type_: str) -> list[Registered]:
        """The custom resources of one type token (e.g. `gcp:cloudrunv2/job:Job`)."""
        return [r for r in self.resources if r.type == type_]

    def one(self, type_: str, name: str) -> Registered:
        """The resource of `type_` with logical `name`."""
        found = [r for r in self.of_type(type_) if r.name == name]
        if len(found) != 1:
            raise KeyError(f"{len(found)} resources {type_} named {name!r}")
        return found[0]


def _computed(typ: str, inputs: Mapping[str, Any], name: str) -> tuple[str, dict[str, Any]]:
    """The physical id and provider-computed outputs the real provider would return."""
    project = inputs.get("project", "project")
    out: dict[str, Any] = {}
    resource_id = f"{name}-id"
    if typ == "gcp:serviceaccount/account:Account":
        email = f"{inputs['accountId']}@{project}.iam.gserviceaccount.com"
        out = {
            "email": email,
            "member": f"serviceAccount:{email}",
            "name": f"projects/{project}/serviceAccounts/{email}",
        }
    elif typ == "gcp:cloudrunv2/job:Job":
        resource_id = f"projects/{project}/locations/{inputs['location']}/jobs/{inputs['name']}"
    elif typ == "gcp:workflows/workflow:Workflow":
        resource_id = f"projects/{project}/locations/{inputs['region']}/workflows/{inputs['name']}"
    elif typ == "gcp:storage/bucket:Bucket":
        out = {"url": f"gs://{inputs['name']}"}
    elif typ == "gcp:secretmanager/secret:Secret":
        resource_id = f"projects/{project}/secrets/{inputs['secretId']}"
        out = {"name": resource_id}
    elif typ == "gcp:pubsub/topic:Topic":
        resource_id = f"projects/{project}/topics/{inputs['name']}"
    elif typ == "gcp:monitoring/notificationChannel:NotificationChannel":
        out = {"name": f"projects/{project}/notificationChannels/{name}"}
    elif typ == "gcp:projects/iAMCustomRole:IAMCustomRole":
        resource_id = f"projects/{project}/roles/{inputs['roleId']}"
        out = {"name": resource_id}
    elif typ == "gcp:bigquery/dataset:Dataset":
        resource_id = f"projects/{project}/datasets/{inputs['datasetId']}"
    return resource_id, out


class RecordingMocks(pulumi.runtime.Mocks):
    """Echo inputs as outputs, add the provider-computed ones."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict]:
        resource_id, computed = _computed(args.typ, args.inputs, args.name)
        return resource_id, {**args.inputs, **computed}

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, list]:
        if args.token == "gcp:storage/getProjectServiceAccount:getProjectServiceAccount":
            email = f"service-{PROJECT_NUMBER}@gs-project-accounts.iam.gserviceaccount.com"
            return {"emailAddress": email, "project": args.args.get("project")}, []
        raise NotImplementedError(f"the offline runtime does not mock {args.token}")


class RecordingMonitor(MockMonitor):
    """The mock monitor, also keeping each registration's parent and type."""

    def __init__(self, mocks: RecordingMocks) -> None:
        super().__init__(mocks)
        self.registered: list[Registered] = []

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 (overrides the gRPC name)
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            state = self.resources[response.urn].state
            self.registered.append(
                Registered(
                    urn=response.urn,
                    type=request.type,
                    name=request.name,
                    custom=bool(request.custom),
                    parent=request.parent,
                    inputs=pulumi.runtime.rpc.deserialize_properties(request.object),
                    outputs=dict(state),
                )
            )
        return response


def config_values(stack_file: Path) -> dict[str, str]:
    """A stack file's `config:` as the raw strings Pulumi hands a program."""
    loaded = yaml.safe_load(stack_file.read_text()) or {}
    raw = loaded.get("config") or {}
    values = {}
    for key, value in raw.items():
        if isinstance(value, bool):
            values[key] = "true" if value else "false"
        elif isinstance(value, (dict, list)):
            values[key] = json.dumps(value)
        else:
            values[key] = str(value)
    return values


def run_offline(
    values: Mapping[str, str], workflow_source: str, stack: str = "offline"
) -> Recording:
    """Run the program against the mock runtime with these config values."""
    mocks = RecordingMocks()
    monitor = RecordingMonitor(mocks)
    pulumi.runtime.set_mocks(mocks, project="baton", stack=stack, preview=False, monitor=monitor)
    pulumi.runtime.set_all_config(dict(values))
    result: dict[str, Any] = {}

    @pulumi.runtime.test
    def program() -> None:
        result["config"] = from_pulumi()
        result["stack"] = deploy(result["config"], workflow_source)

    program()
    return Recording(result["config"], result["stack"], list(monitor.registered))
