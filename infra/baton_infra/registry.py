"""The Artifact Registry repository the step images are pushed to and deployed from."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from baton_infra.stack_config import registry_path


@dataclass(frozen=True)
class ImageRegistryArgs:
    """Where the repository lives."""

    project: str
    region: str
    repository: str


class ImageRegistry(pulumi.ComponentResource):
    """A Docker repository; images are tagged with the commit SHA and deployed by digest."""

    def __init__(
        self, name: str, args: ImageRegistryArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("baton:infra:ImageRegistry", name, None, opts)
        self.repository = gcp.artifactregistry.Repository(
            f"{name}-repository",
            project=args.project,
            location=args.region,
            repository_id=args.repository,
            format="DOCKER",
            description="baton step images (baton-<step>:<commit sha>)",
            # Rolling back means deploying an older digest, so tagged images are kept; only
            # untagged layers left by re-pushed tags are cleaned up.
            cleanup_policy_dry_run=False,
            cleanup_policies=[
                {
                    "id": "delete-untagged",
                    "action": "DELETE",
                    "condition": {"tag_state": "UNTAGGED", "older_than": "2592000s"},
                },
                {"id": "keep-recent", "action": "KEEP", "most_recent_versions": {"keep_count": 20}},
            ],
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.url = self.repository.repository_id.apply(
            lambda repository: registry_path(args.region, args.project, repository)
        )
        self.register_outputs({"url": self.url})
