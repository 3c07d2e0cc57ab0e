"""Reads a GCP deployment for `baton doctor --target gcp`: each resource as its REST API's JSON,
or an `Unread` saying why not. Never raises for an API answer; only missing credentials are a
ConfigError.

The Workflows API and the Cloud Run Admin API go through Google's clients
(`workflows_v1.WorkflowsClient`, `run_v2.JobsClient`, REST transport); Service Usage, Cloud
Scheduler, Cloud Storage and BigQuery metadata are single GETs on their documented REST paths
with an authorized session (google-auth), which spares four client libraries:
- GET https://serviceusage.googleapis.com/v1/projects/{p}/services/{api}
  https://cloud.google.com/service-usage/docs/reference/rest/v1/services/get
- GET https://cloudscheduler.googleapis.com/v1/{name}
  https://cloud.google.com/scheduler/docs/reference/rest/v1/projects.locations.jobs/get
- GET https://storage.googleapis.com/storage/v1/b/{bucket}
  https://cloud.google.com/storage/docs/json_api/v1/buckets/get
- GET https://bigquery.googleapis.com/bigquery/v2/projects/{p}/datasets/{d}
  https://cloud.google.com/bigquery/docs/reference/rest/v2/datasets/get
The IAM reads of the identity checks (doctor_iam.py), all asking for policy version 3 so
conditional bindings come back ("Requests for policies with any conditional role bindings must
specify version 3"):
- POST https://cloudresourcemanager.googleapis.com/v3/projects/{p}:getIamPolicy
  https://cloud.google.com/resource-manager/reference/rest/v3/projects/getIamPolicy
- JobsClient.get_iam_policy (GET /v2/{job}:getIamPolicy)
  https://cloud.google.com/run/docs/reference/rest/v2/projects.locations.jobs/getIamPolicy
- google-cloud-storage `Bucket.get_iam_policy(requested_policy_version=3)` (GET
  /storage/v1/b/{bucket}/iam?optionsRequestedPolicyVersion=3)
  https://cloud.google.com/storage/docs/json_api/v1/buckets/getIamPolicy
- GET https://secretmanager.googleapis.com/v1/projects/{p}/secrets/{s}:getIamPolicy
  https://cloud.google.com/secret-manager/docs/reference/rest/v1/projects.secrets/getIamPolicy
- GET https://iam.googleapis.com/v1/{custom role name} (its includedPermissions)
  https://cloud.google.com/iam/docs/reference/rest/v1/projects.roles/get
With an endpoint on loopback (`BATON_RUN_ENDPOINT` pointing at `baton serve`), every REST call
goes to that root, anonymously.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from baton.config import Settings
from baton.errors import ConfigError
from baton_cli.doctor import (
    REQUIRED_APIS,
    Check,
    Expected,
    Read,
    Unread,
    check_apis,
    check_bucket,
    check_dataset,
    check_job,
    check_scheduler,
    check_workflow,
    failed,
    workflow_env,
)
from baton_cli.doctor_iam import Policies, all_bindings, custom_roles, identity_checks
from baton_cli.targets.config import OpsConfig
from baton_cli.targets.gcp import is_loopback

SCOPE = "https://www.googleapis.com/auth/cloud-platform"
HOSTS = {
    "serviceusage": "https://serviceusage.googleapis.com",
    "cloudscheduler": "https://cloudscheduler.googleapis.com",
    "storage": "https://storage.googleapis.com",
    "bigquery": "https://bigquery.googleapis.com",
    "resourcemanager": "https://cloudresourcemanager.googleapis.com",
    "secretmanager": "https://secretmanager.googleapis.com",
    "iam": "https://iam.googleapis.com",
}
HTTP_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
}
TIMEOUT_S = 30.0
POLICY_VERSION = 3


def _api_status(err: Any) -> Unread:
    from google.api_core import exceptions as gexc

    if isinstance(err, gexc.GoogleAPICallError):
        code = err.grpc_status_code.name if err.grpc_status_code is not None else ""
        return Unread(
            code or HTTP_STATUS.get(err.code or 0, "UNAVAILABLE"), err.message or str(err)
        )
    return Unread("UNAVAILABLE", str(err))


class GcpReader:
    """Fetches what doctor checks from one project; clients are made on first use."""

    def __init__(self, config: OpsConfig) -> None:
        self.config = config
        self.loopback = is_loopback(config.run_endpoint)
        self._session: Any = None
        self._workflows: Any = None
        self._jobs: Any = None
        self._storage: Any = None

    def _credentials(self) -> Any:
        from google.auth import default
        from google.auth import exceptions as auth_exc
        from google.auth.credentials import AnonymousCredentials

        if self.loopback:
            return AnonymousCredentials()
        try:
            credentials, _ = default(scopes=[SCOPE])
        except auth_exc.DefaultCredentialsError as err:
            raise ConfigError(
                "no Google credentials found; run `gcloud auth application-default login` or "
                "set GOOGLE_APPLICATION_CREDENTIALS",
                reason="no_credentials",
            ) from err
        return credentials

    def _root(self, api: str) -> str:
        return (self.config.run_endpoint or "").rstrip("/") if self.loopback else HOSTS[api]

    @property
    def session(self) -> Any:
        """An HTTP session authorized for the cloud-platform scope (plain on loopback)."""
        if self._session is None:
            import requests
            from google.auth.transport.requests import AuthorizedSession

            self._session = (
                requests.Session() if self.loopback else AuthorizedSession(self._credentials())
            )
        return self._session

    def _client_options(self) -> dict[str, str] | None:
        return {"api_endpoint": self.config.run_endpoint} if self.config.run_endpoint else None

    def get_json(self, api: str, path: str, body: Mapping[str, Any] | None = None) -> Read:
        """GET {root of api}{path} (POST `body` when given): the JSON body, or Unread with the
        API's status."""
        import requests

        url = self._root(api) + path
        try:
            answer = (
                self.session.get(url, timeout=TIMEOUT_S)
                if body is None
                else self.session.post(url, json=body, timeout=TIMEOUT_S)
            )
        except requests.RequestException as err:
            return Unread("UNAVAILABLE", f"{api}: {err}")
        try:
            body = answer.json()
        except ValueError:
            body = {}
        if answer.status_code == 200 and isinstance(body, dict):
            return body
        error = body.get("error", {}) if isinstance(body, dict) else {}
        status = (error.get("status") if isinstance(error, dict) else None) or HTTP_STATUS.get(
            answer.status_code, "UNAVAILABLE"
        )
        message = error.get("message", answer.reason) if isinstance(error, dict) else answer.reason
        return Unread(str(status), str(message))

    # -- what doctor reads

    def services(self, project: str, apis: Iterable[str]) -> dict[str, Read]:
        """services.get of each API (the project id form of the name: see docs/deploying.md)."""
        return {
            api: self.get_json("serviceusage", f"/v1/projects/{project}/services/{api}")
            for api in apis
        }

    def workflow(self, name: str) -> Read:
        """workflows.get (latest revision) through WorkflowsClient."""
        from google.cloud import workflows_v1
        from google.protobuf import json_format

        try:
            if self._workflows is None:
                self._workflows = workflows_v1.WorkflowsClient(
                    transport="rest",
                    credentials=self._credentials(),
                    client_options=self._client_options() if self.loopback else None,
                )
            found = self._workflows.get_workflow(name=name, timeout=TIMEOUT_S)
        except ConfigError:
            raise
        except Exception as err:  # every API failure is a verdict, not a crash
            return _api_status(err)
        return json_format.MessageToDict(workflows_v1.Workflow.pb(found))

    def _jobs_client(self) -> Any:
        from google.cloud import run_v2

        if self._jobs is None:
            self._jobs = run_v2.JobsClient(
                transport="rest",
                credentials=self._credentials(),
                client_options=self._client_options(),
            )
        return self._jobs

    def job(self, name: str) -> Read:
        """Cloud Run jobs.get through JobsClient."""
        from google.cloud import run_v2
        from google.protobuf import json_format

        try:
            found = self._jobs_client().get_job(name=name, timeout=TIMEOUT_S)
        except ConfigError:
            raise
        except Exception as err:
            return _api_status(err)
        return json_format.MessageToDict(run_v2.Job.pb(found))

    def scheduler_job(self, name: str) -> Read:
        """Cloud Scheduler jobs.get."""
        return self.get_json("cloudscheduler", f"/v1/{name}")

    def bucket(self, bucket: str) -> Read:
        """Cloud Storage buckets.get (metadata only)."""
        return self.get_json("storage", f"/storage/v1/b/{bucket}")

    def dataset(self, project: str, dataset: str) -> Read:
        """BigQuery datasets.get."""
        return self.get_json("bigquery", f"/bigquery/v2/projects/{project}/datasets/{dataset}")

    # -- the IAM reads

    def project_policy(self, project: str) -> Read:
        """Resource Manager projects.getIamPolicy (version 3)."""
        body = {"options": {"requestedPolicyVersion": POLICY_VERSION}}
        return self.get_json("resourcemanager", f"/v3/projects/{project}:getIamPolicy", body)

    def job_policy(self, name: str) -> Read:
        """Cloud Run jobs.getIamPolicy through JobsClient (version 3)."""
        from google.iam.v1 import iam_policy_pb2, options_pb2
        from google.protobuf import json_format

        request = iam_policy_pb2.GetIamPolicyRequest(
            resource=name,
            options=options_pb2.GetPolicyOptions(requested_policy_version=POLICY_VERSION),
        )
        try:
            found = self._jobs_client().get_iam_policy(request=request, timeout=TIMEOUT_S)
        except ConfigError:
            raise
        except Exception as err:
            return _api_status(err)
        return json_format.MessageToDict(found)

    def bucket_policy(self, bucket: str) -> Read:
        """Storage buckets.getIamPolicy through google-cloud-storage (version 3: the lake's
        grants are conditional), as the API's JSON."""
        from google.cloud import storage

        try:
            if self._storage is None:
                self._storage = storage.Client(
                    project=self.config.project,
                    credentials=self._credentials(),
                    client_options={"api_endpoint": self._root("storage")}
                    if self.loopback
                    else None,
                )
            policy = self._storage.bucket(bucket).get_iam_policy(
                requested_policy_version=POLICY_VERSION, timeout=TIMEOUT_S, retry=None
            )
        except ConfigError:
            raise
        except Exception as err:
            return _api_status(err)
        return dict(policy.to_api_repr())

    def secret_policy(self, project: str, secret: str) -> Read:
        """Secret Manager secrets.getIamPolicy (version 3)."""
        return self.get_json(
            "secretmanager",
            f"/v1/projects/{project}/secrets/{secret}:getIamPolicy"
            f"?options.requestedPolicyVersion={POLICY_VERSION}",
        )

    def role(self, name: str) -> Read:
        """IAM roles.get of a custom role (`projects/{p}/roles/{id}`)."""
        return self.get_json("iam", f"/v1/{name}")

    def close(self) -> None:
        """Close the clients and the session."""
        for client in (self._workflows, self._jobs):
            if client is not None:
                client.transport.close()
        if self._storage is not None:
            self._storage.close()
        if self._session is not None:
            self._session.close()


