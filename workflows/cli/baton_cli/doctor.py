"""`baton doctor`'s checks: what a deployment must look like, and the verdict on what was read.

Pure: the readers (`doctor_gcp`, `doctor_local`) fetch resources as the REST APIs' JSON
(proto3 JSON, camelCase) or say why they could not (`Unread`); the functions here compare them
with what `pulumi up` deploys and return one `Check` per fact, each with the fix.

Names follow infra/baton_infra/stack.py (the CLI may not import infra): with stack name N
(`baton:name`, the job prefix without its `-`), jobs are `N-<step>` run by service account
`N-<step>@<project>.iam.gserviceaccount.com`, the workflow `N-pipeline` is run by
`N-workflow@...`, the scheduler job `N-daily` by `N-scheduler@...`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from baton.apis import BASE_APIS, EXECUTIONS_API
from baton.jobs import Job
from baton_cli.exit_codes import OperatorExit

REQUIRED_APIS = BASE_APIS
PUBLIC_MEMBERS = ("allUsers", "allAuthenticatedUsers")


@dataclass(frozen=True)
class Unread:
    """A resource that could not be read: `status` is the canonical code (NOT_FOUND,
    PERMISSION_DENIED, UNAVAILABLE, ...) and `message` the API's words."""

    status: str
    message: str


Read = Mapping[str, Any] | Unread


@dataclass(frozen=True)
class Check:
    """One verdict: what was checked, whether it holds, what was seen, and the fix."""

    name: str
    ok: bool
    detail: str
    fix: str = ""
    status: str = ""  # for a failure: the Unread status that caused it, if any


def passed(name: str, detail: str) -> Check:
    """A check that holds."""
    return Check(name, True, detail)


def failed(name: str, detail: str, fix: str, status: str = "") -> Check:
    """A check that does not hold."""
    return Check(name, False, detail, fix, status)


@dataclass(frozen=True)
class Expected:
    """The deployment `pulumi up` makes for one stack."""

    project: str
    region: str
    name: str
    workflow: str
    source: str
    jobs: tuple[Job, ...]
    images: Mapping[str, str] | None = None
    """step -> the exact image reference (`pulumi stack output images --json`); None checks
    only that each job runs a `baton-<step>` image."""

    @property
    def parent(self) -> str:
        """`projects/{project}/locations/{region}`."""
        return f"projects/{self.project}/locations/{self.region}"

    @property
    def workflow_name(self) -> str:
        """The workflow's full resource name."""
        return f"{self.parent}/workflows/{self.workflow}"

    def job_name(self, step: str) -> str:
        """A step job's full resource name."""
        return f"{self.parent}/jobs/{self.name}-{step}"

    def account(self, account_id: str) -> str:
        """A service account e-mail in the project."""
        return f"{account_id}@{self.project}.iam.gserviceaccount.com"

    @property
    def scheduler_name(self) -> str:
        """The scheduler job's full resource name."""
        return f"{self.parent}/jobs/{self.name}-daily"


def sha256(text: str) -> str:
    """The hex sha256 of a workflow source (UTF-8)."""
    return hashlib.sha256(text.encode()).hexdigest()


READ_PERMISSIONS = {
    # The permission each read needs, as the methods' REST references name it ("Authorization
    # requires the following IAM permission on the specified resource").
    "api": "serviceusage.services.get",
    "workflow": "workflows.workflows.get",
    "job": "run.jobs.get",
    "scheduler": "cloudscheduler.jobs.get",
    "bucket": "storage.buckets.get",
    "dataset": "bigquery.datasets.get",
}


def _unread(name: str, read: Unread, what: str, fix: str) -> Check:
    if read.status == "NOT_FOUND":
        return failed(name, f"{what} does not exist ({read.message})", fix, read.status)
    if read.status in ("PERMISSION_DENIED", "UNAUTHENTICATED"):
        permission = READ_PERMISSIONS[name.split(" ", 1)[0]]
        return failed(
            name,
            f"cannot read {what}: permission denied ({read.message})",
            f"run doctor as an identity holding {permission} (the deployer does)",
            read.status,
        )
    return failed(
        name, f"cannot read {what}: {read.status} ({read.message})", "try again", read.status
    )


# -- APIs


def check_apis(
    services: Mapping[str, Read], required: Iterable[str] = REQUIRED_APIS
) -> list[Check]:
    """One check per required API: `services` maps each to its services.get answer."""
    checks = []
    for api in required:
        name = f"api {api}"
        read = services.get(api, Unread("NOT_FOUND", "not read"))
        fix = f"gcloud services enable {api} (or `pulumi up`, which enables it)"
        if isinstance(read, Unread):
            checks.append(_unread(name, read, f"service {api}", fix))
        elif read.get("state") == "ENABLED":
            checks.append(passed(name, "enabled"))
        else:
            checks.append(failed(name, f"state {read.get('state', 'unknown')}", fix))
    return checks


