"""Secret Manager secrets for source credentials. The stack creates the secrets, never their
values: an operator adds versions out of band, so no credential enters Pulumi state."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp


@dataclass(frozen=True)
class SourceSecretsArgs:
    """Which secrets, in which project."""

    project: str
    secret_ids: Sequence[str]


class SourceSecrets(pulumi.ComponentResource):
    """One secret per configured id; access is granted by the job that reads it."""

    def __init__(
        self, name: str, args: SourceSecretsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("baton:infra:SourceSecrets", name, None, opts)
        self.secrets = {
            secret_id: gcp.secretmanager.Secret(
                f"{name}-{secret_id}",
                project=args.project,
                secret_id=secret_id,
                replication={"auto": {}},
                labels={"baton": "source-credential"},
                opts=pulumi.ResourceOptions(parent=self),
            )
            for secret_id in args.secret_ids
        }
        self.register_outputs({"secrets": {k: s.name for k, s in self.secrets.items()}})
