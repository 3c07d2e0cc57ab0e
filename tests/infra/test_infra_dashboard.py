"""The pipeline dashboard: every chart has a title and a unit and reads only metrics the stack
creates (its log-based metrics) or Google's built-in ones; the log-based metrics are declared
with the labels step and dataset, each with an extractor, and their filters and extracted
fields match the summary line a real step run logs."""

from __future__ import annotations

import json
import re

import pytest
from lakes import JAN_1

from baton.errors import ExitCode
from baton.lake import STEPS
from baton_infra.dashboard import BUILT_IN, promql_name
from baton_infra.log_metrics import SPECS

METRIC = "gcp:logging/metric:Metric"


@pytest.fixture(scope="module")
def dashboard(full) -> dict:
    (found,) = full.of_type("gcp:monitoring/dashboard:Dashboard")
    return json.loads(found.inputs["dashboardJson"])


def _widgets(dashboard: dict) -> list[dict]:
    return dashboard["gridLayout"]["widgets"]


def _queries(dashboard: dict) -> list[dict]:
    return [
        data_set["timeSeriesQuery"]
        for widget in _widgets(dashboard)
        for data_set in widget["xyChart"]["dataSets"]
    ]


def _metric_types(query: dict) -> set[str]:
    text = query.get("timeSeriesFilter", {}).get("filter", "")
    found = set(re.findall(r'metric\.type="([^"]+)"', text))
    for domain, path in re.findall(
        r"(\w+):(\w+?)_(?:sum|count|bucket)\b", query.get("prometheusQuery", "")
    ):
        found.add(domain.replace("_", ".") + "/" + path.replace("user_", "user/", 1))
    return found


def test_the_dashboard_has_the_six_charts_the_issue_asks_for(dashboard):
    titles = [w["title"] for w in _widgets(dashboard)]
    for words in (
        "Executions by state",
        "Failed step runs",
        "Rows loaded",
        "Rows quarantined",
        "duration",
        "task attempts",
    ):
        assert any(words in t for t in titles), (words, titles)


def test_every_chart_has_a_title_a_y_axis_label_and_every_query_a_unit(dashboard):
    for widget in _widgets(dashboard):
        assert widget["title"].strip()
        assert widget["xyChart"]["yAxis"]["label"].strip(), widget["title"]
    for query in _queries(dashboard):
        assert query["unitOverride"] in {"1", "s"}, query


def test_every_query_reads_a_metric_of_this_stack_or_a_built_in_one(dashboard, full):
    created = {f"logging.googleapis.com/user/{r.inputs['name']}" for r in full.of_type(METRIC)}
    read = set()
    for query in _queries(dashboard):
        types = _metric_types(query)
        assert types, f"a query that names no metric: {query}"
        read |= types
    assert read <= created | set(BUILT_IN), read - created - set(BUILT_IN)
    assert read & created and read & set(BUILT_IN)  # it charts both kinds


def test_promql_names_follow_the_documented_mapping():
    assert promql_name("logging.googleapis.com/user/baton_rows_loaded") == (
        "logging_googleapis_com:user_baton_rows_loaded"
    )
    assert promql_name("compute.googleapis.com/instance/cpu/utilization") == (
        "compute_googleapis_com:instance_cpu_utilization"
    )


def test_executions_are_charted_for_this_workflow_only(dashboard):
    (executions,) = [q for q in _queries(dashboard) if "finished_execution_count" in str(q)]
    assert (
        'resource.labels.workflow_id="baton-pipeline"' in executions["timeSeriesFilter"]["filter"]
    )


def test_every_log_metric_declares_step_and_dataset_labels_each_with_an_extractor(full):
    metrics = full.of_type(METRIC)
    assert {m.inputs["name"] for m in metrics} == {s.name for s in SPECS}
    for metric in metrics:
        labels = {label["key"] for label in metric.inputs["metricDescriptor"]["labels"]}
        assert {"step", "dataset"} <= labels, metric.inputs["name"]
        assert labels == set(metric.inputs["labelExtractors"]), metric.inputs["name"]


def test_distribution_metrics_extract_a_value_into_buckets_and_counters_do_not(full):
    kinds = {}
    for metric in full.of_type(METRIC):
        descriptor = metric.inputs["metricDescriptor"]
        kinds[descriptor["valueType"]] = kinds.get(descriptor["valueType"], 0) + 1
        distribution = descriptor["valueType"] == "DISTRIBUTION"
        assert ("valueExtractor" in metric.inputs) is distribution
        assert ("bucketOptions" in metric.inputs) is distribution
        assert descriptor["metricKind"] == "DELTA"
    assert kinds == {"INT64": 1, "DISTRIBUTION": 3}


@pytest.fixture(scope="module")
def summary_lines(seeded_template, tmp_path_factory) -> dict[str, dict]:
    """The summary line of each step of one real partition run, by step."""
    lake = seeded_template.copy_to(tmp_path_factory.mktemp("dashboard") / "home")
    found = {}
    for step in STEPS:
        code, lines = lake.run_logged(step, JAN_1)
        assert code == ExitCode.OK
        (found[step],) = [x for x in lines if x.get("message") == "step finished"]
    return found


def _matches(filter_: str, line: dict) -> bool:
    """The subset of the filter language the metric filters use, evaluated on one line."""
    labels = line["logging.googleapis.com/labels"]
    for field, value in re.findall(r'jsonPayload\.(\w+)="([^"]+)"', filter_):
        if str(line.get(field)) != value:
            return False
    for field, value in re.findall(r'labels\.(\w+)="([^"]+)"', filter_):
        if labels.get(field) != value:
            return False
    for field, choices in re.findall(r"jsonPayload\.(\w+)=\(([^)]+)\)", filter_):
        if line.get(field) not in re.findall(r'"([^"]+)"', choices):
            return False
    return all(line.get(f, 0) > int(n) for f, n in re.findall(r"jsonPayload\.(\w+)>(\d+)", filter_))


def test_each_metric_matches_the_summary_lines_it_is_meant_for_and_extracts_real_fields(
    summary_lines,
):
    by_name = {s.name: s for s in SPECS}
    assert all(_matches(by_name["baton_step_runs"].filter, summary_lines[s]) for s in STEPS)
    loaded = [s for s in STEPS if _matches(by_name["baton_rows_loaded"].filter, summary_lines[s])]
    assert loaded == ["load"]
    assert summary_lines["load"]["rows_out"] > 0
    for spec in SPECS:
        for line in summary_lines.values():
            if spec.value and _matches(spec.filter, line):
                assert isinstance(line[spec.value], int | float), (spec.name, spec.value)
            labels = line["logging.googleapis.com/labels"]
            for extractor in spec.labels.values():
                (source, key) = re.fullmatch(
                    r"EXTRACT\((labels|jsonPayload)\.(\w+)\)", extractor
                ).groups()
                assert key in (labels if source == "labels" else line), (spec.name, key)
