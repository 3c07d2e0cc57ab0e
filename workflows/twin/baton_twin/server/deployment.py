"""The deployment `baton serve` stands for, as the read APIs `baton doctor` uses describe it:
the enabled services, the four Cloud Run jobs, the scheduler job, the lake bucket and the
BigQuery dataset that `pulumi up` with the default stack config (`baton:name` = the job prefix
without its `-`) creates in the served project.

Shapes follow the REST references (proto3 JSON, camelCase):
- Service Usage `services.get`: https://cloud.google.com/service-usage/docs/reference/rest/v1/services/get
- Cloud Run Admin API v2 `jobs.get` (a `run_v2.Job`): https://cloud.google.com/run/docs/reference/rest/v2/projects.locations.jobs/get
- Cloud Scheduler `jobs.get`: https://cloud.google.com/scheduler/docs/reference/rest/v1/projects.locations.jobs
- Cloud Storage `buckets.get`: https://cloud.google.com/storage/docs/json_api/v1/buckets/get
- BigQuery `datasets.get`: https://cloud.google.com/bigquery/docs/reference/rest/v2/datasets/get
- the IAM policies (deployed_iam.py): project, each job, the bucket, the dataset's access entries
  and the custom polling role

The twin never fires the schedule, so its scheduler job is reported PAUSED.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from google.cloud import run_v2
from google.protobuf import json_format

from baton.apis import BASE_APIS, EXECUTIONS_API
from baton.jobs import Job, load_jobs
from baton_twin.server.api_error import ApiError
from baton_twin.server.deployed_iam import DeployedIam, deployed_iam

TWIN_IMAGE_TAG = "twin"
CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"
ENABLED_APIS = BASE_APIS  # the services baton's stack enables


def _account(project: str, account_id: str) -> str:
    return f"{account_id}@{project}.iam.gserviceaccount.com"


@dataclass
class TwinDeployment:
    """What doctor reads about the served stack; tests may edit it to model a drifted one."""

    project: str
    region: str
    job_prefix: str
    workflow: str
    lake_bucket: str
    bq_dataset: str
    bq_location: str = "US"
    lake_prefix: str = ""
    enabled_apis: set[str] = field(default_factory=lambda: set(ENABLED_APIS))
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    iam: DeployedIam | None = None

    def __post_init__(self) -> None:
        if not self.jobs:
            self.jobs = {job.name: self._job(job) for job in load_jobs()}
        if self.iam is None:
            self.iam = deployed_iam(
                self.project, self.name, self.lake_bucket, self.lake_prefix, tuple(self.jobs)
            )

    @property
    def name(self) -> str:
        """The stack name (`baton:name`): the job prefix without its trailing `-`."""
        return self.job_prefix.rstrip("-")

    @property
    def parent(self) -> str:
        """`projects/{project}/locations/{region}`."""
        return f"projects/{self.project}/locations/{self.region}"

    def _job(self, job: Job) -> dict[str, Any]:
        image = (
            f"{self.region}-docker.pkg.dev/{self.project}/baton/baton-{job.name}:{TWIN_IMAGE_TAG}"
        )
        return {
            "name": f"{self.parent}/jobs/{self.job_prefix}{job.name}",
            "labels": {"baton-step": job.name},
            "template": {
                "taskCount": 1,
                "template": {
                    "serviceAccount": _account(self.project, f"{self.job_prefix}{job.name}"),
                    "maxRetries": job.max_retries,
                    "timeout": f"{job.timeout_s}s",
                    "containers": [
                        {
                            "image": image,
                            "command": list(job.command),
                            "resources": {"limits": {"cpu": job.cpu, "memory": job.memory}},
                        }
                    ],
                },
            },
        }

    # -- the read APIs

    def service(self, project: str, service: str) -> dict[str, Any]:
        """services.get: ENABLED or DISABLED (every service exists)."""
        self._check_project(project)
        state = "ENABLED" if service in self.enabled_apis else "DISABLED"
        return {
            "name": f"projects/{project}/services/{service}",
            "config": {"name": service},
            "state": state,
            "parent": f"projects/{project}",
        }

    def job(self, name: str) -> run_v2.Job:
        """jobs.get, as the library's message (so the JSON is valid for the strict parser)."""
        for resource in self.jobs.values():
            if resource["name"] == name:
                message = run_v2.Job.pb(run_v2.Job())
                json_format.ParseDict(resource, message)
                return run_v2.Job.wrap(message)
        raise ApiError("NOT_FOUND", f"Resource '{name}' was not found")

    def scheduler_job(self, name: str) -> dict[str, Any]:
        """Cloud Scheduler jobs.get of the stack's `<name>-daily` job."""
        expected = f"{self.parent}/jobs/{self.name}-daily"
        if name != expected:
            raise ApiError("NOT_FOUND", f"Resource '{name}' was not found")
        workflow = f"{self.parent}/workflows/{self.workflow}"
        return {
            "name": expected,
            "schedule": "0 3 * * *",
            "timeZone": "Etc/UTC",
            "state": "PAUSED",
            "attemptDeadline": "60s",
            "httpTarget": {
                "uri": f"{EXECUTIONS_API}/{workflow}/executions",
                "httpMethod": "POST",
                "headers": {"Content-Type": "application/json"},
                "oauthToken": {
                    "serviceAccountEmail": _account(self.project, f"{self.name}-scheduler"),
                    "scope": CLOUD_PLATFORM_SCOPE,
                },
            },
        }

    def bucket(self, bucket: str) -> dict[str, Any]:
        """Storage buckets.get of the lake bucket, hardened as infra/baton_infra/lake.py sets it."""
        if bucket != self.lake_bucket:
            raise ApiError("NOT_FOUND", "The specified bucket does not exist.")
        return {
            "kind": "storage#bucket",
            "name": bucket,
            "location": self.region.upper(),
            "iamConfiguration": {
                "uniformBucketLevelAccess": {"enabled": True},
                "publicAccessPrevention": "enforced",
            },
            "versioning": {"enabled": True},
        }

    def dataset(self, project: str, dataset: str) -> dict[str, Any]:
        """BigQuery datasets.get of the warehouse dataset."""
        if project != self.project or dataset != self.bq_dataset:
            raise ApiError("NOT_FOUND", f"Not found: Dataset {project}:{dataset}")
        return {
            "kind": "bigquery#dataset",
            "id": f"{project}:{dataset}",
            "datasetReference": {"projectId": project, "datasetId": dataset},
            "location": self.bq_location,
            "access": [
                {"role": "OWNER", "specialGroup": "projectOwners"},
                *self.policies.dataset_access(),
            ],
        }

    @property
    def policies(self) -> DeployedIam:
        """The served IAM (set in __post_init__)."""
        assert self.iam is not None
        return self.iam

    def job_policy(self, name: str, requested_version: int) -> dict[str, Any]:
        """Cloud Run jobs.getIamPolicy of one of the stack's jobs."""
        step = next((s for s, job in self.jobs.items() if job["name"] == name), None)
        if step is None:
            raise ApiError("NOT_FOUND", f"Resource '{name}' was not found")
        return self.policies.resource_policy(f"job {step}", requested_version)

    def bucket_policy(self, bucket: str, requested_version: int) -> dict[str, Any]:
        """Storage buckets.getIamPolicy of the lake bucket."""
        if bucket != self.lake_bucket:
            raise ApiError("NOT_FOUND", "The specified bucket does not exist.")
        return {
            "kind": "storage#policy",
            "resourceId": f"projects/_/buckets/{bucket}",
            **self.policies.resource_policy("bucket", requested_version),
        }

    def _check_project(self, project: str) -> None:
        if project != self.project:
            raise ApiError("NOT_FOUND", f"Project '{project}' was not found")


def twin_deployment(
    project: str, region: str, workflow: str, user_env: Mapping[str, str], bq_dataset: str
) -> TwinDeployment:
    """The served deployment, named from the workflow's user environment (as Pulumi sets it)."""
    return TwinDeployment(
        project=project,
        region=region,
        job_prefix=user_env.get("BATON_JOB_PREFIX", "baton-"),
        workflow=workflow,
        lake_bucket=user_env.get("BATON_LAKE_BUCKET", ""),
        lake_prefix=user_env.get("BATON_LAKE_PREFIX", ""),
        bq_dataset=bq_dataset,
    )
