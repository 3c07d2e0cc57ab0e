"""Backfill planning: split a date range into workflow executions GCP will accept, and estimate
what they cost. Pure logic: limits, durations and prices come in as arguments.

Every limit is a cited platform limit (see ../shared/reference/gcp-facts.md §2, §4, §9) or one
the pipeline YAML sets for itself (`dag.pipeline_limits` reads those from the YAML); prices
are assumptions stated in the plan, never facts.
"""

from __future__ import annotations

import heapq
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, Literal

import baton_limits as limits
from baton.jobs import Job
from baton.lake import STEPS
from baton_cli.argument import PipelineArgument, contiguous
from baton_cli.plan_audit import Assumption, LimitCheck, limit_checks, plan_assumptions

Mode = Literal["per_partition", "batched"]
DEFAULT_STEP_S = 5.0  # a step's run time when no manifest recorded one


@dataclass(frozen=True)
class PlatformLimits:
    """Cloud Workflows and Cloud Run Jobs limits a plan must respect.

    `dates_per_execution` and `connector_timeout_s` are the pipeline YAML's own (its
    `max_dates` and the `connector_params.timeout` of its jobs.run call); None means unknown.
    """

    parallel_iterations: int = limits.WORKFLOW_CONCURRENT_BRANCHES
    argument_bytes: int = limits.WORKFLOW_ARGUMENT_BYTES
    memory_bytes: int = limits.WORKFLOW_MEMORY_BYTES
    steps_per_execution: int = limits.WORKFLOW_STEPS_PER_EXECUTION
    running_job_executions: int = limits.RUN_RUNNING_JOB_EXECUTIONS  # per project and region
    tasks_per_job_execution: int = limits.RUN_TASKS_PER_EXECUTION
    # Tasks running at once, per job execution and (conservatively) across every execution
    # the plan runs side by side: Cloud Run counts the vCPU and memory of every running
    # instance in the region against one regional quota
    # (https://cloud.google.com/run/docs/configuring/max-instances-limits), whose value is not
    # published [U]. Locally: the `--concurrency` task processes.
    task_parallelism: int = limits.RUN_TASK_PARALLELISM
    dates_per_execution: int | None = None  # the YAML's max_dates
    connector_timeout_s: float | None = None  # the YAML's jobs.run connector timeout
    headroom: float = 0.5  # plan to use at most this share of the memory and step limits


@dataclass(frozen=True)
class Prices:
    """Unit prices used for estimates. Not confirmed against the live price list: assumptions."""

    workflow_step_usd: float = 0.01 / 1000  # internal steps, per gcp-facts §2.3 [U]
    vcpu_second_usd: float = 0.000018  # Cloud Run jobs, tier 1 [U]
    gib_second_usd: float = 0.000002  # Cloud Run jobs, tier 1 [U]


@dataclass(frozen=True)
class StepCosts:
    """Workflow steps one execution of the pipeline runs in one mode, on the success path.

    total = per_execution + per_lane x lanes + per_date x dates + per_step x steps
            + per_cell x dates x steps
    """

    per_execution: int
    per_lane: int
    per_date: int
    per_step: int
    per_cell: int

    def total(self, dates: int, steps: int, lanes: int) -> int:
        """Steps of one execution over `dates` x `steps` with `lanes` parallel lanes."""
        return (
            self.per_execution
            + self.per_lane * lanes
            + self.per_date * dates
            + self.per_step * steps
            + self.per_cell * dates * steps
        )


