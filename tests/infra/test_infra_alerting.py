"""The alert policies watch failed executions and the log line a step writes when it
quarantines more than its tolerance (a log-match condition whose filter matches that real line);
none reads a log-based metric the same stack creates, so the first `pulumi up` succeeds."""

from __future__ import annotations

import json
import re
from datetime import date

from baton.step import Output, StepPlan
from baton.stepcli import execute
from baton_infra.alerting import TOLERANCE_FILTER

WORKFLOW = "projects/acme-data/locations/europe-west1/workflows/baton-pipeline"


class _OverTolerance:
    """A step that quarantines half its rows (the flights tolerance is 1%)."""

    name = "validate"

    def plan(self, part):
        return StepPlan(
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


def test_the_tolerance_filter_matches_the_line_a_step_logs_when_over_tolerance(tmp_path, capsys):
    line = _step_failure_line(tmp_path, capsys)
    wanted = dict(re.findall(r'jsonPayload\.(\w+)="([^"]*)"', TOLERANCE_FILTER))
    assert wanted, TOLERANCE_FILTER
    assert {k: line.get(k) for k in wanted} == wanted


def test_the_tolerance_labels_exist_on_that_line(full, tmp_path, capsys):
    line = _step_failure_line(tmp_path, capsys)
    (condition,) = _policy(full, "alerts-tolerance")["conditions"]
    for extractor in condition["conditionMatchedLog"]["labelExtractors"].values():
        (label,) = re.findall(r"EXTRACT\(labels\.(\w+)\)", extractor)
        assert label in line["logging.googleapis.com/labels"]


def _policy(full, name: str) -> dict:
    return full.one("gcp:monitoring/alertPolicy:AlertPolicy", name).inputs


def _filters(condition: dict) -> list[str]:
    return [v["filter"] for v in condition.values() if isinstance(v, dict) and "filter" in v]


def test_no_alert_condition_reads_a_log_based_metric_the_stack_itself_creates(full):
    # Monitoring rejects such a policy with 404 until the new metric is queryable (up to 10
    # minutes): the first `pulumi up` on an empty project would fail.
    created = {r.inputs["name"] for r in full.of_type("gcp:logging/metric:Metric")}
    policies = full.of_type("gcp:monitoring/alertPolicy:AlertPolicy")
    assert policies
    read = {
        metric
        for policy in policies
        for condition in policy.inputs["conditions"]
        for filter_ in _filters(condition)
        for metric in re.findall(r"logging\.googleapis\.com/user/([\w.-]+)", filter_)
    }
    assert not read & created, read & created


def test_the_tolerance_alert_is_a_log_match_condition_alone_in_its_policy(full):
    policy = _policy(full, "alerts-tolerance")
    (condition,) = policy["conditions"]
    assert condition["conditionMatchedLog"]["filter"] == TOLERANCE_FILTER


def test_every_log_match_policy_sets_the_notification_rate_limit_the_api_requires(full):
    log_match = [
        p.inputs
        for p in full.of_type("gcp:monitoring/alertPolicy:AlertPolicy")
        if any("conditionMatchedLog" in c for c in p.inputs["conditions"])
    ]
    assert log_match
    for policy in log_match:
        assert len(policy["conditions"]) == 1, "a log-match condition must be the only one"
        assert policy["alertStrategy"]["notificationRateLimit"]["period"].endswith("s")


def test_the_failure_policy_fires_on_failed_executions_of_this_workflow(full):
    (condition,) = _policy(full, "alerts-failures")["conditions"]
    filter_ = condition["conditionThreshold"]["filter"]
    assert 'metric.type="workflows.googleapis.com/finished_execution_count"' in filter_
    assert 'metric.labels.status="FAILED"' in filter_
    assert 'resource.labels.workflow_id="baton-pipeline"' in filter_


def test_both_policies_notify_the_configured_email_channel(full):
    channel = full.one("gcp:monitoring/notificationChannel:NotificationChannel", "alerts-email")
    assert channel.inputs["labels"] == {"email_address": "oncall@example.com"}
    for name in ("alerts-failures", "alerts-tolerance"):
        assert _policy(full, name)["notificationChannels"] == [channel.outputs["name"]]