def gcp_checks(
    reader: GcpReader, expected: Expected, *, bucket: str | None, dataset: str
) -> list[Check]:
    """Every check of a GCP deployment, in the order a fix would go."""
    checks = check_apis(reader.services(expected.project, REQUIRED_APIS))
    workflow = reader.workflow(expected.workflow_name)
    checks += check_workflow(expected, workflow)
    for job in expected.jobs:
        checks += check_job(expected, job, reader.job(expected.job_name(job.name)))
    checks += check_scheduler(expected, reader.scheduler_job(expected.scheduler_name))
    lake = (
        workflow_env(workflow).get("BATON_LAKE_BUCKET")
        or bucket
        or f"{expected.project}-{expected.name}-lake"
    )
    if bucket and lake != bucket:
        checks.append(
            failed(
                "lake location",
                f"BATON_LAKE names bucket {bucket}, the deployed workflow uses {lake}",
                f"export BATON_LAKE=gs://{lake}/... to act on the deployed lake",
            )
        )
    checks += check_bucket(lake, reader.bucket(lake))
    dataset_read = reader.dataset(expected.project, dataset)
    checks += check_dataset(expected.project, dataset, dataset_read)
    jobs = {job.name: reader.job(expected.job_name(job.name)) for job in expected.jobs}
    policies = read_policies(reader, expected, jobs, dataset_read, lake, workflow_env(workflow))
    return checks + identity_checks(expected, policies)


