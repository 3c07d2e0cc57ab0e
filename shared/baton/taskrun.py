"""Running a step for the partitions a task owns (one `--date`, or its share of `BATON_DATES`):
each date under the commit protocol, one after another, its attempt recorded and its summary
logged; the task's exit code. No command-line parsing here (that is `baton.stepcli`, and the
typer-free fast path of `baton.entry`); this and the CLI layers are the only readers of the
process environment, passed in as a mapping.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Iterable, Mapping
from datetime import date

from baton import datasets, log
from baton.config import Settings, load_settings
from baton.errors import BatonError, ConfigError, ExitCode
from baton.iam import enforced_policy
from baton.manifest import InputRef
from baton.policed_storage import policed
from baton.step import (
    HoldsOpen,
    Partition,
    Result,
    Step,
    ToleranceError,
    new_run_id,
    record_attempt,
    run_partition,
    worst_exit,
)
from baton.storage import open_storage
from baton.task import TaskContext, shard


def _dates(day: date | None, settings: Settings, task: TaskContext) -> list[date]:
    if day is not None:
        return [day]
    if settings.dates is None:
        raise ConfigError(
            "no partition given: pass --date YYYY-MM-DD, or set BATON_DATES to a JSON list of "
            "dates (batched mode)",
            reason="no_dates",
        )
    return shard(settings.dates, task.index, task.count)


def peak_rss_mib(status: str = "/proc/self/status") -> float | None:
    """This process's peak resident memory so far, in MiB: the kernel's high-water mark of its
    own address space (`VmHWM`, which starts afresh at exec, unlike `ru_maxrss`, which a new
    program inherits from the process that started it); None where there is no such file."""
    try:
        with open(status, encoding="ascii") as lines:
            for line in lines:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)  # the kernel writes kB
    except (OSError, ValueError, IndexError):
        pass
    return None


def _summary(part: Partition, result: Result, seconds: float) -> None:
    m = result.manifest
    fields: dict[str, object] = {
        "outcome": result.outcome,
        "exit_code": int(result.exit_code),
        "duration_s": round(seconds, 3),
    }
    peak = peak_rss_mib()
    if peak is not None:  # sizing a job's memory limit: the task's peak up to this date
        fields["peak_rss_mib"] = peak
    if m is not None and result.outcome == "committed":
        fields |= {
            "rows_in": m.rows_in,
            "rows_out": m.rows_out,
            "rows_quarantined": m.rows_quarantined,
            "bytes_out": sum(f.bytes for f in m.files),
            "quarantine_reasons": m.quarantine_reasons,
        }
    if result.outcome == "failed":
        log.get().error("step failed", reason=result.reason, error=result.message, **fields)
    else:
        log.get().info("step finished", **fields)


def _run_one(step: Step, part: Partition, force: bool, dry_run: bool) -> Result:
    log.bind(
        {
            "step": part.step,
            "dataset": part.dataset.name,
            "partition_date": part.day.isoformat(),
            "execution_id": part.settings.execution_id,
            "task_index": part.task.index,
            "attempt": part.task.attempt,
            "run_id": part.run_id,
        }
    )
    started = time.perf_counter()
    quarantine, reasons = (), {}
    inputs: list[InputRef] = []
    try:
        result = run_partition(step, part, force=force, dry_run=dry_run, planned=inputs.extend)
    except ToleranceError as err:
        quarantine, reasons = err.quarantine, err.reasons
        result = Result(part.day, "failed", err.exit_code, reason=err.reason, message=err.message)
    except BatonError as err:
        result = Result(part.day, "failed", err.exit_code, reason=err.reason, message=err.message)
    except Exception as err:
        log.get().exception("unexpected error")
        result = Result(
            part.day, "failed", ExitCode.BUG, reason="bug", message=f"{type(err).__name__}: {err}"
        )
    if not dry_run:
        record_attempt(part, result, quarantine, reasons, inputs)
    _summary(part, result, time.perf_counter() - started)
    return result


def execute(
    step: Step,
    day: date | None,
    dataset: str,
    *,
    force: bool,
    dry_run: bool,
    verbose: bool,
    environ: Mapping[str, str],
) -> ExitCode:
    """Run `step` for its partitions (one date, or this task's share of BATON_DATES)."""
    log.configure(
        "debug" if verbose else environ.get("BATON_LOG_LEVEL", "info"),
        # The trace fields name the project (infra sets it on every job; GCP's own variable
        # as a fallback; "local" in the twin).
        project=environ.get("BATON_GCP_PROJECT") or environ.get("GOOGLE_CLOUD_PROJECT") or "local",
    )
    try:
        settings = load_settings({"log_level": "debug" if verbose else None}, environ)
        task = TaskContext.from_env(environ)
        days = _dates(day, settings, task)
        definition = datasets.get(dataset)
        policy = enforced_policy(settings.twin_iam, settings.twin_policy_file)
        storage = policed(open_storage(settings.lake_root), policy, settings.twin_identity)
    except BatonError as err:
        log.get().error("cannot start", step=step.name, reason=err.reason, error=err.message)
        return err.exit_code
    if not days:
        log.get().info(
            "nothing to do: no dates for this task", step=step.name, task_index=task.index
        )
        return ExitCode.OK
    parts = (
        Partition(step.name, definition, d, storage, settings, task, new_run_id(task)) for d in days
    )
    return worst_exit(_run_dates(step, parts, force, dry_run))


def _run_dates(
    step: Step, parts: Iterable[Partition], force: bool, dry_run: bool
) -> list[ExitCode]:
    """Run the task's partitions one after another; each commits or fails alone."""
    codes = []
    try:
        for part in parts:
            codes.append(_run_one(step, part, force, dry_run).exit_code)
            # Free one date's frames before the next, so the task's peak memory is one
            # date's, however many dates it runs.
            gc.collect()
    finally:
        if isinstance(step, HoldsOpen):
            step.close()
    return codes
