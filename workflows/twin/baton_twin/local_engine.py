"""The local twin: an Engine wired to local Cloud Run jobs and the local lake, from Settings.

Workflow user environment variables (Pulumi sets them on the deployed workflow) come from the
process environment, with local defaults: BATON_JOB_PREFIX (`baton.jobs.JOB_PREFIX`), BATON_DATASET
(`baton.datasets.DEFAULT_DATASET`), and BATON_LAKE_BUCKET / BATON_LAKE_PREFIX (taken from BATON_LAKE when it is a
gs:// URI, else the stand-in bucket "baton-local-lake" mapped onto the local lake directory).

With BATON_TWIN_IAM=enforce the twin enforces the deployed IAM policy (BATON_TWIN_POLICY, default
$BATON_HOME/policy.json: the file `python -m baton_infra.policy` exports): the connectors and sys.log check the workflow's
calls, and every step process it starts checks its own (baton.policed_storage).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from baton.config import Settings
from baton.datasets import DEFAULT_DATASET
from baton.iam import PermissionDenied, Policy, enforced_policy
from baton.jobs import JOB_PREFIX
from baton.pipeline import pipeline_file
from baton.storage import open_storage
from baton_engine import Clock, Engine, ExecutionStore
from baton_twin.connector_names import GET_OBJECT, RUN_JOB
from baton_twin.connectors import (
    WORKFLOW,
    GetObjectConnector,
    RunJobConnector,
    refused,
)
from baton_twin.jobrunner import LocalJobRunner, baton_jobs

LOCAL_BUCKET = "baton-local-lake"
PIPELINE = pipeline_file()


def lake_location(settings: Settings, environ: Mapping[str, str]) -> tuple[str, str]:
    """The (bucket, prefix) the workflow sees for the lake."""
    root = settings.lake_root
    if root.startswith("gs://"):
        bucket, _, prefix = root.removeprefix("gs://").partition("/")
        return bucket, prefix.strip("/")
    return environ.get("BATON_LAKE_BUCKET", LOCAL_BUCKET), environ.get("BATON_LAKE_PREFIX", "")


def user_env(settings: Settings, environ: Mapping[str, str]) -> dict[str, str]:
    """The workflow's user environment variables, as Pulumi would deploy them."""
    bucket, prefix = lake_location(settings, environ)
    return {
        "BATON_JOB_PREFIX": environ.get("BATON_JOB_PREFIX", JOB_PREFIX),
        "BATON_LAKE_BUCKET": bucket,
        "BATON_LAKE_PREFIX": prefix,
        "BATON_DATASET": environ.get("BATON_DATASET", DEFAULT_DATASET),
    }


def twin_policy(settings: Settings) -> Policy | None:
    """The IAM policy the twin enforces (None: BATON_TWIN_IAM=off); ConfigError when enforce
    has no readable policy."""
    return enforced_policy(settings.twin_iam, settings.twin_policy_file)


def enforcing_env(policy: Policy | None, settings: Settings) -> dict[str, str]:
    """What a job's tasks need in their environment to enforce the policy themselves."""
    if policy is None:
        return {}
    return {
        "BATON_TWIN_IAM": "enforce",
        "BATON_TWIN_POLICY": str(settings.twin_policy_file.resolve()),
    }


def policed_log_sink(
    policy: Policy | None, inner: Callable[[dict[str, Any]], None] | None
) -> Callable[[dict[str, Any]], None] | None:
    """A sys.log sink that refuses (HTTP 403) when the workflow may not write log entries
    (logging.logEntries.create on the project). Whether Workflows fails the step or drops
    the entry then is not documented: the twin fails it, the stricter answer."""
    if policy is None:
        return inner

    def sink(entry: dict[str, Any]) -> None:
        try:
            policy.check(
                WORKFLOW, "logging.logEntries.create", policy.deployment.resource("project")
            )
        except PermissionDenied as err:
            raise refused(err) from None
        if inner is not None:
            inner(entry)

    return sink


def local_engine(
    settings: Settings,
    environ: Mapping[str, str],
    *,
    fast_retries: bool = False,
    clock: Clock | None = None,
    runner: LocalJobRunner | None = None,
    log_sink: Callable[[dict[str, Any]], None] | None = None,
) -> Engine:
    """An Engine recording under `$BATON_HOME/executions`, running jobs as local processes."""
    env = user_env(settings, environ)
    project = environ.get("GOOGLE_CLOUD_PROJECT", "baton-local")
    location = environ.get("GOOGLE_CLOUD_LOCATION", "local")
    policy = twin_policy(settings)
    runner = runner or LocalJobRunner(baton_jobs(), base_env=dict(environ))
    runner.base_env.update(enforcing_env(policy, settings))
    bucket, prefix = env["BATON_LAKE_BUCKET"], env["BATON_LAKE_PREFIX"]
    connectors = {
        RUN_JOB: RunJobConnector(
            runner,
            project=project,
            location=location,
            job_prefix=env["BATON_JOB_PREFIX"],
            policy=policy,
        ),
        GET_OBJECT: GetObjectConnector(
            lambda: open_storage(settings.lake_root), bucket=bucket, prefix=prefix, policy=policy
        ),
    }
    # settings.home is absolute (Settings resolves it): job logs are reported as file:// URIs
    # (logUri), which a relative path cannot express.
    return Engine(
        ExecutionStore(settings.home / "executions"),
        connectors=connectors,
        user_env=env,
        clock=clock,
        retry_delay_scale=0.0 if fast_retries else 1.0,
        project_id=project,
        location=location,
        log_sink=policed_log_sink(policy, log_sink),
    )
