"""What a backfill plan rests on and what it must stay within: its assumptions (each with its
source, confirmed or not) and one check per platform or pipeline limit, so `--dry-run --json`
can say both and a test can prove every limit holds."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from baton_cli.planner import PlannedExecution, _Inputs

WORKFLOWS_QUOTAS = "https://cloud.google.com/workflows/quotas"
WORKFLOWS_PRICING = "https://cloud.google.com/workflows/pricing"
CONNECTORS = "https://cloud.google.com/workflows/docs/reference/googleapis"
ARGUMENT_DOC = (
    "https://cloud.google.com/python/docs/reference/workflows/latest/"
    "google.cloud.workflows.executions_v1.types.Execution"
)
RUN_QUOTAS = "https://cloud.google.com/run/quotas"
RUN_INSTANCES = "https://cloud.google.com/run/docs/configuring/max-instances-limits"
RUN_PARALLELISM = "https://cloud.google.com/run/docs/configuring/parallelism"
RUN_TASK_TIMEOUT = "https://cloud.google.com/run/docs/configuring/task-timeout"
PLANNER = "baton_cli.planner (a choice, not a platform fact)"


@dataclass(frozen=True)
class Assumption:
    """One thing an estimate rests on, where it comes from, and whether a source confirms it."""

    text: str
    source: str
    confirmed: bool

    def __str__(self) -> str:
        return self.text + ("" if self.confirmed else " [unconfirmed]")


@dataclass(frozen=True)
class LimitCheck:
    """A limit the plan respects: its value, the most the plan uses of it, and its source."""

    name: str
    limit: float
    planned: float
    source: str
    confirmed: bool

    @property
    def respected(self) -> bool:
        """Whether the plan stays within the limit."""
        return self.planned <= self.limit

    def __str__(self) -> str:
        mark = "" if self.confirmed else " [unconfirmed]"
        return f"{self.name}: {self.planned:,g} of {self.limit:,g}{mark}"


def limit_checks(
    executions: Sequence[PlannedExecution], inp: _Inputs, parallel: int
) -> tuple[LimitCheck, ...]:
    """Every limit the plan must respect, with the most any execution (or the executions
    running at once) uses of it."""
    if not executions:
        return ()
    lim, model, steps = inp.limits, inp.model, len(inp.steps)

    def most(values: Sequence[float]) -> float:
        return max(values)

    checks = [
        LimitCheck(
            "concurrent branches + iterations per execution",
            lim.parallel_iterations,
            most(
                [e.job_executions_at_once if e.mode == "per_partition" else 1 for e in executions]
            ),
            WORKFLOWS_QUOTAS + " (system limits; the YAML's max_concurrency)",
            False,
        ),
        LimitCheck(
            "execution argument bytes",
            lim.argument_bytes,
            most([e.argument_bytes for e in executions]),
            ARGUMENT_DOC,
            True,
        ),
        LimitCheck(
            f"execution memory bytes (planned at {lim.headroom:.0%})",
            lim.memory_bytes * lim.headroom,
            most(
                [
                    len(e.dates) * steps * model.summary_bytes_per_cell * model.summary_copies
                    for e in executions
                ]
            ),
            WORKFLOWS_QUOTAS + " (512 KB; third-party copies of the table)",
            False,
        ),
        LimitCheck(
            f"steps per execution (planned at {lim.headroom:.0%})",
            lim.steps_per_execution * lim.headroom,
            most([e.billable_steps for e in executions]),
            WORKFLOWS_QUOTAS + " (100,000; third-party copies of the table)",
            False,
        ),
        LimitCheck(
            "tasks per job execution",
            lim.tasks_per_job_execution,
            most([e.tasks_per_job for e in executions]),
            RUN_QUOTAS,
            True,
        ),
        LimitCheck(
            "running job executions per project and region",
            lim.running_job_executions,
            parallel * most([e.job_executions_at_once for e in executions]),
            RUN_QUOTAS,
            True,
        ),
        LimitCheck(
            "tasks running at once (regional instance quota, value not published)",
            lim.task_parallelism,
            parallel * most([e.tasks_at_once for e in executions]),
            RUN_INSTANCES,
            False,
        ),
        LimitCheck(
            "seconds per task attempt (jobs.toml timeout_s)",
            min(inp.jobs[s].timeout_s for s in inp.steps),
            most([e.task_s for e in executions]),
            RUN_TASK_TIMEOUT + "; shared/baton/jobs.toml",
            True,
        ),
    ]
    if lim.dates_per_execution is not None:
        checks.append(
            LimitCheck(
                "dates per execution (the YAML's max_dates)",
                lim.dates_per_execution,
                most([len(e.dates) for e in executions]),
                "workflows/pipeline.workflows.yaml",
                True,
            )
        )
    if lim.connector_timeout_s is not None:
        checks.append(
            LimitCheck(
                "seconds per job execution (the YAML's jobs.run connector timeout)",
                lim.connector_timeout_s,
                most([model.job_start_s + e.task_s for e in executions]),
                CONNECTORS + "; workflows/pipeline.workflows.yaml",
                True,
            )
        )
    return tuple(checks)


def plan_assumptions(
    inp: _Inputs,
    durations: Mapping[str, float],
    durations_source: str,
    parallel: int,
    cap: int,
    default_s: float,
) -> tuple[Assumption, ...]:
    """What the estimates rest on, each with its source and whether a source confirms it."""
    model, prices, req = inp.model, inp.prices, inp.req
    recorded = [s for s in inp.steps if s in durations]
    source = (
        f"{durations_source}; {default_s:g} s where none"
        if recorded
        else f"none recorded, {default_s:g} s each"
    )
    auto = " (auto: per-partition up to 3 x concurrency dates, else batched)"
    asked = req.parallel_executions
    return (
        Assumption(
            f"mode {inp.mode}{auto if req.mode == 'auto' else ''}; concurrency {inp.concurrency}",
            PLANNER,
            True,
        ),
        Assumption(
            f"job execution start-up: {model.job_start_s:g} s each ({model.job_start_note})",
            "shared/reference/gcp-facts.md §4.5: no official figure",
            False,
        ),
        Assumption(
            f"task start-up: {model.billed_start_s:g} s per task (container start and imports), "
            "billed as instance time (Cloud Run bills an instance's whole lifetime)",
            "https://cloud.google.com/run/pricing (not retrievable here)",
            False,
        ),
        Assumption(
            f"batched tasks: as few as keep start-up within {model.startup_share:.0%} of a task's "
            "billed time, as many as fit each task's dates in its timeout; each task runs "
            "sorted(dates)[i::tasks] one after another in one process",
            PLANNER,
            True,
        ),
        Assumption(
            "a job execution's tasks all run side by side (parallelism unset: as many as possible)",
            RUN_PARALLELISM,
            True,
        ),
        Assumption(
            "step run times: "
            + ", ".join(f"{s} {inp.run_s[s]:.2g} s" for s in inp.steps)
            + f" ({source})",
            durations_source if recorded else PLANNER,
            bool(recorded),
        ),
        Assumption(
            "Workflows steps: measured on the pipeline YAML through the local engine, success "
            "path (failures and retries add steps); every step and every connector poll is billed",
            WORKFLOWS_PRICING + "; tests/cli/test_ops_planner_calibration.py",
            True,
        ),
        Assumption(
            f"connector polling: initial {model.poll_initial_s:g} s x{model.poll_multiplier:g}, "
            f"capped at {model.poll_max_s:g} s",
            CONNECTORS + " (default polling policy)",
            True,
        ),
        Assumption(
            f"prices: ${prices.workflow_step_usd * 1000:g} per 1,000 Workflows steps, "
            f"${prices.vcpu_second_usd:g}/vCPU-s, ${prices.gib_second_usd:g}/GiB-s (Cloud Run "
            "jobs); no free tier counted",
            "https://cloud.google.com/run/pricing, " + WORKFLOWS_PRICING + " (not confirmed)",
            False,
        ),
        Assumption(
            f"{parallel} execution(s) at once"
            + (
                f" (--parallel-executions {asked} lowered to the limit {cap})"
                if asked and asked > cap
                else ""
            )
            + f"; the limits allow {cap}: the running job executions and the tasks running at "
            "once are shared by the executions running side by side",
            PLANNER,
            True,
        ),
    )
