"""Backfill planning: split a date range into workflow executions GCP will accept, and estimate
what they cost. Pure logic: limits, durations and prices come in as arguments.

Every limit is a cited platform limit (see ../shared/reference/gcp-facts.md §2, §4, §9);
prices are assumptions stated in the plan, never facts.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Literal

from baton.jobs import Job
from baton.lake import STEPS

Mode = Literal["per_partition", "batched"]


@dataclass(frozen=True)
class Limits:
    """Cloud Workflows and Cloud Run Jobs limits a plan must respect."""

    parallel_iterations: int = 20  # concurrent branches+iterations per execution (Workflows)
    argument_bytes: int = 32 * 1024  # execution argument size (Workflows)
    memory_bytes: int = 512 * 1024  # all variables of one execution (Workflows)
    steps_per_execution: int = 100_000  # billable steps per execution (Workflows)
    running_job_executions: int = 1_000  # per project and region (Cloud Run)
    tasks_per_job_execution: int = 10_000  # (Cloud Run)
    task_parallelism: int = 100  # tasks of one execution running at once: regional quota [U]
    headroom: float = 0.5  # plan to use at most this share of the memory and step limits


@dataclass(frozen=True)
class Prices:
    """Unit prices used for estimates. Not confirmed against the live price list: assumptions."""

    workflow_step_usd: float = 0.01 / 1000  # internal steps, per gcp-facts §2.3 [U]
    vcpu_second_usd: float = 0.000018  # Cloud Run jobs, tier 1 [U]
    gib_second_usd: float = 0.000002  # Cloud Run jobs, tier 1 [U]


@dataclass(frozen=True)
class WorkflowModel:
    """How many billable steps the pipeline YAML spends, apart from connector polls.

    Calibrated against the local engine's execution records by a test, so it follows the YAML.
    """

    per_execution: int = 40  # argument parsing, date list, summary, final check
    per_partition: int = 12  # per date in per-partition mode (lane loop, summary bookkeeping)
    per_job_call: int = 14  # one subworkflow run of one job: init, call, classify, record
    summary_bytes_per_cell: int = 160  # per date x step in the returned summary
    job_start_s: float = 45.0  # Cloud Run execution provisioning; no official figure (§4.5)
    poll_initial_s: float = 1.0  # connector default polling policy (§3.2)
    poll_multiplier: float = 1.25
    poll_max_s: float = 60.0


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
class Plan:
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


def _argument(
    dates: Sequence[date], req: Request, mode: Mode, concurrency: int
) -> dict[str, object]:
    contiguous = (
        len(dates) > 1
        and all((b - a) == timedelta(days=1) for a, b in itertools.pairwise(dates))
        and list(dates) == sorted(dates)
    )
    arg: dict[str, object] = (
        {"start": dates[0].isoformat(), "end": dates[-1].isoformat()}
        if contiguous
        else {"dates": [d.isoformat() for d in dates]}
    )
    arg |= {"mode": mode, "concurrency": concurrency}
    if list(req.steps) != list(STEPS):
        arg["steps"] = list(req.steps)
    if req.force:
        arg["force"] = True
    if req.dataset:
        arg["dataset"] = req.dataset
    return arg


def _estimate(
    dates: Sequence[date],
    req: Request,
    mode: Mode,
    concurrency: int,
    jobs: Mapping[str, Job],
    durations: Mapping[str, float],
    model: WorkflowModel,
    prices: Prices,
    limits: Limits,
) -> PlannedExecution:
    n, steps = len(dates), list(req.steps)
    run_s = {s: durations.get(s, 5.0) for s in steps}
    if mode == "per_partition":
        job_execs, tasks = n * len(steps), n * len(steps)
        per_date_s = sum(model.job_start_s + run_s[s] for s in steps)
        wall = math.ceil(n / concurrency) * per_date_s
        billable = (
            model.per_execution
            + n * model.per_partition
            + sum(
                n * (model.per_job_call + polls(model.job_start_s + run_s[s], model)) for s in steps
            )
        )
    else:
        job_execs, tasks = len(steps), n * len(steps)
        # Tasks of one execution run in waves of the job's parallelism (quota-bound).
        waves = math.ceil(n / limits.task_parallelism)
        wall = sum(model.job_start_s + waves * run_s[s] for s in steps)
        billable = model.per_execution + sum(
            model.per_job_call + polls(model.job_start_s + run_s[s], model) for s in steps
        )
    cost = billable * prices.workflow_step_usd + sum(
        n * _job_cost(jobs[s], run_s[s] + model.job_start_s, prices) for s in steps
    )
    return PlannedExecution(
        _argument(dates, req, mode, concurrency),
        tuple(dates),
        mode,
        concurrency,
        job_execs,
        tasks,
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


def _chunk_size(
    req: Request, mode: Mode, model: WorkflowModel, limits: Limits, durations: Mapping[str, float]
) -> int:
    steps = list(req.steps)
    by_memory = int(limits.memory_bytes * limits.headroom) // (
        model.summary_bytes_per_cell * len(steps)
    )
    by_argument = (limits.argument_bytes - 512) // len('"2013-01-01",')  # worst case: a date list
    if mode == "per_partition":
        per_date = model.per_partition + sum(
            model.per_job_call + polls(model.job_start_s + durations.get(s, 5.0), model)
            for s in steps
        )
        by_steps = (
            int(limits.steps_per_execution * limits.headroom - model.per_execution) // per_date
        )
        return max(1, min(by_memory, by_argument, by_steps))
    return max(1, min(by_memory, by_argument, limits.tasks_per_job_execution))


def plan_backfill(
    req: Request,
    jobs: Sequence[Job],
    durations: Mapping[str, float] | None = None,
    limits: Limits = Limits(),
    model: WorkflowModel = WorkflowModel(),
    prices: Prices = Prices(),
) -> Plan:
    """Split `req.dates` into executions within every limit, and estimate each.

    `durations` are typical seconds per step run (from recorded manifests); missing steps
    default to 5 s. Raises ValueError for requests no plan can satisfy.
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
        return Plan((), ("nothing to do: every partition is current",))
    mode = _choose_mode(req, concurrency)
    size = _chunk_size(req, mode, model, limits, durations)
    by_name = {j.name: j for j in jobs}
    chunks = [dates[i : i + size] for i in range(0, len(dates), size)]
    executions = tuple(
        _estimate(c, req, mode, concurrency, by_name, durations, model, prices, limits)
        for c in chunks
    )
    assumptions = (
        f"Cloud Run execution start: {model.job_start_s:.0f} s each (no official figure; gcp-facts §4.5)",
        f"step run times: {', '.join(f'{s} {durations.get(s, 5.0):.1f} s' for s in req.steps)} "
        "(median of recorded manifests; 5 s where none)",
        f"connector polling: initial {model.poll_initial_s:g} s x{model.poll_multiplier:g}, capped at "
        f"{model.poll_max_s:g} s; every poll is a billable step",
        f"prices [unconfirmed]: ${prices.workflow_step_usd * 1000:g} per 1,000 Workflows steps, "
        f"${prices.vcpu_second_usd:g}/vCPU-s, ${prices.gib_second_usd:g}/GiB-s (Cloud Run jobs)",
        f"limits: <= {limits.parallel_iterations} concurrent iterations, {limits.argument_bytes // 1024} KB "
        f"argument, {limits.memory_bytes // 1024} KB memory (planned at {limits.headroom:.0%}), "
        f"{limits.steps_per_execution:,} steps/execution, {limits.tasks_per_job_execution:,} tasks/job "
        f"execution, {limits.running_job_executions:,} running job executions/region, "
        f"{limits.task_parallelism} tasks running at once per job execution [U]",
        "executions run one after another, so wall time adds up",
    )
    return Plan(executions, assumptions)
