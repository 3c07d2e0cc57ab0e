"""Log-based metrics read off the summary line every step run logs (`step finished` /
`step failed`, baton.stepcli): how many step runs ended each way, the rows load committed and
the rows each step quarantined, and how long step runs took; each labelled by step and dataset.

Log-based metrics: counter metrics count matching entries, distribution metrics extract a
numeric field (`value_extractor`) into buckets (`bucket_options`, required for a
distribution); every label of the descriptor needs an extractor
(https://cloud.google.com/logging/docs/logs-based-metrics, and the LogMetric reference
https://cloud.google.com/logging/docs/reference/v2/rest/v2/projects.metrics). pulumi-gcp
`gcp.logging.Metric` takes them as `filter`, `metric_descriptor` (`metric_kind`, `value_type`,
`unit`, `labels`), `label_extractors`, `value_extractor` and `bucket_options`
(https://www.pulumi.com/registry/packages/gcp/api-docs/logging/metric/). A metric is read as
`logging.googleapis.com/user/<name>`. Alert policies must not read these (a metric created in
the same `pulumi up` is not queryable for up to 10 minutes; see baton_infra.alerting);
dashboards may.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

SUMMARY = 'resource.type="cloud_run_job" AND jsonPayload.message=("step finished" OR "step failed")'
"""The one summary line each step run logs (baton.stepcli._summary)."""

COMMITTED = 'resource.type="cloud_run_job" AND jsonPayload.message="step finished" AND jsonPayload.outcome="committed"'

LABELS = {"step": "EXTRACT(labels.step)", "dataset": "EXTRACT(labels.dataset)"}
"""Read from the line's `logging.googleapis.com/labels`, which become the entry's labels."""


@dataclass(frozen=True)
class MetricSpec:
    """One log-based metric: a counter when `value` is empty, else a distribution of `value`."""

    name: str
    description: str
    filter: str
    unit: str
    value: str = ""  # the jsonPayload field a distribution extracts
    extra_labels: tuple[tuple[str, str], ...] = ()  # (label, extractor) beyond step and dataset

    @property
    def metric_type(self) -> str:
        """The type charts query."""
        return f"logging.googleapis.com/user/{self.name}"

    @property
    def labels(self) -> dict[str, str]:
        """Every label and its extractor."""
        return {**LABELS, **dict(self.extra_labels)}


STEP_RUNS = MetricSpec(
    "baton_step_runs",
    "Step runs (one per date, step and task attempt), by how they ended.",
    SUMMARY,
    "1",
    extra_labels=(("outcome", "EXTRACT(jsonPayload.outcome)"),),
)
ROWS_LOADED = MetricSpec(
    "baton_rows_loaded",
    "Rows load committed to the warehouse, per step run.",
    f'{COMMITTED} AND labels.step="load"',
    "1",
    value="rows_out",
)
ROWS_QUARANTINED = MetricSpec(
    "baton_rows_quarantined",
    "Rows a step quarantined (they broke a rule), per step run that quarantined any.",
    f"{COMMITTED} AND jsonPayload.rows_quarantined>0",
    "1",
    value="rows_quarantined",
)
STEP_DURATION = MetricSpec(
    "baton_step_duration",
    "Seconds a step run took (its own work, from the summary line's duration_s).",
    SUMMARY,
    "s",
    value="duration_s",
)
SPECS = (STEP_RUNS, ROWS_LOADED, ROWS_QUARANTINED, STEP_DURATION)

# Exponential buckets cover 1 to ~1e8 rows and 0.01 s to ~1e6 s in 40 buckets each.
_BUCKETS = {
    "1": {"exponential_buckets": {"num_finite_buckets": 40, "growth_factor": 1.6, "scale": 1}},
    "s": {"exponential_buckets": {"num_finite_buckets": 40, "growth_factor": 1.6, "scale": 0.01}},
}


class StepLogMetrics(pulumi.ComponentResource):
    """The log-based metrics of the step summary lines."""

    def __init__(self, name: str, project: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("baton:infra:StepLogMetrics", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.metrics: dict[str, gcp.logging.Metric] = {}
        for spec in SPECS:
            descriptor: dict = {
                "metric_kind": "DELTA",
                "value_type": "DISTRIBUTION" if spec.value else "INT64",
                "unit": spec.unit,
                "display_name": spec.name,
                "labels": [
                    {"key": key, "value_type": "STRING", "description": f"the step run's {key}"}
                    for key in spec.labels
                ],
            }
            extra: dict = {}
            if spec.value:
                extra = {
                    "value_extractor": f"EXTRACT(jsonPayload.{spec.value})",
                    "bucket_options": _BUCKETS[spec.unit],
                }
            self.metrics[spec.name] = gcp.logging.Metric(
                f"{name}-{spec.name}",
                project=project,
                name=spec.name,
                description=spec.description,
                filter=spec.filter,
                metric_descriptor=descriptor,
                label_extractors=spec.labels,
                opts=child,
                **extra,
            )
        self.register_outputs({k: m.name for k, m in self.metrics.items()})