def job_secrets(job: Read) -> list[str]:
    """The secrets a job's containers read through env `valueSource.secretKeyRef`."""
    if isinstance(job, Unread):
        return []
    task = (job.get("template") or {}).get("template") or {}
    return sorted(
        {
            ref["secret"].rsplit("/", 1)[-1]
            for container in task.get("containers") or []
            for env in container.get("env") or []
            if (ref := (env.get("valueSource") or {}).get("secretKeyRef") or {}).get("secret")
        }
    )


def read_policies(
    reader: GcpReader,
    expected: Expected,
    jobs: Mapping[str, Read],
    dataset: Read,
    lake: str,
    env: Mapping[str, str],
) -> Policies:
    """Every IAM policy the identity checks need, then the custom roles they name."""
    secrets = sorted({s for job in jobs.values() for s in job_secrets(job)})
    policies = Policies(
        project=reader.project_policy(expected.project),
        jobs={step: reader.job_policy(expected.job_name(step)) for step in jobs},
        bucket=reader.bucket_policy(lake),
        dataset=dataset,
        lake_bucket=lake,
        lake_prefix=env.get("BATON_LAKE_PREFIX", ""),
        secrets={s: reader.secret_policy(expected.project, s) for s in secrets},
    )
    roles = {name: reader.role(name) for name in custom_roles(all_bindings(policies))}
    return replace(policies, roles=roles)


