"""The alert policy watches failed executions and the log line a step writes when it
quarantines more than its tolerance; the metric's filter matches that real line."""

from __future__ import annotations

import json
import re
from datetime import date

from baton.step import Output, Plan
from baton.stepcli import execute
from baton_infra.alerting import TOLERANCE_FILTER

WORKFLOW = "projects/acme-data/locations/europe-west1/workflows/baton-pipeline"


class _OverTolerance:
    """A step that quarantines half its rows (the flights tolerance is 1%)."""

    name = "validate"

    def plan(self, part):
        return Plan(
            inputs=(), execute=lambda: Output(files=(), rows_in=10, rows_out=5, rows_quarantined=5)
        )


def _step_failure_line(tmp_path, capsys) -> dict:
    (tmp_path / "lake").mkdir()
    code = execute(
        _OverTolerance(),
        date(2013, 1, 2),
        "flights",
        force=False,
        dry_run=False,
        verbose=False,
        environ={"BATON_HOME": str(tmp_path)},
    )
    assert code == 4
    lines = [
        json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")
    ]
    (failed,) = [line for line in lines if line.get("severity") == "ERROR"]
    return failed


def test_the_tolerance_metric_filter_matches_the_line_a_step_logs_when_over_tolerance(
    tmp_path, capsys
):
    line = _step_failure_line(tmp_path, capsys)
    wanted = dict(re.findall(r'jsonPayload\.(\w+)="([^"]*)"', TOLERANCE_FILTER))
    assert wanted, TOLERANCE_FILTER
    assert {k: line.get(k) for k in wanted} == wanted


def test_the_tolerance_metric_labels_exist_on_that_line(full, tmp_path, capsys):
    line = _step_failure_line(tmp_path, capsys)
    metric = full.one("gcp:logging/metric:Metric", "alerts-tolerance-metric").inputs
    for extractor in metric["labelExtractors"].values():
        (label,) = re.findall(r"EXTRACT\(labels\.(\w+)\)", extractor)
        assert label in line["logging.googleapis.com/labels"]


def test_the_policy_fires_on_failed_executions_of_this_workflow_and_on_the_metric(full):
    policy = full.one("gcp:monitoring/alertPolicy:AlertPolicy", "alerts-policy").inputs
    filters = [c["conditionThreshold"]["filter"] for c in policy["conditions"]]
    assert policy["combiner"] == "OR"
    assert any(
        'metric.type="workflows.googleapis.com/finished_execution_count"' in f
        and 'metric.labels.status="FAILED"' in f
        and 'resource.labels.workflow_id="baton-pipeline"' in f
        for f in filters
    ), filters
    assert any(
        'metric.type="logging.googleapis.com/user/baton_quarantine_over_tolerance"' in f
        for f in filters
    )


def test_the_policy_notifies_the_configured_email_channel(full):
    policy = full.one("gcp:monitoring/alertPolicy:AlertPolicy", "alerts-policy").inputs
    channel = full.one("gcp:monitoring/notificationChannel:NotificationChannel", "alerts-email")
    assert channel.inputs["labels"] == {"email_address": "oncall@example.com"}
    assert policy["notificationChannels"] == [channel.outputs["name"]]
