"""The Google APIs the stack needs, enabled once for the project."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

import baton.apis

BASE_APIS = baton.apis.BASE_APIS
TRIGGER_APIS = (
    "eventarc.googleapis.com",
    "eventarcpublishing.googleapis.com",
    "pubsub.googleapis.com",
)


@dataclass(frozen=True)
class ProjectApisArgs:
    """Which APIs, in which project."""

    project: str
    apis: Sequence[str]


class ProjectApis(pulumi.ComponentResource):
    """Every API baton calls, enabled; other resources depend on `ready`."""

    def __init__(
        self, name: str, args: ProjectApisArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("baton:infra:ProjectApis", name, None, opts)
        self.services = [
            gcp.projects.Service(
                f"{name}-{api.split('.')[0]}",
                project=args.project,
                service=api,
                # Other workloads in the project may use the same APIs: destroying baton
                # must not switch them off.
                disable_on_destroy=False,
                opts=pulumi.ResourceOptions(parent=self),
            )
            for api in args.apis
        ]
        self.register_outputs({"services": [s.service for s in self.services]})

    @property
    def ready(self) -> list[pulumi.Resource]:
        """Depend on these before creating resources of the enabled APIs."""
        return list(self.services)
