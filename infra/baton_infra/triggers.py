"""What starts the pipeline: a Cloud Scheduler job every day and, optionally, an Eventarc
trigger when a landing file is finalized. Each has its own identity that may only invoke."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import pulumi
import pulumi_gcp as gcp

from baton.apis import EXECUTIONS_API
from baton.dataset import Dataset
from baton.lake import LANDING
from baton.lake_access import object_name
from baton_infra.identity import member, project_role, service_account

PUBSUB_EVENT = "google.cloud.pubsub.topic.v1.messagePublished"
SCHEDULER_RETRY = {"retry_count": 3, "min_backoff_duration": "30s", "max_backoff_duration": "300s"}
"""How Cloud Scheduler retries a failed start: only a failed create or run call is retried;
a started execution is the workflow's (or the job's) business."""


def scheduler_body() -> str:
    """The executions.create body the scheduler POSTs, base64 as Cloud Scheduler wants it:
    argument `{}`, so the workflow runs its default (yesterday, the default dataset)."""
    body = {"argument": json.dumps({}), "callLogLevel": "LOG_ERRORS_ONLY"}
    return base64.b64encode(json.dumps(body).encode()).decode()


def landing_prefixes(registry: Mapping[str, Dataset]) -> list[str]:
    """The landing prefix of each registered dataset's partition files (reference tables
    under landing/reference/ are not partitions and start nothing)."""
    day = date(2000, 1, 31)
    text = day.isoformat()
    prefixes = set()
    for name, dataset in registry.items():
        for key in dataset.source.landing_keys(name, day):
            # Up to the date when the key names it (landing/flights/2000-01-31.csv), else the
            # key's directory.
            prefixes.add(key.split(text, 1)[0] if text in key else key.rsplit("/", 1)[0] + "/")
    if not all(p.startswith(f"{LANDING}/") for p in prefixes):
        raise ValueError(f"landing keys must lie under {LANDING}/: {sorted(prefixes)}")
    return sorted(prefixes)


@dataclass(frozen=True)
class ScheduleArgs:
    """When the pipeline runs, and which workflow."""

    project: str
    region: str
    job_name: str
    account_id: str
    schedule: str
    time_zone: str
    paused: bool
    workflow_id: pulumi.Output[str]


class PipelineSchedule(pulumi.ComponentResource):
    """A Cloud Scheduler job that starts a workflow execution with an OAuth token."""

    def __init__(
        self, name: str, args: ScheduleArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("baton:infra:PipelineSchedule", name, None, opts)
        self.account = service_account(
            f"{name}-sa",
            args.project,
            args.account_id,
            "starts baton pipeline executions on schedule",
            self,
        )
        # Workflows grants roles on the project only (no per-workflow IAM); this identity
        # holds nothing else.
        invoker = project_role(
            f"{name}-invokes",
            args.project,
            "roles/workflows.invoker",
            member(self.account.email),
            self,
        )
        self.job = gcp.cloudscheduler.Job(
            f"{name}-job",
            project=args.project,
            region=args.region,
            name=args.job_name,
            description="starts the baton pipeline for yesterday",
            schedule=args.schedule,
            time_zone=args.time_zone,
            paused=args.paused,
            attempt_deadline="60s",
            retry_config=SCHEDULER_RETRY,
            http_target={
                "uri": args.workflow_id.apply(lambda wf: f"{EXECUTIONS_API}/{wf}/executions"),
                "http_method": "POST",
                "headers": {"Content-Type": "application/json"},
                "body": scheduler_body(),
                "oauth_token": {
                    "service_account_email": self.account.email,
                    "scope": "https://www.googleapis.com/auth/cloud-platform",
                },
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=[invoker]),
        )
        self.register_outputs({"job": self.job.name, "service_account": self.account.email})


@dataclass(frozen=True)
class LandingTriggerArgs:
    """Which landing prefixes start the workflow."""

    project: str
    region: str
    name_prefix: str
    account_id: str
    lake_bucket: pulumi.Output[str]
    lake_prefix: str
    landing_prefixes: Sequence[str]
    workflow_id: pulumi.Output[str]


class LandingTrigger(pulumi.ComponentResource):
    """Landing file finalized -> Pub/Sub -> Eventarc -> a workflow execution.

    Bucket notifications filter by object prefix, so only landing files publish; a trigger
    on the bucket's own `finalized` events would fire on every file the steps write."""

    def __init__(
        self, name: str, args: LandingTriggerArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("baton:infra:LandingTrigger", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.topic = gcp.pubsub.Topic(
            f"{name}-topic", project=args.project, name=f"{args.name_prefix}landing", opts=child
        )
        agent = gcp.storage.get_project_service_account_output(project=args.project)
        publisher = gcp.pubsub.TopicIAMMember(
            f"{name}-gcs-publishes",
            project=args.project,
            topic=self.topic.name,
            role="roles/pubsub.publisher",
            member=member(agent.email_address),
            opts=child,
        )
        self.notifications = [
            gcp.storage.Notification(
                f"{name}-{prefix.strip('/').replace('/', '-').replace('=', '')}",
                bucket=args.lake_bucket,
                topic=self.topic.id,
                payload_format="JSON_API_V1",
                event_types=["OBJECT_FINALIZE"],
                object_name_prefix=object_name(args.lake_prefix, prefix),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[publisher]),
            )
            for prefix in args.landing_prefixes
        ]
        self.account = service_account(
            f"{name}-sa",
            args.project,
            args.account_id,
            "starts baton pipeline executions on landing",
            self,
        )
        who = member(self.account.email)
        roles = [
            project_role(f"{name}-{role.split('.')[-1].lower()}", args.project, role, who, self)
            for role in ("roles/workflows.invoker", "roles/eventarc.eventReceiver")
        ]
        self.trigger = gcp.eventarc.Trigger(
            f"{name}-trigger",
            project=args.project,
            location=args.region,
            name=f"{args.name_prefix}landing",
            matching_criterias=[{"attribute": "type", "value": PUBSUB_EVENT}],
            transport={"pubsub": {"topic": self.topic.id}},
            destination={"workflow": args.workflow_id},
            service_account=self.account.email,
            opts=pulumi.ResourceOptions(parent=self, depends_on=roles),
        )
        self.register_outputs({"topic": self.topic.name, "trigger": self.trigger.name})