def deployed_settings(
    reader: GcpReader, expected: Expected, settings: Settings, dataset: str
) -> Settings:
    """The lake and warehouse the canary acts on: the deployed ones, read from the deployed
    workflow's BATON_LAKE_BUCKET / BATON_LAKE_PREFIX and the BigQuery dataset (its location),
    unless BATON_LAKE / BATON_WAREHOUSE=bigquery already name them. On loopback (`baton
    serve`) the settings stand as they are: the twin's lake and warehouse."""
    if reader.loopback:
        return settings
    update: dict[str, Any] = {}
    if not settings.lake_root.startswith("gs://"):
        env = workflow_env(reader.workflow(expected.workflow_name))
        if env.get("BATON_LAKE_BUCKET"):
            prefix = env.get("BATON_LAKE_PREFIX", "")
            update["lake"] = f"gs://{env['BATON_LAKE_BUCKET']}" + (f"/{prefix}" if prefix else "")
    if settings.warehouse != "bigquery":
        read = reader.dataset(expected.project, dataset)
        location = settings.bq_location if isinstance(read, Unread) else read.get("location")
        update.update(
            warehouse="bigquery",
            bq_project=expected.project,
            bq_dataset=dataset,
            bq_location=location or settings.bq_location,
        )
    return replace(settings, **update)
