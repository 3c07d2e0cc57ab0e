"""The local target: executions of the pipeline YAML in baton's own engine (recorded under
`$BATON_HOME/executions/`), and single jobs run as local processes by the local job runner."""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import date
from typing import Any

from baton.config import Settings
from baton.errors import ConfigError
from baton.storage import classify_local_failure
from baton_cli.targets.protocol import ExecutionInfo, JobRun, job_overrides, short_id
from baton_engine import EngineError
from baton_twin.execution_info import execution_info
from baton_twin.jobrunner import JobExecution, LocalJobRunner, RunRequest, baton_jobs
from baton_twin.local_engine import PIPELINE, local_engine

CANCEL_WAIT_S = 10.0


def job_run(execution: JobExecution) -> JobRun:
    """A finished local job execution as a JobRun."""
    return JobRun(
        name=execution.name,
        job=execution.deployed_name,
        succeeded=execution.succeeded,
        task_count=execution.task_count,
        succeeded_count=execution.succeeded_count,
        failed_count=execution.failed_count,
        log_uri=execution.log_dir,
        message=f"{execution.succeeded_count} of {execution.task_count} task(s) succeeded",
    )


class LocalTarget:
    """The local twin: the same YAML and step entrypoints, on this machine."""

    kind = "local"

    def __init__(
        self,
        settings: Settings,
        environ: Mapping[str, str],
        *,
        workflow: str,
        parallelism: int | None = None,
        fast_retries: bool = False,
    ) -> None:
        self.settings = settings
        self.workflow = workflow
        # parallelism caps the tasks of one job execution running at once (batched mode);
        # Cloud Run runs them side by side up to the region's quota, a laptop cannot.
        self.runner = LocalJobRunner(baton_jobs(), base_env=dict(environ), parallelism=parallelism)
        self.engine = local_engine(settings, environ, runner=self.runner, fast_retries=fast_retries)

    def start(self, argument: dict[str, Any]) -> ExecutionInfo:
        """Start an execution of workflows/pipeline.workflows.yaml in this process."""
        try:
            execution_id = self.engine.start(
                PIPELINE.read_text(), argument, workflow_id=self.workflow, source_path=str(PIPELINE)
            )
        except EngineError as err:  # the YAML or the argument, as the service would refuse it
            raise ConfigError(err.message, reason=err.reason) from err
        except OSError as err:  # its record cannot be written (a full disk): say where
            failure = classify_local_failure(
                err, "record the execution in", self.settings.home / "executions"
            )
            if failure is None:
                raise
            raise failure from err
        return self.get(execution_id)

    def get(self, execution_id: str) -> ExecutionInfo:
        """One recorded execution; LookupError when there is none."""
        return execution_info(self.engine, self.engine.get(short_id(execution_id)))

    def list(self, limit: int) -> list[ExecutionInfo]:
        """The newest recorded executions (of any workflow run locally)."""
        return [execution_info(self.engine, r) for r in self.engine.list()[:limit]]

    def cancel(self, execution_id: str) -> ExecutionInfo:
        """Cancel an execution; one running in another process stops at its next poll."""
        execution_id = short_id(execution_id)
        self.engine.cancel(execution_id)
        deadline = time.monotonic() + CANCEL_WAIT_S
        info = self.get(execution_id)
        while not info.finished and time.monotonic() < deadline:
            time.sleep(0.2)
            info = self.get(execution_id)
        return info

    def step_entries(self, execution_id: str) -> list[dict[str, Any]]:
        """The execution's steps.jsonl."""
        return self.engine.store.steps(short_id(execution_id))

    def run_job(self, step: str, day: date, dataset: str, *, force: bool) -> JobRun:
        """Run one job through the local job runner; logs under `$BATON_HOME/jobs/`."""
        args, env = job_overrides(day, dataset, force=force)
        deployed = self.engine.user_env["BATON_JOB_PREFIX"] + step
        request = RunRequest(step, deployed, tuple(args), env)
        execution = self.runner.run(request, log_root=self.settings.home / "jobs")
        return job_run(execution)

    def close(self) -> None:
        """Nothing to release: executions started here finish with the process."""