@dataclass(frozen=True)
class WorkflowModel:
    """How many billable steps the pipeline YAML spends, apart from connector polls.

    The step counts are measured on workflows/pipeline.workflows.yaml by running it through
    the local engine (tests/cli/test_ops_planner_calibration.py keeps them exact).
    """

    per_partition: StepCosts = StepCosts(26, 2, 14, 1, 16)
    batched: StepCosts = StepCosts(27, 0, 9, 17, 6)
    range_argument: int = 14  # extra steps to expand `start`+`end` instead of a `dates` list
    range_per_date: int = 1
    steps_argument: int = 12  # extra steps to check an explicit `steps` list
    steps_argument_per_step: int = 1
    # One date x step of the summary by Workflows' memory accounting, at its largest (three
    # succeeded steps and a failed one whose message is cut to the YAML's message_chars):
    # 317 bytes per copy, measured through the engine (tests/twin/test_pipeline_memory.py).
    summary_bytes_per_cell: int = 330
    summary_copies: int = 2  # `partitions` and the summary built from it live at once
    job_start_s: float = 45.0  # Cloud Run execution provisioning; no official figure (§4.5)
    job_start_note: str = "Cloud Run provisioning; no official figure, gcp-facts §4.5"
    # Per task: container start and the step's imports, before its first date. Billed as
    # instance time, since Cloud Run bills an instance's whole lifetime; the pricing page was
    # not retrievable here, so this is the safe reading [U].
    billed_start_s: float = 5.0
    # Batched tasks are sized so a task's start-up is at most this share of its billed time:
    # fewer, fuller tasks pay fewer start-ups; more tasks finish sooner.
    startup_share: float = 0.1
    poll_initial_s: float = 1.0  # connector default polling policy (§3.2)
    poll_multiplier: float = 1.25
    poll_max_s: float = 60.0

    def costs(self, mode: Mode) -> StepCosts:
        """The step costs of `mode`."""
        return self.per_partition if mode == "per_partition" else self.batched

    def workflow_steps(
        self,
        mode: Mode,
        dates: int,
        steps: int,
        lanes: int,
        *,
        contiguous: bool,
        steps_given: bool,
    ) -> int:
        """Steps the YAML runs (no polls) for one successful execution: `contiguous` dates
        are sent as `start`+`end`, `steps_given` when the argument lists the steps."""
        total = self.costs(mode).total(dates, steps, lanes if mode == "per_partition" else 0)
        if contiguous:
            total += self.range_argument + self.range_per_date * dates
        if steps_given:
            total += self.steps_argument + self.steps_argument_per_step * steps
        return total


@dataclass(frozen=True)
class Request:
    """What the operator asked for."""

    dates: Sequence[date]
    concurrency: int = 10
    mode: Mode | Literal["auto"] = "auto"
    steps: Sequence[str] = STEPS
    force: bool = False
    recent_first: bool = False
    dataset: str | None = None
    parallel_executions: int | None = None  # None: as many as the limits allow


@dataclass(frozen=True)
class PlannedExecution:
    """One workflow execution of the plan."""

    argument: dict[str, object]
    dates: tuple[date, ...]
    mode: Mode
    concurrency: int
    job_executions: int
    tasks: int
    billable_steps: int
    wall_s: float
    cost_usd: float
    tasks_per_job: int = 1  # tasks of each job execution (batched: they share the dates)
    dates_per_task: int = 1  # the most dates one task runs, one after another
    task_s: float = 0.0  # the longest task: start-up plus its dates of the slowest step
    start_s: float = 0.0  # when it starts, counted from the start of the plan

    @property
    def argument_bytes(self) -> int:
        """The argument as the Executions API receives it (a JSON string)."""
        return len(json.dumps(self.argument, separators=(",", ":")).encode())

    @property
    def tasks_at_once(self) -> int:
        """Cloud Run tasks this execution runs side by side."""
        return (
            self.tasks_per_job if self.mode == "batched" else min(self.concurrency, len(self.dates))
        )

    @property
    def job_executions_at_once(self) -> int:
        """Cloud Run job executions this execution runs side by side."""
        return 1 if self.mode == "batched" else min(self.concurrency, len(self.dates))

    def to_json(self) -> dict[str, Any]:
        """The execution as `baton backfill --dry-run --json` prints it."""
        return {
            "dates": [d.isoformat() for d in self.dates],
            "mode": self.mode,
            "argument": self.argument,
            "concurrency": self.concurrency,
            "job_executions": self.job_executions,
            "tasks_per_job_execution": self.tasks_per_job,
            "dates_per_task": self.dates_per_task,
            "tasks": self.tasks,
            "workflow_steps": self.billable_steps,
            "start_s": self.start_s,
            "wall_s": self.wall_s,
            "cost_usd": self.cost_usd,
        }


