"""The pure parts of a GCP execution's report: the Cloud Console links it writes and the
timeline bars it reads off the lake's attempt records and manifests."""

from __future__ import annotations

from datetime import UTC, date, datetime
from urllib.parse import unquote

from baton.log import trace_id
from baton.manifest import AttemptRecord, Manifest
from baton_cli.report.remote import lake_attempts, logs_url, object_url
from baton_cli.status import Observation

DAY = date(2013, 1, 5)
EXECUTION = "3f1c9a2e-0b7d-4c1e-9a55-8d2f6b1e0c47"
T0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def test_a_gs_object_links_to_its_console_page_and_other_links_stay_as_they_are():
    assert object_url("gs://acme-lake/p/raw/flights/dt=2013-01-05/_manifest.json", "acme") == (
        "https://console.cloud.google.com/storage/browser/_details/acme-lake/"
        "p/raw/flights/dt=2013-01-05/_manifest.json?project=acme"
    )
    assert object_url("https://example.test/x", "acme") == "https://example.test/x"


def test_a_step_runs_log_link_filters_on_the_executions_trace_and_the_step_and_date():
    url = logs_url("acme", EXECUTION, DAY, "validate")
    assert url.startswith("https://console.cloud.google.com/logs/query;query=")
    assert url.endswith("?project=acme")
    query = unquote(url.split("query=", 1)[1].split("?", 1)[0])
    assert query.splitlines() == [
        f'trace="projects/acme/traces/{trace_id(EXECUTION)}"',
        'labels.step="validate"',
        'labels.partition_date="2013-01-05"',
    ]


def record(step: str, outcome: str, execution: str = EXECUTION, run: str = "r1") -> AttemptRecord:
    return AttemptRecord(
        dataset="flights",
        step=step,
        partition=DAY,
        outcome=outcome,
        exit_code=0 if outcome != "failed" else 4,
        execution_id=execution,
        run_id=run,
        task_execution=f"baton-{step}-x1",
        task_index=2,
        task_attempt=1,
        finished_at=T0,
    )


def manifest(step: str, run: str) -> Manifest:
    return Manifest(
        dataset="flights",
        step=step,
        partition=DAY,
        files=(),
        rows_in=1,
        rows_out=1,
        rows_quarantined=0,
        inputs=(),
        code_version="v",
        execution_id=EXECUTION,
        run_id=run,
        started_at=datetime(2026, 12, 1, 9, 59, 30, tzinfo=UTC),
        finished_at=T0,
        duration_s=30.0,
    )


def seen(attempts: dict, manifests: dict) -> Observation:
    return Observation({k: (m, "sha256:x") for k, m in manifests.items()}, attempts, {}, {}, {})


def test_a_committed_attempt_spans_its_manifests_start_to_its_end():
    (bar,) = lake_attempts(
        seen({"extract": record("extract", "committed")}, {"extract": manifest("extract", "r1")}),
        DAY,
        EXECUTION,
        "acme",
    )
    assert (bar.outcome, bar.duration_s) == ("committed", 30.0)
    assert (bar.job_execution, bar.task_index, bar.attempt) == ("baton-extract-x1", 2, 1)


def test_a_failed_attempt_is_a_mark_at_its_end_even_beside_an_older_commit():
    (bar,) = lake_attempts(
        seen({"load": record("load", "failed", run="r2")}, {"load": manifest("load", "r1")}),
        DAY,
        EXECUTION,
        "acme",
    )
    assert (bar.outcome, bar.exit_code, bar.duration_s) == ("failed", 4, 0.0)
    assert bar.end == T0.timestamp()


def test_attempts_another_execution_made_are_not_this_executions_bars():
    other = record("extract", "committed", execution="someone-else")
    assert list(lake_attempts(seen({"extract": other}, {}), DAY, EXECUTION, "acme")) == []
