"""The commit protocol every step follows for one partition, whatever the step does.

plan inputs -> skip if unchanged since the last commit (unless forced) -> execute -> check the
row accounting and quarantine tolerance -> write `_manifest.json` last -> delete the files the
previous commit named -> record the attempt. Steps supply only `plan`.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Literal, Protocol, runtime_checkable

from baton import log
from baton.config import Settings
from baton.dataset import Dataset
from baton.errors import (
    RETRYABLE_EXIT_CODES,
    BatonError,
    ConfigError,
    DataError,
    ExitCode,
    UnavailableError,
)
from baton.lake import INPUT_STEP, NEXT_STEP, attempt_key, data_key, manifest_key, quarantine_key
from baton.manifest import (
    AttemptRecord,
    FileEntry,
    InputRef,
    Manifest,
    damage,
    found_corrupt,
    parse_manifest,
    read_attempt,
    read_manifest,
    schema_fingerprint,
    verify_files,
)
from baton.parquet import first_unreadable
from baton.storage import CommitConflictError, Storage
from baton.task import TaskContext

Outcome = Literal["committed", "skipped", "planned"]


@dataclass(frozen=True)
class Partition:
    """One unit of work: one step of one dataset for one date, and what it may touch."""

    step: str
    dataset: Dataset
    day: date
    storage: Storage
    settings: Settings
    task: TaskContext
    run_id: str

    @property
    def tolerance(self) -> float:
        """The bad-row share above which this step fails: settings override the dataset."""
        override = self.settings.quarantine_tolerance
        return self.dataset.quarantine_tolerance if override is None else override

    def data_key(self, part: int = 0) -> str:
        """Data file `part` of this attempt's output (see `baton.lake.data_key`)."""
        return data_key(self.step, self.dataset.name, self.day, self.run_id, part)

    def quarantine_key(self) -> str:
        """This attempt's quarantine file (see `baton.lake.quarantine_key`)."""
        return quarantine_key(self.step, self.dataset.name, self.day, self.run_id)


@dataclass(frozen=True)
class Output:
    """What a step produced for one partition (the step's own half of the manifest)."""

    files: Sequence[FileEntry]
    rows_in: int
    rows_out: int
    quarantine: Sequence[FileEntry] = ()
    rows_quarantined: int = 0
    quarantine_reasons: dict[str, int] = field(default_factory=dict)
    schema: dict[str, str] = field(default_factory=dict)
    extra: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class StepPlan:
    """The inputs a step will read (their digests decide skipping) and how to run it."""

    inputs: Sequence[InputRef]
    execute: Callable[[], Output]
    reads: Sequence[Manifest] = ()
    """The upstream commits whose files `execute` reads: when it fails unexpectedly, they are
    checked, so a corrupt file is reported as bad data naming it rather than as a bug."""


class Step(Protocol):
    """A step: a name and a planner for one partition."""

    name: str

    def plan(self, part: Partition) -> StepPlan:
        """Read the upstream commit(s), fail early on missing inputs, return the plan."""
        ...


@runtime_checkable
class HoldsOpen(Protocol):
    """A step that keeps something open across a task's dates (load: the warehouse); the
    step CLI closes it once the task's last date is done."""

    def close(self) -> None:
        """Release it."""
        ...


class ToleranceError(DataError):
    """More rows broke the contract than the dataset tolerates; the rejects stay inspectable."""

    def __init__(
        self, message: str, quarantine: Sequence[FileEntry], reasons: dict[str, int]
    ) -> None:
        super().__init__(message, reason="tolerance_exceeded")
        self.quarantine = tuple(quarantine)
        self.reasons = dict(reasons)


@dataclass(frozen=True)
class Result:
    """How one partition's run ended, for summaries."""

    day: date
    outcome: Outcome | Literal["failed"]
    exit_code: ExitCode
    manifest: Manifest | None = None
    reason: str = ""
    message: str = ""


def new_run_id(task: TaskContext) -> str:
    """Unique per attempt: Cloud Run execution, task, attempt, and a nonce for local reruns."""
    return f"{task.execution}-t{task.index}-a{task.attempt}-{uuid.uuid4().hex[:8]}"


def _check_accounting(step: str, out: Output) -> None:
    if out.rows_in != out.rows_out + out.rows_quarantined:
        raise BatonError(
            f"{step}: row accounting does not balance: {out.rows_in} in != {out.rows_out} out "
            f"+ {out.rows_quarantined} quarantined",
            reason="accounting_mismatch",
        )


def _check_tolerance(part: Partition, out: Output) -> None:
    if out.rows_in and out.rows_quarantined / out.rows_in > part.tolerance:
        top = ", ".join(
            f"{k}={v}" for k, v in sorted(out.quarantine_reasons.items(), key=lambda kv: -kv[1])[:5]
        )
        raise ToleranceError(
            f"{part.step} {part.dataset.name} {part.day}: {out.rows_quarantined} of {out.rows_in} "
            f"rows broke the contract ({out.rows_quarantined / out.rows_in:.1%} > tolerance "
            f"{part.tolerance:.1%}); rules: {top}. Nothing was committed; the rejected rows are "
            f"in {', '.join(part.storage.uri(q.key) for q in out.quarantine)}",
            out.quarantine,
            out.quarantine_reasons,
        )