@dataclass(frozen=True)
class BackfillPlan:
    """The executions to start, in order, and the assumptions behind the estimates."""

    executions: tuple[PlannedExecution, ...]
    assumptions: tuple[Assumption, ...] = field(default_factory=tuple)
    parallel_executions: int = 1  # executions running at once
    limits: tuple[LimitCheck, ...] = field(default_factory=tuple)

    @property
    def totals(self) -> dict[str, float]:
        """Sums over the plan; wall time runs from the first start to the last end."""
        return {
            "executions": len(self.executions),
            "partitions": sum(len(e.dates) for e in self.executions),
            "job_executions": sum(e.job_executions for e in self.executions),
            "tasks": sum(e.tasks for e in self.executions),
            "workflow_steps": sum(e.billable_steps for e in self.executions),
            "billable_steps": sum(e.billable_steps for e in self.executions),
            "wall_s": round(max((e.start_s + e.wall_s for e in self.executions), default=0.0), 1),
            "cost_usd": round(sum(e.cost_usd for e in self.executions), 4),
        }

    def to_json(self) -> dict[str, Any]:
        """The whole plan as JSON: executions, totals, assumptions and the limits it respects."""
        return {
            "executions": [e.to_json() for e in self.executions],
            "parallel_executions": self.parallel_executions,
            "totals": self.totals,
            "assumptions": [
                {"text": a.text, "source": a.source, "confirmed": a.confirmed}
                for a in self.assumptions
            ],
            "limits": [
                {
                    "name": c.name,
                    "limit": c.limit,
                    "planned": c.planned,
                    "respected": c.respected,
                    "source": c.source,
                    "confirmed": c.confirmed,
                }
                for c in self.limits
            ],
        }


def polls(duration_s: float, model: WorkflowModel) -> int:
    """Connector polls while a job execution of `duration_s` runs (exponential backoff, capped)."""
    waited, delay, count = 0.0, model.poll_initial_s, 0
    while waited < duration_s:
        waited += delay
        delay = min(delay * model.poll_multiplier, model.poll_max_s)
        count += 1
    return max(count, 1)


def _parse_memory_gib(memory: str) -> float:
    units = {"Mi": 1 / 1024, "Gi": 1.0, "M": 1e6 / 2**30, "G": 1e9 / 2**30}
    for suffix, factor in units.items():
        if memory.endswith(suffix):
            return float(memory[: -len(suffix)]) * factor
    return float(memory) / 2**30


def _job_cost(job: Job, seconds: float, prices: Prices) -> float:
    return seconds * (
        float(job.cpu) * prices.vcpu_second_usd
        + _parse_memory_gib(job.memory) * prices.gib_second_usd
    )


@dataclass(frozen=True)
class _Inputs:
    """Everything an estimate needs besides the dates."""

    req: Request
    mode: Mode
    concurrency: int
    jobs: Mapping[str, Job]
    run_s: Mapping[str, float]
    model: WorkflowModel
    prices: Prices
    limits: PlatformLimits

    @property
    def steps(self) -> list[str]:
        """The asked steps."""
        return list(self.req.steps)

    @property
    def slowest_s(self) -> float:
        """The run time of the slowest step, per date."""
        return max(self.run_s[s] for s in self.steps)

    @property
    def task_budget_s(self) -> float:
        """How long one task may run its dates: within one task attempt's timeout and, with
        the job's start-up, within the workflow's jobs.run connector timeout."""
        budgets = [float(self.jobs[s].timeout_s) for s in self.steps]
        if self.limits.connector_timeout_s is not None:
            budgets.append(self.limits.connector_timeout_s - self.model.job_start_s)
        return min(budgets) - self.model.billed_start_s

    @property
    def max_tasks(self) -> int:
        """Tasks of one job execution: Cloud Run's cap and the tasks that can run at once."""
        return max(1, min(self.limits.tasks_per_job_execution, self.limits.task_parallelism))