# -- the workflow


def check_workflow(expected: Expected, read: Read) -> list[Check]:
    """The workflow exists, is ACTIVE, runs as its identity, and its source is the repo's."""
    name = f"workflow {expected.workflow}"
    if isinstance(read, Unread):
        return [_unread(name, read, expected.workflow_name, "pulumi up")]
    checks = []
    state = read.get("state", "STATE_UNSPECIFIED")
    checks.append(
        passed(f"{name} state", state)
        if state == "ACTIVE"
        else failed(f"{name} state", state, "pulumi up; if it stays, see the workflow's stateError")
    )
    want, got = sha256(expected.source), sha256(read.get("sourceContents", ""))
    checks.append(
        passed(f"{name} source", f"sha256 {got[:12]} = workflows/pipeline.workflows.yaml")
        if got == want
        else failed(
            f"{name} source",
            f"sha256 {got[:12]} differs from workflows/pipeline.workflows.yaml ({want[:12]})",
            "pulumi up from this commit deploys the repository's YAML",
        )
    )
    account = expected.account(f"{expected.name}-workflow")
    seen = str(read.get("serviceAccount", "")).rsplit("/", 1)[-1]
    checks.append(
        passed(f"{name} identity", seen)
        if seen == account
        else failed(
            f"{name} identity",
            f"runs as {seen or 'the default compute account'}, not {account}",
            "pulumi up",
        )
    )
    env = read.get("userEnvVars") or {}
    prefix = env.get("BATON_JOB_PREFIX", "")
    checks.append(
        passed(f"{name} job prefix", f"BATON_JOB_PREFIX={prefix}")
        if prefix == f"{expected.name}-"
        else failed(
            f"{name} job prefix",
            f"BATON_JOB_PREFIX={prefix!r}, the jobs are named {expected.name}-<step>",
            "pulumi up, or pass --job-prefix / BATON_JOB_PREFIX for the stack you mean",
        )
    )
    return checks


def workflow_env(read: Read) -> Mapping[str, str]:
    """The deployed workflow's user environment variables ({} when it was not read)."""
    return {} if isinstance(read, Unread) else dict(read.get("userEnvVars") or {})


# -- the jobs


def _image_problem(expected: Expected, step: str, image: str) -> str:
    if expected.images is not None:
        want = expected.images.get(step, "")
        return "" if image == want else f"runs {image or 'no image'}, expected {want}"
    path = image.split("@", 1)[0].rsplit(":", 1)[0] if "/" in image else image
    if path.rsplit("/", 1)[-1] != f"baton-{step}":
        return f"runs {image or 'no image'}, not a baton-{step} image"
    if "@" not in image and ":" not in image.rsplit("/", 1)[-1]:
        return f"runs {image} with neither tag nor digest"
    return ""


def check_job(expected: Expected, job: Job, read: Read) -> list[Check]:
    """One job: exists, image, identity, CPU/memory, timeout and retries as jobs.toml says."""
    name = f"job {expected.name}-{job.name}"
    if isinstance(read, Unread):
        return [_unread(name, read, expected.job_name(job.name), "pulumi up")]
    task = (read.get("template") or {}).get("template") or {}
    containers = task.get("containers") or [{}]
    limits = (containers[0].get("resources") or {}).get("limits") or {}
    image = str(containers[0].get("image", ""))
    problems = []
    if problem := _image_problem(expected, job.name, image):
        problems.append(problem)
    account = expected.account(f"{expected.name}-{job.name}")
    if task.get("serviceAccount") != account:
        problems.append(
            f"runs as {task.get('serviceAccount') or 'the default account'}, not {account}"
        )
    if (limits.get("cpu"), limits.get("memory")) != (job.cpu, job.memory):
        problems.append(
            f"cpu/memory {limits.get('cpu')}/{limits.get('memory')}, jobs.toml says {job.cpu}/{job.memory}"
        )
    if task.get("timeout") != f"{job.timeout_s}s":
        problems.append(f"timeout {task.get('timeout')}, jobs.toml says {job.timeout_s}s")
    if int(task.get("maxRetries", 0)) != job.max_retries:
        problems.append(
            f"max retries {task.get('maxRetries', 0)}, jobs.toml says {job.max_retries}"
        )
    if problems:
        return [
            failed(
                name,
                "; ".join(problems),
                "pulumi up (with baton:images set to the images you built)",
            )
        ]
    return [
        passed(
            name,
            f"{image}, {job.cpu} CPU / {job.memory}, {job.timeout_s}s, {job.max_retries} retries",
        )
    ]


