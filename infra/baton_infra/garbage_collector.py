"""The deployed lake's garbage collector: a Cloud Run job running `baton gc`'s logic
(`python -m baton_transform gc`) from the transform image, a Cloud Scheduler job that starts it
daily, and two identities - the job's, which may list the lake and read and delete objects in
the zones steps write (never landing/), and the scheduler's, which may only run that one job.

Lifecycle rules cannot do this: an orphan attempt file and a committed one differ only in
whether a manifest names them, which a rule cannot read (docs/reliability.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from baton.garbage import DEFAULT_WINDOW, ZONES, checked_window
from baton.lake_access import prefix_condition
from baton_infra.identity import member, service_account
from baton_infra.triggers import SCHEDULER_RETRY

RUN_API = "https://run.googleapis.com/v2"
"""jobs.run is `POST https://run.googleapis.com/v2/{name}:run`, name
`projects/{project}/locations/{location}/jobs/{job}`, body a RunJobRequest whose fields are all
optional (https://cloud.google.com/run/docs/reference/rest/v2/projects.locations.jobs/run)."""
GC_IMAGE_STEP = "transform"
"""Whose image the gc job runs: transform's dependency set is `baton` alone (no source clients
like extract, no warehouse clients like load), so nothing the gc does not need starts."""
GC_COMMAND = ["python", "-m", f"baton_{GC_IMAGE_STEP}"]
GC_SCHEDULE = "0 5 * * *"
"""Daily, in the stack's time zone. The window makes a run beside a pipeline execution safe."""
GC_TIMEOUT_S = 3600
"""One task sweeps every dataset: one listing per zone, then each partition's manifests."""
SWEPT_ZONES = ZONES
"""Where steps write attempt files (baton.garbage's list); landing/ is never swept."""
LIST_PERMISSIONS = ("storage.objects.list",)
"""objects.list is checked on the bucket, not on object names
(https://cloud.google.com/storage/docs/access-control/iam-json), so this grant has no
object-name condition; it reveals names and sizes, never contents."""
SWEEP_PERMISSIONS = ("storage.objects.delete", "storage.objects.get")
"""Read manifests and attempt records, delete orphans: in the swept zones only. Narrower than
roles/storage.objectUser (no create, update or restore)."""
INVOKER_ROLE = "roles/run.invoker"
"""What "Execute jobs on a schedule" asks of the identity that runs a job
(https://cloud.google.com/run/docs/execute/jobs-on-schedule): run.jobs.run, no overrides, since
the job's args are fixed in the job."""


@dataclass(frozen=True)
class GarbageCollectorArgs:
    """Which lake to sweep, with which image, when."""

    project: str
    region: str
    job_name: str
    account_id: str
    scheduler_account_id: str
    image: str
    lake_bucket: pulumi.Output[str]
    lake_bucket_name: str
    lake_uri: str
    lake_prefix: str
    time_zone: str
    paused: bool
    older_than: str = DEFAULT_WINDOW
    schedule: str = GC_SCHEDULE


def role_id(account_id: str, purpose: str) -> str:
    """A custom role id: letters, digits, `_` and `.` only (no `-`)."""
    return f"{account_id.replace('-', '_')}_{purpose}"


def run_uri(project: str, region: str, job: pulumi.Input[str]) -> pulumi.Output[str]:
    """The jobs.run endpoint of one Cloud Run job."""
    return pulumi.Output.from_input(job).apply(
        lambda name: f"{RUN_API}/projects/{project}/locations/{region}/jobs/{name}:run"
    )


class LakeGarbageCollector(pulumi.ComponentResource):
    """The gc job, its schedule and their two identities."""

    def __init__(
        self, name: str, args: GarbageCollectorArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("baton:infra:LakeGarbageCollector", name, None, opts)
        checked_window(args.older_than)  # a window shorter than a step attempt fails the preview
        self.account = service_account(
            f"{name}-sa",
            args.project,
            args.account_id,
            "runs baton gc: lists the lake, deletes attempt files no manifest names",
            self,
        )
        grants = self._lake_grants(name, args, member(self.account.email))
        self.job = gcp.cloudrunv2.Job(
            f"{name}-job",
            project=args.project,
            location=args.region,
            name=args.job_name,
            deletion_protection=False,  # stateless, rebuilt from the image
            labels={"baton-step": "gc"},
            template={
                "task_count": 1,
                "template": {
                    "service_account": self.account.email,
                    "max_retries": 1,  # a sweep is idempotent: a retry redoes what is left
                    "timeout": f"{GC_TIMEOUT_S}s",
                    "containers": [
                        {
                            "image": args.image,
                            "commands": GC_COMMAND,
                            "args": ["gc", "--older-than", args.older_than],
                            "envs": [
                                {"name": "BATON_LAKE", "value": args.lake_uri},
                                {"name": "BATON_LOG_LEVEL", "value": "info"},
                            ],
                            "resources": {"limits": {"cpu": "1", "memory": "512Mi"}},
                        }
                    ],
                },
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=grants),
        )
        self.schedule = self._schedule(name, args)
        self.name = self.job.name
        self.register_outputs(
            {
                "job": self.job.name,
                "service_account": self.account.email,
                "schedule": self.schedule.name,
            }
        )

    def _lake_grants(
        self, name: str, args: GarbageCollectorArgs, who: pulumi.Output[str]
    ) -> list[pulumi.Resource]:
        child = pulumi.ResourceOptions(parent=self)
        lists = gcp.projects.IAMCustomRole(
            f"{name}-lists-role",
            project=args.project,
            role_id=role_id(args.account_id, "lists_lake"),
            title=f"baton {args.account_id}: list lake objects",
            description="List object names and sizes (baton gc finds orphans from listings)",
            permissions=list(LIST_PERMISSIONS),
            opts=child,
        )
        sweeps = gcp.projects.IAMCustomRole(
            f"{name}-sweeps-role",
            project=args.project,
            role_id=role_id(args.account_id, "sweeps_lake"),
            title=f"baton {args.account_id}: read manifests, delete orphan files",
            description="Read manifests and attempt records; delete attempt files",
            permissions=list(SWEEP_PERMISSIONS),
            opts=child,
        )
        grants: list[pulumi.Resource] = [
            gcp.storage.BucketIAMMember(
                f"{name}-lists", bucket=args.lake_bucket, role=lists.name, member=who, opts=child
            )
        ]
        for zone in SWEPT_ZONES:
            grants.append(
                gcp.storage.BucketIAMMember(
                    f"{name}-sweeps-{zone}",
                    bucket=args.lake_bucket,
                    role=sweeps.name,
                    member=who,
                    condition={
                        "title": f"sweep {zone}/",
                        "description": f"baton gc: read and delete lake objects under {zone}/",
                        "expression": prefix_condition(
                            args.lake_bucket_name, args.lake_prefix, f"{zone}/"
                        ),
                    },
                    opts=child,
                )
            )
        return grants

    def _schedule(self, name: str, args: GarbageCollectorArgs) -> gcp.cloudscheduler.Job:
        """Cloud Scheduler POSTs jobs.run with an OAuth token of its own identity ("OAuth
        tokens ... should generally only be used when calling Google APIs hosted on
        *.googleapis.com": https://cloud.google.com/scheduler/docs/http-target-auth)."""
        self.scheduler_account = service_account(
            f"{name}-scheduler-sa",
            args.project,
            args.scheduler_account_id,
            "starts the baton gc job on schedule",
            self,
        )
        invoker = gcp.cloudrunv2.JobIamMember(
            f"{name}-scheduler-runs-gc",
            project=args.project,
            location=args.region,
            name=self.job.name,
            role=INVOKER_ROLE,
            member=member(self.scheduler_account.email),
            opts=pulumi.ResourceOptions(parent=self),
        )
        return gcp.cloudscheduler.Job(
            f"{name}-schedule",
            project=args.project,
            region=args.region,
            name=args.job_name,
            description="deletes lake files no manifest names, older than " + args.older_than,
            schedule=args.schedule,
            time_zone=args.time_zone,
            paused=args.paused,
            attempt_deadline="60s",
            retry_config=SCHEDULER_RETRY,
            http_target={
                "uri": run_uri(args.project, args.region, self.job.name),
                "http_method": "POST",
                "oauth_token": {
                    "service_account_email": self.scheduler_account.email,
                    "scope": "https://www.googleapis.com/auth/cloud-platform",
                },
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=[invoker]),
        )
