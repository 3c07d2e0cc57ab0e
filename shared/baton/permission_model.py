"""IAM as GCP checks it, as data: every runtime call baton makes, the permission it needs and
the resource that permission is checked on (one citation per row), and the permissions of the
predefined roles the program grants.

infra's `effective_access` evaluates these tables against the grants a run of the program
makes; `baton doctor` evaluates them against the IAM policies a deployment holds. The
tables are written from Google's documentation, not from the program: a grant that covers no
call here, or a call no grant covers, is a finding.

Resources are written as `kind:detail`, resolved against a stack by effective_access:
`project`, `job:<step>` (and `job:gc`), `object:<lake key>`, `bucket` (the lake bucket itself),
`dataset`, `secret:*` (each source secret), `topic:landing`, `workflow`.
"""

from __future__ import annotations

from dataclasses import dataclass

ROLES_READ_ON = "2026-12-01"
"""When the role pages below were read."""

GCS_OBJECTS = "https://cloud.google.com/storage/docs/access-control/iam-json"
GCS_ROLES = "https://cloud.google.com/iam/docs/roles-permissions/storage"
RUN_JOBS_RUN = "https://cloud.google.com/run/docs/reference/rest/v1/namespaces.jobs/run"
RUN_JOBS_RUN_V2 = "https://cloud.google.com/run/docs/reference/rest/v2/projects.locations.jobs/run"
RUN_ON_SCHEDULE = "https://cloud.google.com/run/docs/execute/jobs-on-schedule"
RUN_OPERATIONS = (
    "https://cloud.google.com/run/docs/reference/rest/v2/projects.locations.operations/get"
)
RUN_PERMISSIONS = "https://cloud.google.com/run/docs/reference/iam/permissions"
RUN_ROLES = "https://cloud.google.com/iam/docs/roles-permissions/run"
BQ_LOAD = (
    "https://cloud.google.com/bigquery/docs/loading-data-cloud-storage-parquet#required_permissions"
)
BQ_JOBS = "https://cloud.google.com/bigquery/docs/reference/v2/jobs/insert"
BQ_ROLES = "https://cloud.google.com/iam/docs/roles-permissions/bigquery"
SECRETS = "https://cloud.google.com/secret-manager/docs/access-control"
LOGGING = "https://cloud.google.com/iam/docs/roles-permissions/logging"
WORKFLOWS = "https://cloud.google.com/workflows/docs/schedule-workflow"
EVENTARC = "https://cloud.google.com/eventarc/docs/roles-permissions"
PUBSUB = "https://cloud.google.com/iam/docs/roles-permissions/pubsub"
CONNECTOR = "https://cloud.google.com/workflows/docs/reference/googleapis/run/v2/projects.locations.jobs/run"


@dataclass(frozen=True)
class RuntimeCall:
    """One call an identity makes at run time and what IAM checks for it."""

    who: str
    """`step:<step>`, `workflow`, `scheduler`, `trigger`, `storage-agent`, `gc` (the gc job)
    or `gc-scheduler` (what starts it)."""
    call: str
    permission: str
    on: str
    cite: str


_DAY = "flights/dt=2013-01-02"
"""A sample partition: conditions are evaluated on concrete object names under it."""


def _object_calls(step: str, reads: tuple[str, ...], writes: tuple[str, ...]) -> list[RuntimeCall]:
    who = f"step:{step}"
    calls = [
        RuntimeCall(who, f"read {key}", "storage.objects.get", f"object:{key}", GCS_OBJECTS)
        for key in reads
    ]
    for key in writes:
        calls += [
            RuntimeCall(who, f"read {key}", "storage.objects.get", f"object:{key}", GCS_OBJECTS),
            RuntimeCall(
                who, f"write {key}", "storage.objects.create", f"object:{key}", GCS_OBJECTS
            ),
            # Overwriting an object (a manifest, an attempt record) and removing superseded
            # files both need delete.
            RuntimeCall(
                who, f"replace {key}", "storage.objects.delete", f"object:{key}", GCS_OBJECTS
            ),
        ]
    return calls


