"""Alerting: one policy that fires when a pipeline execution fails and one that fires when a
step quarantines more rows than its tolerance, both notifying the configured channels.

Neither condition needs a metric descriptor created by this stack. A policy whose condition
filters on `logging.googleapis.com/user/<metric>` fails to create when the log-based metric is
created in the same `pulumi up` (Monitoring answers 404 "Cannot find metric(s) ... it could take
up to 10 minutes to become available": hashicorp/terraform-provider-google#11102,
GoogleCloudPlatform/cloud-foundation-fabric PR #3739). So the tolerance alert is a log-match
condition, which the Monitoring API evaluates on log entries directly:
https://cloud.google.com/dotnet/docs/reference/Google.Cloud.Monitoring.V3/latest/Google.Cloud.Monitoring.V3.AlertPolicy.Types.Condition.Types.LogMatch
It must be the policy's only condition (pulumi-gcp `AlertPolicyConditionArgs.condition_matched_log`:
"If set, no other conditions can be present"), and the policy needs
`alert_strategy.notification_rate_limit` ("Required for alert policies with a LogMatch
condition": https://cloud.google.com/python/docs/reference/monitoring/2.14.0/google.cloud.monitoring_v3.types.AlertPolicy.AlertStrategy),
hence two policies. The failed-execution condition reads Workflows' own built-in metric.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

TOLERANCE_FILTER = (
    'resource.type="cloud_run_job" AND jsonPayload.message="step failed" '
    'AND jsonPayload.reason="tolerance_exceeded"'
)
"""The structured summary line a step logs when its bad-row share exceeds the tolerance."""

TOLERANCE_LABELS = {"step": "EXTRACT(labels.step)", "dataset": "EXTRACT(labels.dataset)"}
"""Labels of a tolerance notification, read from the line's `logging.googleapis.com/labels`."""

NOTIFICATION_PERIOD = "300s"
"""At most one tolerance notification per 5 minutes (a backfill may breach on many dates)."""


@dataclass(frozen=True)
class AlertingArgs:
    """Who is told, about which workflow."""

    project: str
    name_prefix: str
    workflow_name: pulumi.Output[str]
    email: str | None
    channel: str | None


_DOCUMENTATION = (
    "Open the workflow's executions in the console for the summary (failed dates and "
    "reasons); the step's `_attempt.json` and the quarantine/ files name the rules rows broke."
)


class Alerting(pulumi.ComponentResource):
    """Two alert policies: failed executions of the workflow, and tolerance breaches."""

    def __init__(
        self, name: str, args: AlertingArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("baton:infra:Alerting", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        channels: list[pulumi.Input[str]] = [args.channel] if args.channel else []
        if args.email:
            self.email_channel = gcp.monitoring.NotificationChannel(
                f"{name}-email",
                project=args.project,
                display_name=f"baton alerts ({args.email})",
                type="email",
                labels={"email_address": args.email},
                opts=child,
            )
            channels.append(self.email_channel.name)
        failed_executions = args.workflow_name.apply(
            lambda wf: (
                'resource.type="workflows.googleapis.com/Workflow" '
                f'AND resource.labels.workflow_id="{wf}" '
                'AND metric.type="workflows.googleapis.com/finished_execution_count" '
                'AND metric.labels.status="FAILED"'
            )
        )
        self.failures = gcp.monitoring.AlertPolicy(
            f"{name}-failures",
            project=args.project,
            display_name=f"{args.name_prefix}pipeline: an execution failed",
            combiner="OR",
            conditions=[_count_above_zero("a pipeline execution failed", failed_executions)],
            notification_channels=channels,
            alert_strategy={"auto_close": "86400s"},
            documentation={
                "mime_type": "text/markdown",
                "content": f"A baton pipeline execution failed. {_DOCUMENTATION}",
            },
            opts=child,
        )
        self.tolerance = gcp.monitoring.AlertPolicy(
            f"{name}-tolerance",
            project=args.project,
            display_name=f"{args.name_prefix}pipeline: a step quarantined more than its tolerance",
            combiner="OR",
            conditions=[
                {
                    "display_name": "a step quarantined more than its tolerance",
                    "condition_matched_log": {
                        "filter": TOLERANCE_FILTER,
                        "label_extractors": TOLERANCE_LABELS,
                    },
                }
            ],
            notification_channels=channels,
            alert_strategy={
                "notification_rate_limit": {"period": NOTIFICATION_PERIOD},
                "auto_close": "86400s",
            },
            documentation={
                "mime_type": "text/markdown",
                "content": (
                    "A baton step rejected more rows than its dataset's tolerance "
                    f"(labels: step, dataset). {_DOCUMENTATION}"
                ),
            },
            opts=child,
        )
        self.register_outputs({"failures": self.failures.name, "tolerance": self.tolerance.name})


def _count_above_zero(title: str, filter_: pulumi.Input[str]) -> dict:
    return {
        "display_name": title,
        "condition_threshold": {
            "filter": filter_,
            "comparison": "COMPARISON_GT",
            "threshold_value": 0,
            "duration": "0s",
            "aggregations": [{"alignment_period": "300s", "per_series_aligner": "ALIGN_SUM"}],
            "trigger": {"count": 1},
        },
    }
