"""The pipeline workflow: the DAG from `workflows/pipeline.workflows.yaml`, deployed with its
own identity, which may run the four step jobs with overrides, read attempt records, and log."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from baton_infra.access import READ_ROLE, attempt_records_condition
from baton_infra.identity import member, project_role, service_account
from baton_infra.step_job import StepJob


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
        # The execute-jobs docs require only run.developer on the job to execute with overrides;
        # iam.serviceAccounts.actAs on the job's identity is a deploy-time (deployer) need.
        grants: list[pulumi.Resource] = [
            gcp.cloudrunv2.JobIamMember(
                f"{name}-runs-{step}",
                project=args.project,
                location=args.region,
                name=job.name,
                role="roles/run.developer",
                member=who,
                opts=child,
            )
            for step, job in args.jobs.items()
        ]
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