def tasks_per_job(n: int, inp: _Inputs) -> int:
    """Tasks for a batched job execution over `n` dates.

    As few as keep each task's start-up within `startup_share` of its billed time (start-up
    paid once per task, amortised over its dates), but enough that every task's dates finish
    within its budget, and never more than can run at once or than there are dates.
    """
    model = inp.model
    mean_s = sum(inp.run_s[s] for s in inp.steps) / len(inp.steps)
    work_s = model.billed_start_s * (1 - model.startup_share) / model.startup_share
    fill = max(1, math.ceil(work_s / mean_s)) if mean_s > 0 else n
    fit = max(1, int(inp.task_budget_s // inp.slowest_s)) if inp.slowest_s > 0 else n
    tasks = max(math.ceil(n / fill), math.ceil(n / fit))
    return max(1, min(tasks, inp.max_tasks, n))


def _estimate(dates: Sequence[date], inp: _Inputs) -> PlannedExecution:
    n, steps, model = len(dates), inp.steps, inp.model
    lanes = min(inp.concurrency, n)
    billable = model.workflow_steps(
        inp.mode,
        n,
        len(steps),
        lanes,
        contiguous=contiguous(dates),
        steps_given=steps != list(STEPS),
    )
    if inp.mode == "per_partition":
        tasks, per_task = 1, 1
        job_s = {s: model.job_start_s + model.billed_start_s + inp.run_s[s] for s in steps}
        job_execs = n * len(steps)
        wall = math.ceil(n / inp.concurrency) * sum(job_s.values())
        billable += sum(n * polls(job_s[s], model) for s in steps)
        compute = sum(
            n * _job_cost(inp.jobs[s], model.billed_start_s + inp.run_s[s], inp.prices)
            for s in steps
        )
    else:
        tasks = tasks_per_job(n, inp)
        per_task = math.ceil(n / tasks)
        job_s = {
            s: model.job_start_s + model.billed_start_s + per_task * inp.run_s[s] for s in steps
        }
        job_execs = len(steps)
        wall = sum(job_s.values())
        billable += sum(polls(job_s[s], model) for s in steps)
        # Billed instance time: every task's start-up, plus every date's run.
        compute = sum(
            _job_cost(inp.jobs[s], tasks * model.billed_start_s + n * inp.run_s[s], inp.prices)
            for s in steps
        )
    argument = PipelineArgument(
        tuple(dates),
        steps=None if steps == list(STEPS) else tuple(steps),
        force=inp.req.force,
        mode=inp.mode,
        concurrency=inp.concurrency,
        dataset=inp.req.dataset or None,
        form="range" if contiguous(dates) else "list",
    ).to_json()
    if inp.mode == "batched":
        argument["tasks_per_job"] = tasks
    return PlannedExecution(
        argument,
        tuple(dates),
        inp.mode,
        inp.concurrency,
        job_execs,
        (n if inp.mode == "per_partition" else tasks) * len(steps),
        int(billable),
        round(wall, 1),
        round(billable * inp.prices.workflow_step_usd + compute, 6),
        tasks_per_job=tasks,
        dates_per_task=per_task,
        task_s=round(model.billed_start_s + per_task * inp.slowest_s, 1),
    )


def _choose_mode(req: Request, concurrency: int) -> Mode:
    if req.mode != "auto":
        return req.mode
    # Per-partition keeps every date independent (the best failure isolation); beyond a few
    # waves of `concurrency` dates, one job execution per step whose tasks share the dates
    # is cheaper in billable steps, provisioning cycles and container starts.
    return "per_partition" if len(req.dates) <= 3 * concurrency else "batched"


def _check_timeouts(inp: _Inputs) -> None:
    """Refuse steps that cannot finish one date within a task attempt or the connector."""
    if inp.slowest_s > inp.task_budget_s:
        slow = max(inp.steps, key=lambda s: inp.run_s[s])
        raise ValueError(
            f"step {slow} takes about {inp.slowest_s:.0f} s per partition, more than its task "
            f"timeout (jobs.toml timeout_s) or the pipeline's jobs.run connector timeout "
            f"({inp.limits.connector_timeout_s or 0:g} s) leaves after start-up; raise "
            "connector_params.timeout in workflows/pipeline.workflows.yaml"
        )


def _chunk_size(inp: _Inputs) -> int:
    steps, model, limits = len(inp.steps), inp.model, inp.limits
    by_memory = int(limits.memory_bytes * limits.headroom) // (
        model.summary_bytes_per_cell * model.summary_copies * steps
    )
    by_argument = (limits.argument_bytes - 512) // len('"2013-01-01",')  # worst case: a date list
    caps = [by_memory, by_argument]
    if limits.dates_per_execution is not None:
        caps.append(limits.dates_per_execution)
    _check_timeouts(inp)
    costs = model.costs(inp.mode)
    budget = int(limits.steps_per_execution * limits.headroom)
    if inp.mode == "per_partition":
        # Worst case per date: a range argument and one more lane.
        per_date = (
            costs.per_date
            + costs.per_lane
            + model.range_per_date
            + steps * costs.per_cell
            + sum(
                polls(model.job_start_s + model.billed_start_s + inp.run_s[s], model)
                for s in inp.steps
            )
        )
        fixed = (
            costs.per_execution
            + model.range_argument
            + model.steps_argument
            + (costs.per_step + model.steps_argument_per_step) * steps
        )
        caps.append((budget - fixed) // per_date)
    else:
        # Every task's dates must fit its budget, with at most `max_tasks` tasks.
        caps.append(inp.max_tasks * max(1, int(inp.task_budget_s // inp.slowest_s)))
    return max(1, min(caps))


def parallel_cap(executions: Sequence[PlannedExecution], limits: PlatformLimits) -> int:
    """Executions that may run at once: the region's running job executions and the tasks
    that can run at once, shared by the widest executions of the plan."""
    if not executions:
        return 1
    widest_jobs = max(e.job_executions_at_once for e in executions)
    widest_tasks = max(e.tasks_at_once for e in executions)
    return max(
        1,
        min(
            len(executions),
            limits.running_job_executions // widest_jobs,
            limits.task_parallelism // widest_tasks,
        ),
    )


def schedule(executions: Sequence[PlannedExecution], parallel: int) -> tuple[PlannedExecution, ...]:
    """The executions with their start times when at most `parallel` run at once and each
    next one starts as soon as one finishes (what `baton backfill` does)."""
    ends: list[float] = [0.0] * parallel
    out = []
    for ex in executions:
        start = heapq.heappop(ends)
        out.append(replace(ex, start_s=round(start, 1)))
        heapq.heappush(ends, start + ex.wall_s)
    return tuple(out)


def plan_backfill(
    req: Request,
    jobs: Sequence[Job],
    durations: Mapping[str, float] | None = None,
    limits: PlatformLimits = PlatformLimits(),
    model: WorkflowModel = WorkflowModel(),
    prices: Prices = Prices(),
    durations_source: str = "median of recorded manifests",
) -> BackfillPlan:
    """Split `req.dates` into executions within every limit, size their tasks, run them up to
    `req.parallel_executions` at once (default: as many as the limits allow), and estimate each.

    `durations` are typical seconds per step run (from recorded manifests; `durations_source`
    says where they came from); missing steps default to 5 s. Raises ValueError for requests
    no plan can satisfy.
    """
    unknown = [s for s in req.steps if s not in STEPS]
    if unknown or not req.steps:
        raise ValueError(f"steps must be a non-empty subset of {list(STEPS)}; unknown: {unknown}")
    if req.concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    if req.parallel_executions is not None and req.parallel_executions < 1:
        raise ValueError("parallel executions must be at least 1")
    durations = durations or {}
    concurrency = min(req.concurrency, limits.parallel_iterations)
    # Running job executions: a per-partition execution holds at most `concurrency` at once.
    concurrency = min(concurrency, limits.running_job_executions)
    dates = sorted(set(req.dates), reverse=req.recent_first)
    if not dates:
        return BackfillPlan(
            (), (Assumption("nothing to do: every partition is current", "the lake", True),)
        )
    inp = _Inputs(
        req,
        _choose_mode(req, concurrency),
        concurrency,
        {j.name: j for j in jobs},
        {s: durations.get(s, DEFAULT_STEP_S) for s in req.steps},
        model,
        prices,
        limits,
    )
    size = _chunk_size(inp)
    chunks = [dates[i : i + size] for i in range(0, len(dates), size)]
    estimated = [_estimate(c, inp) for c in chunks]
    cap = parallel_cap(estimated, limits)
    parallel = min(cap, req.parallel_executions or cap)
    executions = schedule(estimated, parallel)
    return BackfillPlan(
        executions,
        plan_assumptions(inp, durations, durations_source, parallel, cap, DEFAULT_STEP_S),
        parallel,
        limit_checks(executions, inp, parallel),
    )