def _step_calls() -> list[RuntimeCall]:
    ref = "landing/reference/airlines.csv"
    calls = _object_calls(
        "extract",
        reads=("landing/flights/2013-01-02.csv",),
        writes=(f"raw/{_DAY}/_manifest.json", f"quarantine/{_DAY}/extract-r1.parquet"),
    )
    calls += _object_calls(
        "transform",
        reads=(f"raw/{_DAY}/_manifest.json", f"raw/{_DAY}/part-r1.parquet", ref),
        writes=(f"staged/{_DAY}/_manifest.json", f"quarantine/{_DAY}/transform-r1.parquet"),
    )
    calls += _object_calls(
        "validate",
        reads=(f"staged/{_DAY}/_manifest.json", f"staged/{_DAY}/part-r1.parquet", ref),
        writes=(f"validated/{_DAY}/_manifest.json", f"quarantine/{_DAY}/validate-r1.parquet"),
    )
    # BigQuery reads the load job's source URIs as the job's caller (baton-load); the URIs
    # are listed one by one, so no storage.objects.list (wildcards need it).
    calls += _object_calls(
        "load",
        reads=(f"validated/{_DAY}/_manifest.json", f"validated/{_DAY}/part-r1.parquet"),
        writes=(
            f"loaded/{_DAY}/_manifest.json",
            f"loaded/{_DAY}/carrier_daily_performance.parquet",
        ),
    )
    # Before skipping an unchanged commit, a step reads the next step's attempt record: a
    # reader that failed on a corrupt file of this commit makes it redo the commit.
    calls += [
        RuntimeCall(
            f"step:{step}",
            f"read {zone}/.../_attempt.json (the next step's)",
            "storage.objects.get",
            f"object:{zone}/{_DAY}/_attempt.json",
            GCS_OBJECTS,
        )
        for step, zone in (
            ("extract", "staged"),
            ("transform", "validated"),
            ("validate", "loaded"),
        )
    ]
    calls += [
        RuntimeCall("step:load", "run a load job", "bigquery.jobs.create", "project", BQ_JOBS),
        *(
            RuntimeCall(
                "step:load", "load into table$YYYYMMDD (WRITE_TRUNCATE)", p, "dataset", BQ_LOAD
            )
            for p in (
                "bigquery.tables.create",
                "bigquery.tables.update",
                "bigquery.tables.updateData",
            )
        ),
        RuntimeCall(
            "step:extract",
            "read a source credential (BATON_SECRET_<ID>, latest version)",
            "secretmanager.versions.access",
            "secret:*",
            SECRETS,
        ),
    ]
    return calls


def _workflow_calls() -> list[RuntimeCall]:
    calls = []
    for step in ("extract", "transform", "validate", "load"):
        calls += [
            RuntimeCall(
                "workflow", f"jobs.run {step}", "run.jobs.run", f"job:{step}", RUN_JOBS_RUN
            ),
            RuntimeCall(
                "workflow",
                f"jobs.run {step} with overrides (args, env, taskCount, timeout)",
                "run.jobs.runWithOverrides",
                f"job:{step}",
                RUN_JOBS_RUN,
            ),
        ]
    calls += [
        RuntimeCall(
            "workflow",
            "poll the jobs.run operation projects/<p>/locations/<l>/operations/<op>",
            "run.operations.get",
            "project",
            RUN_OPERATIONS,
        ),
        RuntimeCall(
            "workflow",
            "read the operation's Execution",
            "run.executions.get",
            "project",
            RUN_PERMISSIONS,
        ),
        *(
            RuntimeCall(
                "workflow",
                f"objects.get of {zone}/.../_attempt.json",
                "storage.objects.get",
                f"object:{zone}/{_DAY}/_attempt.json",
                CONNECTOR,
            )
            for zone in ("raw", "staged", "validated", "loaded")
        ),
        RuntimeCall("workflow", "sys.log", "logging.logEntries.create", "project", LOGGING),
    ]
    return calls


def _gc_calls() -> list[RuntimeCall]:
    """The gc job (baton.garbage.sweep) lists each swept zone, reads each partition's manifests
    and attempt records, and deletes orphans; its scheduler runs the job without overrides."""
    calls = [
        RuntimeCall(
            "gc",
            "list objects under <zone>/<dataset>/",
            "storage.objects.list",
            "bucket",
            GCS_OBJECTS,
        )
    ]
    for zone in ("raw", "staged", "validated", "loaded", "quarantine"):
        key = f"{zone}/{_DAY}/part-dead-t0-a0-0000.parquet"
        calls += [
            RuntimeCall(
                "gc",
                f"read {zone}/.../_manifest.json and _attempt.json",
                "storage.objects.get",
                f"object:{zone}/{_DAY}/_manifest.json",
                GCS_OBJECTS,
            ),
            RuntimeCall(
                "gc",
                f"delete an orphan {key}",
                "storage.objects.delete",
                f"object:{key}",
                GCS_OBJECTS,
            ),
        ]
    calls.append(
        RuntimeCall(
            "gc-scheduler",
            "POST run.googleapis.com/v2/.../jobs/<gc>:run with an OAuth token",
            "run.jobs.run",
            "job:gc",
            RUN_JOBS_RUN_V2,
        )
    )
    return calls


