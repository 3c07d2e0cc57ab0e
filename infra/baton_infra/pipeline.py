"""The pipeline workflow: the DAG from `workflows/pipeline.workflows.yaml`, deployed with its
own identity, which may run the four step jobs with overrides, wait for their executions, read
attempt records, and log."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from baton.lake_access import READ_ROLE, attempt_records_condition
from baton.permission_model import JOB_RUNNER_ROLE
from baton_infra.identity import member, project_role, service_account
from baton_infra.step_job import StepJob

POLLING_PERMISSIONS = ("run.executions.get", "run.operations.get")
"""What waiting for a job execution needs, in a custom role on the project. The jobs.run
connector "uses polling to monitor the long-running operation"
(https://cloud.google.com/workflows/docs/reference/googleapis/run/v2/projects.locations.jobs/run),
and a Cloud Run v2 operation is `projects/{p}/locations/{l}/operations/{op}`
(https://cloud.google.com/run/docs/reference/rest/v2/projects.locations.operations/get): not
under the job, so a grant on a job does not reach it, and the project is the lowest level it
can be granted on. The operation's result is the Execution (run.executions.get, "Get job
executions": https://cloud.google.com/run/docs/reference/iam/permissions). roles/run.viewer
would also work, but it reads every service, job, revision and IAM policy in the project."""


@dataclass(frozen=True)
class PipelineWorkflowArgs:
    """The workflow's source, settings and the jobs it runs."""

    project: str
    region: str
    workflow_name: str
    account_id: str
    source: str
    jobs: Mapping[str, StepJob]
    job_prefix: str
    lake_bucket: pulumi.Output[str]
    lake_bucket_name: str
    lake_prefix: str
    default_dataset: str


def user_env_vars(args: PipelineWorkflowArgs) -> dict[str, str]:
    """The user environment variables the workflow YAML reads with `sys.get_env`; an empty
    lake prefix is left unset (the YAML's default is "")."""
    env = {
        "BATON_JOB_PREFIX": args.job_prefix,
        "BATON_LAKE_BUCKET": args.lake_bucket_name,
        "BATON_LAKE_PREFIX": args.lake_prefix,
        "BATON_DATASET": args.default_dataset,
    }
    return {k: v for k, v in env.items() if v}


def polling_role_id(account_id: str) -> str:
    """The custom role's id: letters, digits, `_` and `.` only (no `-`)."""
    return account_id.replace("-", "_") + "_polls_jobs"


class PipelineWorkflow(pulumi.ComponentResource):
    """The Cloud Workflows workflow and its identity."""

    def __init__(
        self, name: str, args: PipelineWorkflowArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("baton:infra:PipelineWorkflow", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.account = service_account(
            f"{name}-sa",
            args.project,
            args.account_id,
            "runs the baton pipeline workflow: executes the step jobs, reads attempt records",
            self,
        )
        who = member(self.account.email)
        # iam.serviceAccounts.actAs on a job's identity is a deploy-time (deployer) need; the
        # execute-jobs docs ask nothing of the caller beyond the role on the job.
        grants: list[pulumi.Resource] = [
            gcp.cloudrunv2.JobIamMember(
                f"{name}-runs-{step}",
                project=args.project,
                location=args.region,
                name=job.name,
                role=JOB_RUNNER_ROLE,
                member=who,
                opts=child,
            )
            for step, job in args.jobs.items()
        ]
        self.polling_role = gcp.projects.IAMCustomRole(
            f"{name}-polling-role",
            project=args.project,
            role_id=polling_role_id(args.account_id),
            title=f"baton {args.account_id}: wait for Cloud Run job executions",
            description="Poll Cloud Run long-running operations and read job executions",
            permissions=list(POLLING_PERMISSIONS),
            opts=child,
        )
        grants.append(
            project_role(f"{name}-polls", args.project, self.polling_role.name, who, self)
        )
        grants.append(
            gcp.storage.BucketIAMMember(
                f"{name}-reads-attempts",
                bucket=args.lake_bucket,
                role=READ_ROLE,
                member=who,
                condition={
                    "title": "read attempt records",
                    "description": "baton workflow: read <zone>/<dataset>/dt=<date>/_attempt.json",
                    "expression": attempt_records_condition(
                        args.lake_bucket_name, args.lake_prefix
                    ),
                },
                opts=child,
            )
        )
        # sys.log and the workflow's own call logs.
        grants.append(
            project_role(f"{name}-logs", args.project, "roles/logging.logWriter", who, self)
        )
        self.workflow = gcp.workflows.Workflow(
            f"{name}-workflow",
            project=args.project,
            region=args.region,
            name=args.workflow_name,
            description="baton: extract -> transform -> validate -> load for a set of dates",
            source_contents=args.source,
            service_account=self.account.email,
            user_env_vars=user_env_vars(args),
            call_log_level="LOG_ERRORS_ONLY",
            execution_history_level="EXECUTION_HISTORY_DETAILED",
            # The source lives in git; replacing or destroying the workflow loses nothing.
            deletion_protection=False,
            opts=pulumi.ResourceOptions(parent=self, depends_on=grants),
        )
        self.id = self.workflow.id
        self.name = self.workflow.name
        self.register_outputs({"workflow": self.workflow.id, "service_account": self.account.email})
