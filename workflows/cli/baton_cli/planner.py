"""Backfill planning: split a date range into workflow executions GCP will accept, and estimate
what they cost. Pure logic: limits, durations and prices come in as arguments.

Every limit is a cited platform limit (see ../shared/reference/gcp-facts.md §2, §4, §9) or one
the pipeline YAML sets for itself (`dag.pipeline_limits` reads those from the YAML); prices
are assumptions stated in the plan, never facts.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

import baton_limits as limits
from baton.jobs import Job
from baton.lake import STEPS
from baton_cli.argument import PipelineArgument, contiguous

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
    task_parallelism: int = limits.RUN_TASK_PARALLELISM  # a regional quota [U]
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
    the local engine (tests/workflows/test_ops_planner_calibration.py keeps them exact).
    """

    per_partition: StepCosts = StepCosts(26, 2, 14, 1, 16)
    batched: StepCosts = StepCosts(26, 0, 9, 17, 6)
    range_argument: int = 14  # extra steps to expand `start`+`end` instead of a `dates` list
    range_per_date: int = 1
    steps_argument: int = 12  # extra steps to check an explicit `steps` list
    steps_argument_per_step: int = 1
    # One date x step of the summary by Workflows' memory accounting, at its largest (three
    # succeeded steps and a failed one whose message is cut to the YAML's message_chars):
    # 317 bytes per copy, measured through the engine (tests/workflows/test_pipeline_memory.py).
    summary_bytes_per_cell: int = 330
    summary_copies: int = 2  # `partitions` and the summary built from it live at once
    job_start_s: float = 45.0  # Cloud Run execution provisioning; no official figure (§4.5)
    job_start_note: str = "Cloud Run provisioning; no official figure, gcp-facts §4.5"
    billed_start_s: float = 5.0  # of the start-up, instance time billed (container start) [U]
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

    @property
    def argument_bytes(self) -> int:
        """The argument as the Executions API receives it (a JSON string)."""
        return len(json.dumps(self.argument, separators=(",", ":")).encode())