def _manifest(
    part: Partition, plan: StepPlan, out: Output, started: datetime, clock: float
) -> Manifest:
    return Manifest(
        dataset=part.dataset.name,
        step=part.step,
        partition=part.day,
        files=tuple(out.files),
        quarantine=tuple(out.quarantine),
        rows_in=out.rows_in,
        rows_out=out.rows_out,
        rows_quarantined=out.rows_quarantined,
        quarantine_reasons=out.quarantine_reasons,
        schema=out.schema,
        schema_fingerprint=schema_fingerprint(out.schema),
        inputs=tuple(plan.inputs),
        code_version=part.settings.code_version,
        execution_id=part.settings.execution_id,
        run_id=part.run_id,
        started_at=started,
        finished_at=datetime.now(UTC),
        duration_s=round(time.perf_counter() - clock, 3),
        extra=out.extra,
    )


def _unchanged(committed: Manifest | None, plan: StepPlan, settings: Settings) -> bool:
    return (
        committed is not None
        and tuple(committed.inputs) == tuple(plan.inputs)
        and committed.code_version == settings.code_version
    )


def _intact(part: Partition, committed: Manifest | None) -> bool:
    """Whether every file the commit names is there with its recorded size, and the step that
    reads it did not last fail on a corrupt file of it. A damaged commit (a file deleted,
    truncated or garbled behind its back) is redone rather than skipped, so a plain rerun or
    `backfill --only-missing` repairs it."""
    if committed is None:
        return False
    # One metadata read per file, not a listing: a step may read its objects but not list
    # the bucket (see manifest.damage).
    problems = damage(part.storage, committed, listing=False)
    after = NEXT_STEP.get(part.step)
    if after is not None:
        reader = read_attempt(part.storage, attempt_key(after, part.dataset.name, part.day))
        if reader is not None and found_corrupt(reader, committed):
            problems.append(f"{after} failed reading it: {reader.message}")
    if problems:
        log.get().warning("the committed output is damaged: redoing it", problems=problems[:5])
    return not problems


def _committed(part: Partition, key: str, force: bool) -> tuple[Manifest | None, int]:
    """The step's current commit and its generation (0: none), which the new commit will be
    conditional on. A corrupt one fails the step unless forced: --force is the documented
    repair, so it replaces the corrupt manifest (its files become stale garbage)."""
    found = part.storage.read_versioned(key)
    if found is None:
        return None, 0
    data, generation = found
    try:
        return parse_manifest(part.storage, key, data)[0], generation
    except DataError as err:
        if not force or err.reason != "manifest_corrupt":
            raise
        log.get().warning("replacing a corrupt manifest", manifest=key, error=err.message)
        return None, generation


def _commit(part: Partition, key: str, manifest: Manifest, generation: int) -> None:
    """Write the manifest only if the commit read at plan time is still the current one
    (`if_generation_match`; 0 when there was none). A writer that lost the race deletes its
    own files and fails retryably (CommitConflictError), leaving nothing of it visible, and
    never deletes the files the winner's commit may still name."""
    data = manifest.to_bytes()
    try:
        part.storage.write_bytes(key, data, if_generation_match=generation)
    except CommitConflictError:
        now = part.storage.read_versioned(key)
        if now is not None and now[0] == data:
            return  # our own write landed; a retried request then found it there
        for entry in (*manifest.files, *manifest.quarantine):
            part.storage.delete(entry.key)
        raise


def _execute(part: Partition, plan: StepPlan) -> Output:
    """Run the plan; an unexpected failure over a corrupt input file becomes a DataError
    naming the file and the step to rerun (anything else stays what it was: a bug)."""
    try:
        return plan.execute()
    except BatonError:
        raise
    except Exception as err:
        for upstream in plan.reads:
            found = first_unreadable(part.storage, [f.key for f in upstream.files])
            if found is not None:
                key, why = found
                raise DataError(
                    f"{part.step} {part.dataset.name} {part.day}: input file "
                    f"{part.storage.uri(key)} (committed by {upstream.step}) is corrupt: {why}; "
                    f"rerun the {upstream.step} step for {upstream.partition} with --force",
                    reason="input_corrupt",
                ) from err
        raise


_FINAL_ERRORS: dict[int, type[BatonError]] = {
    ExitCode.CONFIG: ConfigError,
    ExitCode.DATA: DataError,
    ExitCode.UNAVAILABLE: UnavailableError,
}