JOB_RUNNER_ROLE = "roles/run.jobsExecutorWithOverrides"
"""What infra grants the workflow on each job. "Cloud Run Jobs Executor With Overrides: Can execute and cancel Cloud
Run jobs with overrides" (run.jobs.run, run.jobs.runWithOverrides, run.executions.cancel):
https://cloud.google.com/iam/docs/roles-permissions/run (read 2026-12-01). The workflow sends
overrides (args, env, taskCount, timeout), which need run.jobs.runWithOverrides
(https://cloud.google.com/run/docs/reference/rest/v1/namespaces.jobs/run). roles/run.developer,
which the execute-jobs page names, also updates and deletes jobs."""


RUNTIME_CALLS: tuple[RuntimeCall, ...] = (
    *_step_calls(),
    *_workflow_calls(),
    *_gc_calls(),
    RuntimeCall(
        "scheduler",
        "POST .../workflows/<w>/executions with an OAuth token",
        "workflows.executions.create",
        "workflow",
        WORKFLOWS,
    ),
    RuntimeCall(
        "trigger",
        "start an execution for a landing event",
        "workflows.executions.create",
        "workflow",
        EVENTARC,
    ),
    RuntimeCall(
        "trigger", "receive the Pub/Sub event", "eventarc.events.receiveEvent", "project", EVENTARC
    ),
    RuntimeCall(
        "storage-agent",
        "publish a bucket notification",
        "pubsub.topics.publish",
        "topic:landing",
        EVENTARC,
    ),
)
"""Every runtime call baton makes (the CLI's calls are the operator's, see docs/operating.md)."""


@dataclass(frozen=True)
class RoleDefinition:
    """A predefined role: the permissions its reference page lists."""

    permissions: frozenset[str]
    cite: str
    complete: bool
    """False: the stored copy of the page named the role but showed only part of its list;
    `permissions` holds what could be read (always the ones baton relies on)."""


def _role(cite: str, *permissions: str, complete: bool = True) -> RoleDefinition:
    return RoleDefinition(frozenset(permissions), cite, complete)


PREDEFINED_ROLES: dict[str, RoleDefinition] = {
    "roles/storage.objectViewer": _role(
        GCS_ROLES,
        "storage.objects.get",
        "storage.objects.list",
        "storage.folders.get",
        "storage.folders.list",
        "storage.managedFolders.get",
        "storage.managedFolders.list",
        "resourcemanager.projects.get",
        complete=False,
    ),
    "roles/storage.objectUser": _role(
        GCS_ROLES,
        "storage.objects.create",
        "storage.objects.delete",
        "storage.objects.get",
        "storage.objects.list",
        "storage.objects.restore",
        "storage.objects.update",
        "storage.multipartUploads.create",
        "storage.multipartUploads.abort",
        "storage.multipartUploads.list",
        "storage.multipartUploads.listParts",
        complete=False,
    ),
    "roles/bigquery.dataEditor": _role(
        BQ_ROLES,
        "bigquery.tables.create",
        "bigquery.tables.delete",
        "bigquery.tables.get",
        "bigquery.tables.getData",
        "bigquery.tables.list",
        "bigquery.tables.update",
        "bigquery.tables.updateData",
        "bigquery.datasets.get",
        complete=False,
    ),
    "roles/bigquery.jobUser": _role(
        BQ_ROLES, "bigquery.jobs.create", "resourcemanager.projects.get", complete=False
    ),
    "roles/secretmanager.secretAccessor": _role(SECRETS, "secretmanager.versions.access"),
    "roles/run.jobsExecutorWithOverrides": _role(
        RUN_ROLES, "run.executions.cancel", "run.jobs.run", "run.jobs.runWithOverrides"
    ),
    # Named by "Execute jobs on a schedule" (RUN_ON_SCHEDULE) for the identity that runs a job.
    "roles/run.invoker": _role(RUN_ROLES, "run.jobs.run", "run.routes.invoke", complete=False),
    "roles/logging.logWriter": _role(
        LOGGING, "logging.logEntries.create", "logging.logEntries.route"
    ),
    "roles/workflows.invoker": _role(
        "https://cloud.google.com/iam/docs/roles-permissions/workflows",
        "workflows.callbacks.send",
        "workflows.executions.cancel",
        "workflows.executions.create",
        "workflows.executions.get",
        "workflows.executions.list",
        "workflows.workflows.get",
        "workflows.workflows.list",
        complete=False,
    ),
    "roles/eventarc.eventReceiver": _role(
        EVENTARC, "eventarc.events.receiveAuditLogWritten", "eventarc.events.receiveEvent"
    ),
    "roles/pubsub.publisher": _role(PUBSUB, "pubsub.topics.publish"),
}
"""The predefined roles the program grants, from Google's IAM roles reference (read on
ROLES_READ_ON). The program's own custom roles are read from the program itself."""