# -- the schedule


def check_scheduler(expected: Expected, read: Read) -> list[Check]:
    """The scheduler job POSTs executions.create of the workflow with an OAuth token."""
    name = f"scheduler {expected.name}-daily"
    if isinstance(read, Unread):
        return [_unread(name, read, expected.scheduler_name, "pulumi up")]
    target = read.get("httpTarget") or {}
    want_uri = f"{EXECUTIONS_API}/{expected.workflow_name}/executions"
    token = target.get("oauthToken") or {}
    account = expected.account(f"{expected.name}-scheduler")
    problems = []
    if target.get("uri") != want_uri or target.get("httpMethod", "POST") != "POST":
        problems.append(
            f"{target.get('httpMethod', '?')} {target.get('uri')}, expected POST {want_uri}"
        )
    if not token:
        problems.append(
            "sends no OAuth token (googleapis.com needs OAuth, not OIDC: https://cloud.google.com/workflows/docs/schedule-workflow)"
        )
    elif token.get("serviceAccountEmail") != account:
        problems.append(f"token of {token.get('serviceAccountEmail')}, expected {account}")
    if problems:
        return [failed(name, "; ".join(problems), "pulumi up")]
    state = read.get("state", "STATE_UNSPECIFIED")
    if state not in ("ENABLED", "PAUSED"):
        return [failed(name, f"state {state}", "gcloud scheduler jobs resume, or pulumi up")]
    note = " (baton:schedulePaused)" if state == "PAUSED" else ""
    return [passed(name, f"POST {want_uri} as {account}, {state.lower()}{note}")]


# -- the lake and the warehouse


def check_bucket(bucket: str, read: Read) -> list[Check]:
    """The lake bucket exists with uniform access, public access prevention and versioning."""
    name = f"bucket {bucket}"
    if isinstance(read, Unread):
        return [_unread(name, read, f"gs://{bucket}", "pulumi up (or set baton:lakeBucket)")]
    iam = read.get("iamConfiguration") or {}
    problems = []
    if not (iam.get("uniformBucketLevelAccess") or {}).get("enabled"):
        problems.append("uniform bucket-level access is off")
    if iam.get("publicAccessPrevention") != "enforced":
        problems.append(f"public access prevention is {iam.get('publicAccessPrevention', 'unset')}")
    if not (read.get("versioning") or {}).get("enabled"):
        problems.append("versioning is off (a bad commit could not be recovered)")
    if problems:
        return [failed(name, "; ".join(problems), "pulumi up restores the lake's hardening")]
    return [passed(name, "uniform access, public access prevention enforced, versioned")]


def check_dataset(project: str, dataset: str, read: Read) -> list[Check]:
    """The warehouse dataset exists and grants nothing to the public."""
    name = f"dataset {project}:{dataset}"
    if isinstance(read, Unread):
        return [
            _unread(
                name,
                read,
                f"BigQuery dataset {project}:{dataset}",
                "pulumi up (or set BATON_BQ_DATASET)",
            )
        ]
    public = [
        entry
        for entry in read.get("access") or []
        if entry.get("specialGroup") == "allAuthenticatedUsers"
        or entry.get("iamMember") in PUBLIC_MEMBERS
    ]
    if public:
        return [
            failed(
                name,
                f"grants {len(public)} access entr(ies) to the public",
                "remove them; pulumi up",
            )
        ]
    return [passed(name, f"exists in {read.get('location', '?')}, no public access")]


# -- the verdict


def exit_code(checks: Iterable[Check]) -> OperatorExit:
    """OK when every check holds; PERMISSION when a read was refused, UNAVAILABLE when an API
    could not be reached (both before any mismatch: the picture is incomplete); else
    EXECUTION_FAILED (the deployment differs from what `pulumi up` makes)."""
    failures = [c for c in checks if not c.ok]
    if not failures:
        return OperatorExit.OK
    statuses = {c.status for c in failures}
    if "PERMISSION_DENIED" in statuses or "UNAUTHENTICATED" in statuses:
        return OperatorExit.PERMISSION
    if statuses & {"UNAVAILABLE", "DEADLINE_EXCEEDED", "RESOURCE_EXHAUSTED"}:
        return OperatorExit.UNAVAILABLE
    return OperatorExit.EXECUTION_FAILED