def _refuse_wasted_retry(part: Partition, plan: StepPlan) -> None:
    """A Cloud Run task retry (same job execution, a later attempt) of a partition whose
    previous attempt failed for good with the same inputs and code fails the same way at once:
    Cloud Run retries a task without seeing its exit code, and a config, data or unavailable
    failure would only cost a second run. The workflow's retry predicate still decides the
    retries that start a new job execution."""
    if part.task.attempt == 0:
        return
    last = read_attempt(part.storage, attempt_key(part.step, part.dataset.name, part.day))
    if (
        last is None
        or last.outcome != "failed"
        or last.exit_code not in _FINAL_ERRORS
        or (last.task_execution, last.task_index) != (part.task.execution, part.task.index)
        or last.task_attempt >= part.task.attempt
        or tuple(last.inputs) != tuple(plan.inputs)
        or last.code_version != part.settings.code_version
    ):
        return
    message = (
        f"not retried: attempt {last.task_attempt} of this task failed this way with the same "
        f"inputs, and exit {last.exit_code} does not change on a retry. {last.message}"
    )
    if last.reason == "tolerance_exceeded":
        raise ToleranceError(message, last.quarantine, last.quarantine_reasons)
    raise _FINAL_ERRORS[last.exit_code](message, reason=last.reason)


def run_partition(
    step: Step,
    part: Partition,
    *,
    force: bool = False,
    dry_run: bool = False,
    planned: Callable[[Sequence[InputRef]], None] = lambda _: None,
) -> Result:
    """Run `step` for one partition under the commit protocol. Raises BatonError on failure.

    `planned` hears the inputs once they are known (the attempt record keeps them)."""
    clock, started = time.perf_counter(), datetime.now(UTC)
    key = manifest_key(part.step, part.dataset.name, part.day)
    committed, generation = _committed(part, key, force)
    plan = step.plan(part)
    planned(plan.inputs)
    if not force and _unchanged(committed, plan, part.settings) and _intact(part, committed):
        return Result(part.day, "skipped", ExitCode.OK, committed)
    if dry_run:
        return Result(part.day, "planned", ExitCode.OK, committed)
    _refuse_wasted_retry(part, plan)
    out = _execute(part, plan)
    _check_accounting(part.step, out)
    try:
        _check_tolerance(part, out)
    except ToleranceError:
        for entry in out.files:
            part.storage.delete(entry.key)
        raise
    manifest = _manifest(part, plan, out, started, clock)
    _commit(part, key, manifest, generation)  # the commit
    if committed is not None:
        keep = {f.key for f in (*manifest.files, *manifest.quarantine)}
        for stale in (*committed.files, *committed.quarantine):
            if stale.key not in keep:
                part.storage.delete(stale.key)
    return Result(part.day, "committed", ExitCode.OK, manifest)


def record_attempt(
    part: Partition,
    result: Result,
    quarantine: Sequence[FileEntry] = (),
    reasons: dict[str, int] | None = None,
    inputs: Sequence[InputRef] = (),
) -> None:
    """Write the partition's attempt record; it is advisory, so a failure to write is logged."""
    record = AttemptRecord(
        dataset=part.dataset.name,
        step=part.step,
        partition=part.day,
        outcome=result.outcome,
        exit_code=int(result.exit_code),
        reason=result.reason,
        message=result.message[:2000],
        execution_id=part.settings.execution_id,
        run_id=part.run_id,
        task_execution=part.task.execution,
        task_index=part.task.index,
        task_attempt=part.task.attempt,
        finished_at=datetime.now(UTC),
        quarantine=tuple(quarantine),
        quarantine_reasons=reasons or {},
        inputs=tuple(inputs),
        code_version=part.settings.code_version,
    )
    try:
        part.storage.write_bytes(
            attempt_key(part.step, part.dataset.name, part.day),
            record.to_bytes(),
        )
    except Exception as err:
        log.get().warning("attempt record not written", error=str(err))


def worst_exit(codes: Sequence[ExitCode]) -> ExitCode:
    """One exit code for a task that ran several partitions: a retryable failure wins, so
    Cloud Run retries the task (committed partitions then skip); else the first failure."""
    failures = [c for c in codes if c != ExitCode.OK]
    retryable = [c for c in failures if c in RETRYABLE_EXIT_CODES]
    return (retryable or failures or [ExitCode.OK])[0]


def read_upstream(part: Partition) -> tuple[Manifest, InputRef]:
    """The committed output of the step before `part.step`, verified, and its input digest."""
    before = INPUT_STEP[part.step]
    key = manifest_key(before, part.dataset.name, part.day)
    found = read_manifest(part.storage, key)
    if found is None:
        raise DataError(
            f"no committed {before} output for {part.dataset.name} {part.day}: "
            f"{part.storage.uri(key)} does not exist; run {before} for this date first",
            reason="missing_input",
        )
    manifest, digest = found
    verify_files(part.storage, manifest, key)
    return manifest, InputRef(key=key, digest=digest)
