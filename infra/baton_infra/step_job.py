"""One step of the pipeline on Cloud Run: its own service account, its least-privilege grants
and the Cloud Run v2 Job that runs `python -m baton_<step>` from the step's image."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_gcp as gcp

from baton.jobs import Job
from baton.lake_access import (
    READ_ROLE,
    WRITE_ROLE,
    LakeAccess,
    attempt_records_condition,
    prefix_condition,
)
from baton_infra.identity import member, project_role, service_account
from baton_infra.stack_config import secret_env_name


@dataclass(frozen=True)
class WarehouseGrant:
    """Load's warehouse access: edit one dataset and run BigQuery jobs in the project."""

    dataset: gcp.bigquery.Dataset


@dataclass(frozen=True)
class StepJobArgs:
    """What one step job runs, with which resources, and what it may touch."""

    job: Job
    project: str
    region: str
    job_name: str
    account_id: str
    image: str
    code_version: str
    lake_bucket: pulumi.Output[str]
    """The bucket as an output, so grants wait for it."""
    lake_bucket_name: str
    lake_uri: str
    lake_prefix: str
    lake_access: LakeAccess
    env: Mapping[str, str]
    """Plain settings every step shares (BATON_WAREHOUSE, BATON_BQ_*...)."""
    warehouse: WarehouseGrant | None = None
    secrets: Mapping[str, gcp.secretmanager.Secret] = field(default_factory=dict)
    """Secrets the job reads, by id; each becomes env `BATON_SECRET_<ID>` (latest version)."""


class StepJob(pulumi.ComponentResource):
    """A Cloud Run v2 Job running as its own identity, holding exactly its grants."""

    def __init__(
        self, name: str, args: StepJobArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("baton:infra:StepJob", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.account = service_account(
            f"{name}-sa", args.project, args.account_id, f"runs the baton {args.job.name} job", self
        )
        who = member(self.account.email)
        grants = self._lake_grants(name, args, who, child)
        grants += self._warehouse_grants(name, args, who, child)
        grants += self._secret_grants(name, args, who, child)
        envs: list[dict] = [{"name": k, "value": v} for k, v in sorted(args.env.items())]
        envs += [
            {"name": "BATON_LAKE", "value": args.lake_uri},
            {"name": "BATON_CODE_VERSION", "value": args.code_version},
        ]
        envs += [
            {
                "name": secret_env_name(secret_id),
                "value_source": {
                    "secret_key_ref": {"secret": secret.secret_id, "version": "latest"}
                },
            }
            for secret_id, secret in sorted(args.secrets.items())
        ]
        self.job = gcp.cloudrunv2.Job(
            f"{name}-job",
            project=args.project,
            location=args.region,
            name=args.job_name,
            # Stateless and rebuilt from the image: replace and destroy must never be blocked.
            deletion_protection=False,
            labels={"baton-step": args.job.name},
            template={
                "task_count": 1,
                "template": {
                    "service_account": self.account.email,
                    "max_retries": args.job.max_retries,
                    "timeout": f"{args.job.timeout_s}s",
                    "containers": [
                        {
                            "image": args.image,
                            # The image's ENTRYPOINT is the step module; the workflow passes
                            # `run --date ...` as args per execution.
                            "commands": args.job.command,
                            "envs": envs,
                            "resources": {
                                "limits": {"cpu": args.job.cpu, "memory": args.job.memory}
                            },
                        }
                    ],
                },
            },
            # Cloud Run checks at deploy time that the identity may read the job's secrets.
            opts=pulumi.ResourceOptions(parent=self, depends_on=grants),
        )
        self.name = self.job.name
        self.image = args.image
        self.register_outputs(
            {"job": self.job.name, "service_account": self.account.email, "image": args.image}
        )

    def _lake_grants(
        self, name: str, args: StepJobArgs, who: pulumi.Output[str], child: pulumi.ResourceOptions
    ) -> list[pulumi.Resource]:
        """Read and write exactly the step's lake prefixes (IAM conditions on object names)."""
        bucket, lake_prefix = args.lake_bucket_name, args.lake_prefix
        access = args.lake_access
        wanted = [
            ("read", READ_ROLE, p, prefix_condition(bucket, lake_prefix, p, access.read_except))
            for p in access.read
        ]
        wanted += [
            ("write", WRITE_ROLE, p, prefix_condition(bucket, lake_prefix, p)) for p in access.write
        ]
        wanted += [
            ("read-attempts", READ_ROLE, p, attempt_records_condition(bucket, lake_prefix, p))
            for p in access.read_attempts
        ]
        grants: list[pulumi.Resource] = []
        for verb, role, prefix, condition in wanted:
            slug = prefix.strip("/").replace("/", "-")
            grants.append(
                gcp.storage.BucketIAMMember(
                    f"{name}-{verb}-{slug}",
                    bucket=args.lake_bucket,
                    role=role,
                    member=who,
                    condition={
                        "title": f"{verb} {prefix}",
                        "description": f"baton {args.job.name}: {verb} lake objects under {prefix}",
                        "expression": condition,
                    },
                    opts=child,
                )
            )
        return grants

    def _warehouse_grants(
        self, name: str, args: StepJobArgs, who: pulumi.Output[str], child: pulumi.ResourceOptions
    ) -> list[pulumi.Resource]:
        if args.warehouse is None:
            return []
        return [
            gcp.bigquery.DatasetIamMember(
                f"{name}-dataset-editor",
                project=args.project,
                dataset_id=args.warehouse.dataset.dataset_id,
                role="roles/bigquery.dataEditor",
                member=who,
                opts=child,
            ),
            # bigquery.jobs.create exists only at project level.
            project_role(
                f"{name}-bigquery-jobs", args.project, "roles/bigquery.jobUser", who, self
            ),
        ]

    def _secret_grants(
        self, name: str, args: StepJobArgs, who: pulumi.Output[str], child: pulumi.ResourceOptions
    ) -> list[pulumi.Resource]:
        return [
            gcp.secretmanager.SecretIamMember(
                f"{name}-reads-{secret_id}",
                project=args.project,
                secret_id=secret.secret_id,
                role="roles/secretmanager.secretAccessor",
                member=who,
                opts=child,
            )
            for secret_id, secret in sorted(args.secrets.items())
        ]
