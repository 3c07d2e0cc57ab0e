"""The whole stack composed from its components; `__main__.py` calls `deploy` and exports."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi

from baton import datasets
from baton.jobs import load_jobs
from baton.lake_access import STEP_LAKE_ACCESS
from baton_infra.alerting import Alerting, AlertingArgs
from baton_infra.apis import BASE_APIS, TRIGGER_APIS, ProjectApis, ProjectApisArgs
from baton_infra.dashboard import DashboardArgs, PipelineDashboard
from baton_infra.garbage_collector import (
    GC_IMAGE_STEP,
    GarbageCollectorArgs,
    LakeGarbageCollector,
)
from baton_infra.lake import DataLake, DataLakeArgs
from baton_infra.pipeline import PipelineWorkflow, PipelineWorkflowArgs
from baton_infra.registry import ImageRegistry, ImageRegistryArgs
from baton_infra.secrets import SourceSecrets, SourceSecretsArgs
from baton_infra.stack_config import StackConfig
from baton_infra.step_job import StepJob, StepJobArgs, WarehouseGrant
from baton_infra.triggers import (
    LandingTrigger,
    LandingTriggerArgs,
    PipelineSchedule,
    ScheduleArgs,
    landing_prefixes,
)
from baton_infra.warehouse import Warehouse, WarehouseArgs, table_specs

SECRET_READERS = ("extract",)
"""Only extract talks to sources, so only extract may read source credentials."""


@dataclass
class Stack:
    """Handles on every component, for exports and tests."""

    apis: ProjectApis
    registry: ImageRegistry
    lake: DataLake
    warehouse: Warehouse
    secrets: SourceSecrets
    jobs: dict[str, StepJob] = field(default_factory=dict)
    workflow: PipelineWorkflow | None = None
    schedule: PipelineSchedule | None = None
    landing: LandingTrigger | None = None
    alerting: Alerting | None = None
    dashboard: PipelineDashboard | None = None
    gc: LakeGarbageCollector | None = None


def _step_env(config: StackConfig) -> dict[str, str]:
    return {
        "BATON_WAREHOUSE": "bigquery",
        "BATON_BQ_PROJECT": config.project,
        "BATON_GCP_PROJECT": config.project,  # the project step log lines' trace field names
        "BATON_BQ_DATASET": config.bq_dataset,
        "BATON_BQ_LOCATION": config.bq_location,
    }


def deploy(config: StackConfig, workflow_source: str) -> Stack:
    """Declare every resource of the stack (only the foundation with `foundation_only`: the
    registry must exist before the first images can be pushed to it)."""
    apis = ProjectApis(
        "apis",
        ProjectApisArgs(
            config.project, BASE_APIS + (TRIGGER_APIS if config.landing_trigger else ())
        ),
    )
    after_apis = pulumi.ResourceOptions(depends_on=apis.ready)
    registry = ImageRegistry(
        "images", ImageRegistryArgs(config.project, config.region, config.repository), after_apis
    )
    lake = DataLake(
        "lake",
        DataLakeArgs(
            project=config.project,
            bucket=config.lake_bucket,
            location=config.lake_location,
            prefix=config.lake_prefix,
            quarantine_retention_days=config.quarantine_retention_days,
            noncurrent_retention_days=config.noncurrent_retention_days,
            protect_data=config.protect_data,
        ),
        after_apis,
    )
    registered = datasets.registry()
    warehouse = Warehouse(
        "warehouse",
        WarehouseArgs(
            project=config.project,
            dataset_id=config.bq_dataset,
            location=config.bq_location,
            tables=table_specs(registered),
            protect_data=config.protect_data,
        ),
        after_apis,
    )
    secrets = SourceSecrets(
        "sources", SourceSecretsArgs(config.project, config.source_secrets), after_apis
    )
    stack = Stack(apis, registry, lake, warehouse, secrets)
    if config.foundation_only:
        pulumi.log.warn(
            "baton:foundationOnly is true: deploying APIs, registry, lake, warehouse and secrets "
            "only. Push the images, set baton:images, unset foundationOnly, `pulumi up` again."
        )
        return stack
    for job in load_jobs():
        stack.jobs[job.name] = StepJob(
            job.name,
            StepJobArgs(
                job=job,
                project=config.project,
                region=config.region,
                job_name=config.job_prefix + job.name,
                account_id=config.job_prefix + job.name,
                image=config.image(job.name),
                code_version=config.code_version(job.name),
                lake_bucket=lake.name,
                lake_bucket_name=config.lake_bucket,
                lake_uri=config.lake_uri,
                lake_prefix=config.lake_prefix,
                lake_access=STEP_LAKE_ACCESS[job.name],
                env=_step_env(config),
                warehouse=WarehouseGrant(warehouse.dataset) if job.name == "load" else None,
                secrets=secrets.secrets if job.name in SECRET_READERS else {},
            ),
            after_apis,
        )
    stack.workflow = PipelineWorkflow(
        "pipeline",
        PipelineWorkflowArgs(
            project=config.project,
            region=config.region,
            workflow_name=f"{config.name}-pipeline",
            account_id=f"{config.name}-workflow",
            source=workflow_source,
            jobs=stack.jobs,
            job_prefix=config.job_prefix,
            lake_bucket=lake.name,
            lake_bucket_name=config.lake_bucket,
            lake_prefix=config.lake_prefix,
            default_dataset=config.default_dataset,
        ),
        after_apis,
    )
    stack.schedule = PipelineSchedule(
        "schedule",
        ScheduleArgs(
            project=config.project,
            region=config.region,
            job_name=f"{config.name}-daily",
            account_id=f"{config.name}-scheduler",
            schedule=config.schedule,
            time_zone=config.time_zone,
            paused=config.schedule_paused,
            workflow_id=stack.workflow.id,
        ),
        after_apis,
    )
    stack.gc = LakeGarbageCollector(
        "gc",
        GarbageCollectorArgs(
            project=config.project,
            region=config.region,
            job_name=config.job_prefix + "gc",
            account_id=config.job_prefix + "gc",
            scheduler_account_id=f"{config.name}-gc-scheduler",
            image=config.image(GC_IMAGE_STEP),
            lake_bucket=lake.name,
            lake_bucket_name=config.lake_bucket,
            lake_uri=config.lake_uri,
            lake_prefix=config.lake_prefix,
            time_zone=config.time_zone,
            paused=config.schedule_paused,
        ),
        after_apis,
    )
    if config.landing_trigger:
        stack.landing = LandingTrigger(
            "landing",
            LandingTriggerArgs(
                project=config.project,
                region=config.region,
                name_prefix=config.job_prefix,
                account_id=f"{config.name}-trigger",
                lake_bucket=lake.name,
                lake_prefix=config.lake_prefix,
                landing_prefixes=landing_prefixes(registered),
                workflow_id=stack.workflow.id,
            ),
            after_apis,
        )
    stack.alerting = Alerting(
        "alerts",
        AlertingArgs(
            project=config.project,
            name_prefix=config.job_prefix,
            workflow_name=stack.workflow.name,
            email=config.alert_email,
            channel=config.alert_channel,
        ),
        after_apis,
    )
    stack.dashboard = PipelineDashboard(
        "dashboard",
        DashboardArgs(config.project, config.job_prefix, stack.workflow.name, config.job_prefix),
        after_apis,
    )
    return stack


def export(stack: Stack) -> None:
    """The stack outputs an operator needs: where things are and what to run."""
    pulumi.export("image_registry", stack.registry.url)
    pulumi.export("lake_bucket", stack.lake.name)
    pulumi.export("bigquery_dataset", stack.warehouse.dataset.dataset_id)
    pulumi.export("secrets", {k: s.name for k, s in stack.secrets.secrets.items()})
    pulumi.export("jobs", {step: job.name for step, job in stack.jobs.items()})
    pulumi.export("images", {step: job.image for step, job in stack.jobs.items()})
    if stack.gc is not None:
        pulumi.export("gc_job", stack.gc.name)
    if stack.workflow is not None:
        pulumi.export("workflow", stack.workflow.id)
        pulumi.export("workflow_service_account", stack.workflow.account.email)
