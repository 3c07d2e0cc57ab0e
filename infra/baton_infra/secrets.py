"""Secret Manager secrets for source credentials. The stack creates the secrets, never their
values: an operator adds versions out of band, so no credential enters Pulumi state."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from baton.errors import ConfigError


def env_name(secret_id: str) -> str:
    """The environment variable extract reads a secret from: `BATON_SECRET_<ID>`."""
    return "BATON_SECRET_" + re.sub(r"[^A-Z0-9]", "_", secret_id.upper())


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
        names = [env_name(s) for s in args.secret_ids]
        clashes = sorted({n for n in names if names.count(n) > 1})
        if clashes:
            raise ConfigError(
                f"baton:sourceSecrets ids map to the same variable(s) {clashes}; rename one",
                reason="secret_env_clash",
            )
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
