"""The pipeline's Cloud Monitoring dashboard: executions by state, failed step runs, rows loaded
and quarantined per day, step durations and Cloud Run task attempts.

Built-in metrics (Google Cloud metrics list, https://cloud.google.com/monitoring/api/metrics_gcp;
Workflows sends its metrics to Cloud Monitoring, https://cloud.google.com/workflows/docs/monitor):
`workflows.googleapis.com/finished_execution_count` (label `status`, resource
`workflows.googleapis.com/Workflow` with `workflow_id`) and
`run.googleapis.com/job/completed_task_attempt_count` (label `result`, resource `cloud_run_job`
with `job_name`). The others are the stack's own log-based metrics (baton_infra.log_metrics).

The dashboard is `gcp.monitoring.Dashboard(dashboard_json=...)`, the JSON of the Dashboards API
(https://www.pulumi.com/registry/packages/gcp/api-docs/monitoring/dashboard/,
https://cloud.google.com/monitoring/api/ref_v3/rest/v1/projects.dashboards): a grid of
`xyChart` widgets, each with a `title`, data sets whose `timeSeriesQuery` sets `unitOverride`,
and a labelled y axis. Rows per day are sums of distribution values, which a filter's aligners
cannot give (ALIGN_SUM of a distribution is a distribution), so those two charts are PromQL
(`timeSeriesQuery.prometheusQuery`): "distribution-valued metrics can be queried like Prometheus
histograms, with _count, _sum, or _bucket suffix", and `logging.googleapis.com/user/M` is
`logging_googleapis_com:user_M` (https://cloud.google.com/monitoring/promql/promql-mapping).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_gcp as gcp

from baton_infra.log_metrics import (
    ROWS_LOADED,
    ROWS_QUARANTINED,
    STEP_DURATION,
    STEP_RUNS,
    StepLogMetrics,
)

DAY = "86400s"
HOUR = "3600s"
FINISHED_EXECUTIONS = "workflows.googleapis.com/finished_execution_count"
TASK_ATTEMPTS = "run.googleapis.com/job/completed_task_attempt_count"
BUILT_IN = (FINISHED_EXECUTIONS, TASK_ATTEMPTS)


def _filter_set(
    filter_: str, aligner: str, period: str, group_by: list[str], unit: str, plot: str = "LINE"
) -> dict[str, Any]:
    return {
        "plotType": plot,
        "timeSeriesQuery": {
            "timeSeriesFilter": {
                "filter": filter_,
                "aggregation": {
                    "alignmentPeriod": period,
                    "perSeriesAligner": aligner,
                    "crossSeriesReducer": "REDUCE_SUM"
                    if aligner in ("ALIGN_SUM", "ALIGN_DELTA")
                    else "REDUCE_MEAN",
                    "groupByFields": group_by,
                },
            },
            "unitOverride": unit,
        },
    }


def _promql_set(query: str, unit: str, plot: str = "STACKED_BAR") -> dict[str, Any]:
    return {
        "plotType": plot,
        "minAlignmentPeriod": DAY,
        "timeSeriesQuery": {"prometheusQuery": query, "unitOverride": unit},
    }


def _chart(title: str, axis: str, *data_sets: dict[str, Any]) -> dict[str, Any]:
    return {
        "title": title,
        "xyChart": {"dataSets": list(data_sets), "yAxis": {"label": axis, "scale": "LINEAR"}},
    }


def promql_name(metric_type: str) -> str:
    """A Monitoring metric type as PromQL names it: the first `/` becomes `:`, every other
    `/` and `.` becomes `_`."""
    domain, _, path = metric_type.partition("/")
    return domain.replace(".", "_") + ":" + path.replace("/", "_").replace(".", "_")


def _rows_per_day(metric_type: str) -> str:
    return f"sum by (step, dataset) (increase({promql_name(metric_type)}_sum[1d]))"


def dashboard_json(display_name: str, workflow_id: str, job_prefix: str) -> dict[str, Any]:
    """The dashboard of one deployed workflow and its step jobs (jobs named `job_prefix`+step)."""
    executions = (
        'resource.type="workflows.googleapis.com/Workflow" '
        f'AND resource.labels.workflow_id="{workflow_id}" '
        f'AND metric.type="{FINISHED_EXECUTIONS}"'
    )
    failed_runs = (
        f'resource.type="cloud_run_job" AND metric.type="{STEP_RUNS.metric_type}" '
        'AND metric.labels.outcome="failed"'
    )
    durations = f'resource.type="cloud_run_job" AND metric.type="{STEP_DURATION.metric_type}"'
    # starts_with(): the Monitoring filter syntax's prefix match
    # (https://cloud.google.com/monitoring/api/v3/filters).
    attempts = (
        f'resource.type="cloud_run_job" AND metric.type="{TASK_ATTEMPTS}" '
        f'AND resource.labels.job_name=starts_with("{job_prefix}")'
    )
    step = ["metric.label.step"]
    widgets = [
        _chart(
            "Executions by state, per day",
            "executions",
            _filter_set(executions, "ALIGN_SUM", DAY, ["metric.label.status"], "1", "STACKED_BAR"),
        ),
        _chart(
            "Failed step runs (date x step x attempt), per day",
            "step runs",
            _filter_set(
                failed_runs, "ALIGN_SUM", DAY, [*step, "metric.label.dataset"], "1", "STACKED_BAR"
            ),
        ),
        _chart(
            "Rows loaded into the warehouse, per day (the 24 h before each point)",
            "rows",
            _promql_set(_rows_per_day(ROWS_LOADED.metric_type), "1"),
        ),
        _chart(
            "Rows quarantined, per day, by step (the 24 h before each point)",
            "rows",
            _promql_set(_rows_per_day(ROWS_QUARANTINED.metric_type), "1"),
        ),
        _chart(
            "Step run duration, p50 and p95 by step",
            "seconds",
            _filter_set(durations, "ALIGN_PERCENTILE_50", HOUR, step, "s"),
            _filter_set(durations, "ALIGN_PERCENTILE_95", HOUR, step, "s"),
        ),
        _chart(
            "Cloud Run task attempts by result (a failed one is retried up to max_retries)",
            "task attempts",
            _filter_set(
                attempts,
                "ALIGN_SUM",
                HOUR,
                ["resource.label.job_name", "metric.label.result"],
                "1",
                "STACKED_BAR",
            ),
        ),
    ]
    return {"displayName": display_name, "gridLayout": {"columns": "2", "widgets": widgets}}


@dataclass(frozen=True)
class DashboardArgs:
    """Which workflow and jobs the dashboard shows."""

    project: str
    name_prefix: str
    workflow_name: pulumi.Output[str]
    job_prefix: str


class PipelineDashboard(pulumi.ComponentResource):
    """The log-based metrics of the step summary lines and the dashboard that charts them."""

    def __init__(
        self, name: str, args: DashboardArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("baton:infra:PipelineDashboard", name, None, opts)
        self.log_metrics = StepLogMetrics(
            f"{name}-metrics", args.project, pulumi.ResourceOptions(parent=self)
        )
        body = args.workflow_name.apply(
            lambda wf: json.dumps(
                dashboard_json(f"{args.name_prefix}pipeline", wf, args.job_prefix), indent=2
            )
        )
        self.dashboard = gcp.monitoring.Dashboard(
            name,
            project=args.project,
            dashboard_json=body,
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=list(self.log_metrics.metrics.values())
            ),
        )
        self.register_outputs({"dashboard": self.dashboard.id})
