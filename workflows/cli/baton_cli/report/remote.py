"""Reads what the report of a GCP execution shows: the execution through the Workflow Executions
API (the target's `get`: state, argument, result or error, start, end), and each partition's
manifests and `_attempt.json` records from the `gs://` lake; links are `gs://` URIs shown with
Cloud Console URLs as their hrefs.

The task logs of a GCP execution live in Cloud Logging, not in files baton can read cheaply, so
the timeline is drawn from the lake's records: one bar per (date, step) for the latest attempt
this execution made (its manifest's start and end when it committed; a mark at the attempt's end
when it failed or found its inputs unchanged). Earlier attempts of a retried task are not in the
lake; the attempt number on the bar says how many there were.

The Executions API also lists step entries (`projects.locations.workflows.executions.stepEntries.list`,
https://cloud.google.com/workflows/docs/reference/executions/rest/v1/projects.locations.workflows.executions.stepEntries/list),
but the official Python client (`google-cloud-workflows` 1.24) wraps only executions
create/get/list/cancel, and the lake's records already carry each step's outcome and timing.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from urllib.parse import quote

from baton.config import Settings
from baton.errors import ConfigError
from baton.lake import STEPS
from baton.log import trace_resource
from baton.storage import open_storage
from baton_cli.report.gather import Source, assemble, started_by
from baton_cli.report.model import Attempt, RunReport
from baton_cli.status import Observation
from baton_cli.targets.protocol import Target

CONSOLE = "https://console.cloud.google.com"


def object_url(uri: str, project: str) -> str:
    """The Cloud Console page of a `gs://bucket/key` object (other URIs are returned as they
    are). Assumption: the console's object-details path `storage/browser/_details/BUCKET/KEY`
    (no page documents it as a stable URL format)."""
    if not uri.startswith("gs://"):
        return uri
    bucket, _, key = uri.removeprefix("gs://").partition("/")
    return f"{CONSOLE}/storage/browser/_details/{bucket}/{quote(key, safe='/=')}?project={quote(project)}"


def logs_url(project: str, execution_id: str, day: date, step: str) -> str:
    """Logs Explorer showing one step run's lines of one execution: the execution's trace plus
    the step and date labels every step line carries (baton.log). Assumption: the Logs Explorer
    URL form `logs/query;query=FILTER?project=P`, as Google's console writes it and the
    third-party builder github.com/vvakame/gcplogurl documents; no Google page specifies it."""
    query = (
        f'trace="{trace_resource(project, execution_id)}"\n'
        f'labels.step="{step}"\nlabels.partition_date="{day.isoformat()}"'
    )
    return f"{CONSOLE}/logs/query;query={quote(query, safe='')}?project={quote(project)}"


def lake_attempts(
    seen: Observation, day: date, execution_id: str, project: str
) -> Iterator[Attempt]:
    """The latest attempt of each step of one partition, when this execution made it."""
    for step in STEPS:
        record = seen.attempts.get(step)
        if record is None or record.execution_id != execution_id:
            continue
        end = record.finished_at.timestamp()
        start = end
        hit = seen.manifests.get(step)
        if hit is not None and hit[0].run_id == record.run_id:
            start = hit[0].started_at.timestamp()
        yield Attempt(
            day=day,
            step=step,
            job_execution=record.task_execution,
            task_index=record.task_index,
            attempt=record.task_attempt,
            start=start,
            end=end,
            outcome=record.outcome,
            exit_code=record.exit_code,
            log_uri=logs_url(project, execution_id, day, step),
        )


def build_gcp_report(
    settings: Settings, target: Target, project: str, execution_id: str
) -> RunReport:
    """The report of one GCP execution; LookupError when the API has no such execution,
    ConfigError when the lake is not a `gs://` URI."""
    if not settings.lake_root.startswith("gs://"):
        raise ConfigError(
            f"the report of a GCP execution reads the deployment's lake, but BATON_LAKE is "
            f"{settings.lake_root!r}; set BATON_LAKE=gs://BUCKET[/PREFIX] (the bucket the stack "
            "created: `pulumi stack output lake_bucket`)",
            reason="lake_not_gcs",
        )
    info = target.get(execution_id)
    source = Source(
        "gcp",
        info.where or info.name,
        started_by(info.argument, "Cloud Scheduler, the console or baton (the API does not say)"),
    )
    return assemble(
        info,
        open_storage(settings.lake_root),
        source,
        lake_attempts=lambda seen, day: lake_attempts(seen, day, info.id, project),
    )