@dataclass(frozen=True)
class BackfillPlan:
    """The executions to start, in order, and the assumptions behind the estimates."""

    executions: tuple[PlannedExecution, ...]
    assumptions: tuple[str, ...] = field(default_factory=tuple)

    @property
    def totals(self) -> dict[str, float]:
        """Sums over the plan (wall time adds up: executions run one after another)."""
        return {
            "executions": len(self.executions),
            "partitions": sum(len(e.dates) for e in self.executions),
            "job_executions": sum(e.job_executions for e in self.executions),
            "tasks": sum(e.tasks for e in self.executions),
            "billable_steps": sum(e.billable_steps for e in self.executions),
            "wall_s": round(sum(e.wall_s for e in self.executions), 1),
            "cost_usd": round(sum(e.cost_usd for e in self.executions), 4),
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


def _estimate(dates: Sequence[date], inp: _Inputs) -> PlannedExecution:
    n, steps, model = len(dates), list(inp.req.steps), inp.model
    lanes = min(inp.concurrency, n)
    job_s = {s: model.job_start_s + inp.run_s[s] for s in steps}
    billable = model.workflow_steps(
        inp.mode,
        n,
        len(steps),
        lanes,
        contiguous=contiguous(dates),
        steps_given=steps != list(STEPS),
    )
    if inp.mode == "per_partition":
        job_execs = n * len(steps)
        wall = math.ceil(n / inp.concurrency) * sum(job_s.values())
        billable += sum(n * polls(job_s[s], model) for s in steps)
    else:
        job_execs = len(steps)
        # Tasks of one execution run in waves of the job's parallelism (quota-bound).
        waves = math.ceil(n / inp.limits.task_parallelism)
        wall = sum(model.job_start_s + waves * inp.run_s[s] for s in steps)
        billable += sum(polls(model.job_start_s + waves * inp.run_s[s], model) for s in steps)
    cost = billable * inp.prices.workflow_step_usd + sum(
        n * _job_cost(inp.jobs[s], model.billed_start_s + inp.run_s[s], inp.prices) for s in steps
    )
    return PlannedExecution(
        PipelineArgument(
            tuple(dates),
            steps=None if list(inp.req.steps) == list(STEPS) else tuple(inp.req.steps),
            force=inp.req.force,
            mode=inp.mode,
            concurrency=inp.concurrency,
            dataset=inp.req.dataset or None,
            form="range" if contiguous(dates) else "list",
        ).to_json(),
        tuple(dates),
        inp.mode,
        inp.concurrency,
        job_execs,
        n * len(steps),
        int(billable),
        round(wall, 1),
        round(cost, 6),
    )


def _choose_mode(req: Request, concurrency: int) -> Mode:
    if req.mode != "auto":
        return req.mode
    # Per-partition keeps every date independent (the best failure isolation); beyond a few
    # waves of `concurrency` dates, one job execution per step with a task per date is cheaper
    # in billable steps and provisioning cycles.
    return "per_partition" if len(req.dates) <= 3 * concurrency else "batched"


def _check_timeouts(inp: _Inputs) -> int | None:
    """Refuse steps that cannot finish within the connector timeout; the batched wave cap."""
    timeout = inp.limits.connector_timeout_s
    if timeout is None:
        return None
    longest = max(inp.run_s[s] for s in inp.req.steps)
    usable = timeout - inp.model.job_start_s
    if longest > usable:
        slow = max(inp.req.steps, key=lambda s: inp.run_s[s])
        raise ValueError(
            f"step {slow} takes about {longest:.0f} s per partition, more than the pipeline's "
            f"jobs.run connector timeout ({timeout:g} s) leaves after start-up; raise "
            "connector_params.timeout in workflows/pipeline.workflows.yaml"
        )
    # Batched: the tasks beyond the region's parallelism run in waves, and every wave must fit
    # in one connector timeout.
    return int(usable // longest) * inp.limits.task_parallelism if inp.mode == "batched" else None


def _chunk_size(inp: _Inputs) -> int:
    steps, model, limits = len(inp.req.steps), inp.model, inp.limits
    by_memory = int(limits.memory_bytes * limits.headroom) // (
        model.summary_bytes_per_cell * model.summary_copies * steps
    )
    by_argument = (limits.argument_bytes - 512) // len('"2013-01-01",')  # worst case: a date list
    caps = [by_memory, by_argument]
    if limits.dates_per_execution is not None:
        caps.append(limits.dates_per_execution)
    waves_cap = _check_timeouts(inp)
    if waves_cap is not None:
        caps.append(waves_cap)
    costs = model.costs(inp.mode)
    budget = int(limits.steps_per_execution * limits.headroom)
    if inp.mode == "per_partition":
        # Worst case per date: a range argument and one more lane.
        per_date = (
            costs.per_date
            + costs.per_lane
            + model.range_per_date
            + steps * costs.per_cell
            + sum(polls(model.job_start_s + inp.run_s[s], model) for s in inp.req.steps)
        )
        fixed = (
            costs.per_execution
            + model.range_argument
            + model.steps_argument
            + (costs.per_step + model.steps_argument_per_step) * steps
        )
        caps.append((budget - fixed) // per_date)
    else:
        caps.append(limits.tasks_per_job_execution)
    return max(1, min(caps))


def plan_backfill(
    req: Request,
    jobs: Sequence[Job],
    durations: Mapping[str, float] | None = None,
    limits: PlatformLimits = PlatformLimits(),
    model: WorkflowModel = WorkflowModel(),
    prices: Prices = Prices(),
    durations_source: str = "median of recorded manifests",
) -> BackfillPlan:
    """Split `req.dates` into executions within every limit, and estimate each.

    `durations` are typical seconds per step run (from recorded manifests; `durations_source`
    says where they came from); missing steps default to 5 s. Raises ValueError for requests
    no plan can satisfy.
    """
    unknown = [s for s in req.steps if s not in STEPS]
    if unknown or not req.steps:
        raise ValueError(f"steps must be a non-empty subset of {list(STEPS)}; unknown: {unknown}")
    if req.concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    durations = durations or {}
    concurrency = min(req.concurrency, limits.parallel_iterations)
    # Running job executions: a per-partition execution holds at most `concurrency` at once.
    concurrency = min(concurrency, limits.running_job_executions)
    dates = sorted(set(req.dates), reverse=req.recent_first)
    if not dates:
        return BackfillPlan((), ("nothing to do: every partition is current",))
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
    executions = tuple(_estimate(c, inp) for c in chunks)
    return BackfillPlan(executions, _assumptions(inp, durations, durations_source))


def _assumptions(
    inp: _Inputs, durations: Mapping[str, float], durations_source: str
) -> tuple[str, ...]:
    model, limits, prices = inp.model, inp.limits, inp.prices
    recorded = [s for s in inp.req.steps if s in durations]
    source = (
        f"{durations_source}; {DEFAULT_STEP_S:g} s where none"
        if recorded
        else f"none recorded, {DEFAULT_STEP_S:g} s each"
    )
    yaml_limits = []
    if limits.dates_per_execution is not None:
        yaml_limits.append(f"{limits.dates_per_execution} dates/execution (the YAML's max_dates)")
    if limits.connector_timeout_s is not None:
        yaml_limits.append(f"{limits.connector_timeout_s:g} s jobs.run connector timeout")
    return (
        f"mode {inp.mode}"
        + (
            " (auto: per-partition up to 3 x concurrency dates, else batched)"
            if inp.req.mode == "auto"
            else ""
        )
        + f"; concurrency {inp.concurrency}",
        f"job execution start-up: {model.job_start_s:g} s each ({model.job_start_note}), of "
        f"which {model.billed_start_s:g} s per task is billed as instance time [U]",
        f"step run times: {', '.join(f'{s} {inp.run_s[s]:.2g} s' for s in inp.req.steps)} ({source})",
        "Workflows steps: measured on the pipeline YAML through the local engine, success path "
        "(failures and retries add steps)",
        f"connector polling: initial {model.poll_initial_s:g} s x{model.poll_multiplier:g}, capped at "
        f"{model.poll_max_s:g} s; every poll is a billable step",
        f"prices [unconfirmed]: ${prices.workflow_step_usd * 1000:g} per 1,000 Workflows steps, "
        f"${prices.vcpu_second_usd:g}/vCPU-s, ${prices.gib_second_usd:g}/GiB-s (Cloud Run jobs)",
        f"limits: <= {limits.parallel_iterations} concurrent iterations, {limits.argument_bytes // 1024} KB "
        f"argument, {limits.memory_bytes // 1000} KB memory (planned at {limits.headroom:.0%}), "
        f"{limits.steps_per_execution:,} steps/execution, {limits.tasks_per_job_execution:,} tasks/job "
        f"execution, {limits.running_job_executions:,} running job executions/region, "
        f"{limits.task_parallelism} tasks running at once per job execution [U]"
        + (f"; {', '.join(yaml_limits)}" if yaml_limits else ""),
        "executions run one after another, so wall time adds up",
    )
