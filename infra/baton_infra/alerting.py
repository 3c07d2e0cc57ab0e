"""Alerting: a policy that fires when a pipeline execution fails or a step quarantines more
rows than its tolerance, notifying the configured channel."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

TOLERANCE_FILTER = (
    'resource.type="cloud_run_job" AND jsonPayload.message="step failed" '
    'AND jsonPayload.reason="tolerance_exceeded"'
)
"""The structured summary line a step logs when its bad-row share exceeds the tolerance."""


@dataclass(frozen=True)
class AlertingArgs:
    """Who is told, about which workflow."""

    project: str
    name_prefix: str
    workflow_name: pulumi.Output[str]
    email: str | None
    channel: str | None


class Alerting(pulumi.ComponentResource):
    """A log-based metric for tolerance breaches and one alert policy over it and the
    workflow's failed executions."""

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
        metric_name = f"{args.name_prefix.replace('-', '_')}quarantine_over_tolerance"
        self.metric = gcp.logging.Metric(
            f"{name}-tolerance-metric",
            project=args.project,
            name=metric_name,
            description="baton steps that quarantined more rows than their tolerance",
            filter=TOLERANCE_FILTER,
            metric_descriptor={
                "metric_kind": "DELTA",
                "value_type": "INT64",
                "unit": "1",
                "labels": [
                    {"key": "step", "value_type": "STRING", "description": "baton step"},
                    {"key": "dataset", "value_type": "STRING", "description": "dataset"},
                ],
            },
            label_extractors={
                "step": "EXTRACT(labels.step)",
                "dataset": "EXTRACT(labels.dataset)",
            },
            opts=child,
        )
        failed_executions = args.workflow_name.apply(
            lambda wf: (
                'resource.type="workflows.googleapis.com/Workflow" '
                f'AND resource.labels.workflow_id="{wf}" '
                'AND metric.type="workflows.googleapis.com/finished_execution_count" '
                'AND metric.labels.status="FAILED"'
            )
        )
        over_tolerance = self.metric.name.apply(
            lambda metric: (
                f'resource.type="cloud_run_job" AND metric.type="logging.googleapis.com/user/{metric}"'
            )
        )
        self.policy = gcp.monitoring.AlertPolicy(
            f"{name}-policy",
            project=args.project,
            display_name=f"{args.name_prefix}pipeline: execution failed or quarantine over tolerance",
            combiner="OR",
            conditions=[
                _count_above_zero("a pipeline execution failed", failed_executions),
                _count_above_zero("a step quarantined more than its tolerance", over_tolerance),
            ],
            notification_channels=channels,
            alert_strategy={"auto_close": "86400s"},
            documentation={
                "mime_type": "text/markdown",
                "content": (
                    "A baton pipeline execution failed, or a step rejected more rows than its "
                    "dataset's tolerance. Open the workflow's executions in the console for the "
                    "summary (failed dates and reasons); the step's `_attempt.json` and the "
                    "quarantine/ files name the rules rows broke."
                ),
            },
            opts=child,
        )
        self.register_outputs({"policy": self.policy.name, "metric": self.metric.name})


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
