"""The local Cloud Run Jobs runner: one job execution = one local process per task, run from
the step's real entrypoint (`python -m baton_<step>`), the way Cloud Run runs the container.

Each task gets the `CLOUD_RUN_*` variables Cloud Run sets (and BATON_TWIN_IDENTITY, the
caller it runs as under the enforced IAM policy), is retried up to the job's
`max_retries` and killed past its timeout; tasks run side by side up to `parallelism`. Task
output goes to `<log root>/<execution>/task-<i>.log`. The execution fails when any task fails
after its retries, once every task has been attempted (as Cloud Run does).

Task processes die with the runner: on Linux each asks the kernel for SIGTERM when the thread
that started it ends (PR_SET_PDEATHSIG, before it execs the entrypoint), so a SIGKILLed
orchestrator leaves no step running on behind it. A task that cannot even start (no space for
its log, no such program) fails with exit code 5 and says why in its log and its outcome.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import string
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from baton.jobs import Job, load_jobs
from baton_limits import RUN_TASKS_PER_EXECUTION

RESERVED_ENV = (
    "CLOUD_RUN_JOB",
    "CLOUD_RUN_EXECUTION",
    "CLOUD_RUN_TASK_INDEX",
    "CLOUD_RUN_TASK_COUNT",
    "CLOUD_RUN_TASK_ATTEMPT",
)
KILL_GRACE_S = 2.0  # SIGTERM, then SIGKILL (Cloud Run waits 10 s; locally we do not linger)
MAX_TASKS = RUN_TASKS_PER_EXECUTION
CANNOT_START = 5  # baton.errors.ExitCode.UNAVAILABLE: the task's sink (its log) is unavailable

_PR_SET_PDEATHSIG = 1  # prctl(2)
_ORPHAN_GUARD = (
    "import ctypes, os, signal, sys\n"
    f"ctypes.CDLL(None, use_errno=True).prctl({_PR_SET_PDEATHSIG}, int(signal.SIGTERM))\n"
    # the runner may have died between fork and prctl: then nobody would reap this task
    "if os.getppid() != int(sys.argv[1]):\n    sys.exit(75)\n"
    "os.execv(sys.argv[2], sys.argv[2:])\n"
)
"""Run before a task's entrypoint on Linux, in the task's own process (it then execs the
entrypoint, keeping its pid): the kernel sends it SIGTERM when its parent goes away. Done in a
tiny launcher, not `preexec_fn`, which is unsafe in a threaded parent."""


def guarded(command: Sequence[str]) -> list[str]:
    """`command`, started so that it dies with this process (Linux); unchanged elsewhere."""
    if not sys.platform.startswith("linux"):
        return list(command)
    return [sys.executable, "-c", _ORPHAN_GUARD, str(os.getpid()), *command]


@dataclass(frozen=True)
class JobSpec:
    """What the runner needs to know about one job."""

    name: str
    command: tuple[str, ...]
    timeout_s: float
    max_retries: int

    @classmethod
    def from_job(cls, job: Job) -> JobSpec:
        """The local form of a job from the shared jobs list: its module in this Python."""
        return cls(job.name, (sys.executable, "-m", job.module), job.timeout_s, job.max_retries)


def baton_jobs() -> dict[str, JobSpec]:
    """Every job of `baton.jobs`, keyed by step name."""
    return {job.name: JobSpec.from_job(job) for job in load_jobs()}


@dataclass(frozen=True)
class RunRequest:
    """One execution to run: the job, its overrides and the name Cloud Run knows it by."""

    job: str
    deployed_name: str
    args: tuple[str, ...] | None = None  # replaces the container args; None keeps none
    env: Mapping[str, str] = field(default_factory=dict)
    task_count: int = 1
    task_timeout_s: float | None = None  # per task attempt; default: the job's timeout


@dataclass
class TaskOutcome:
    """How one task ended."""

    index: int
    exit_codes: list[int] = field(default_factory=list)
    succeeded: bool = False
    log_path: str = ""
    error: str = ""  # why an attempt could not start (e.g. no space for its log)

    @property
    def attempts(self) -> int:
        """Attempts made (1 + retries)."""
        return len(self.exit_codes)


@dataclass
class JobExecution:
    """One finished (or timed-out) job execution."""

    name: str
    job: str
    deployed_name: str
    task_count: int
    log_dir: str
    started: float
    finished: float | None = None
    tasks: list[TaskOutcome] = field(default_factory=list)

    @property
    def succeeded_count(self) -> int:
        """Tasks that succeeded."""
        return sum(t.succeeded for t in self.tasks)

    @property
    def failed_count(self) -> int:
        """Tasks that failed after their retries."""
        return sum(not t.succeeded for t in self.tasks if t.exit_codes)

    @property
    def retried_count(self) -> int:
        """Task attempts beyond the first."""
        return sum(max(0, t.attempts - 1) for t in self.tasks)

    @property
    def succeeded(self) -> bool:
        """Whether every task succeeded."""
        return self.succeeded_count == self.task_count


class JobCancelled(Exception):  # noqa: N818 - named for the condition
    """The caller cancelled the wait; the execution's processes were stopped."""


class JobTimeout(Exception):  # noqa: N818 - named for the condition, as TimeoutError is
    """The execution did not finish before the caller's deadline; its processes were killed."""

    def __init__(self, execution: JobExecution) -> None:
        super().__init__(f"job execution {execution.name} did not finish in time")
        self.execution = execution


def _execution_name(deployed_name: str) -> str:
    suffix = "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(5))
    return f"{deployed_name}-{suffix}"


class _Task:
    """Runs one task's attempts in a thread; `stop()` kills the running process."""

    def __init__(
        self,
        runner: LocalJobRunner,
        spec: JobSpec,
        request: RunRequest,
        execution: JobExecution,
        index: int,
        slots: threading.Semaphore,
    ) -> None:
        self.runner, self.spec, self.request = runner, spec, request
        self.execution, self.slots = execution, slots
        self.outcome = TaskOutcome(
            index, log_path=str(Path(execution.log_dir) / f"task-{index}.log")
        )
        self.stopped = threading.Event()
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self.on_exit: Callable[[], None] = lambda: None
        self.thread = threading.Thread(target=self._main, name=f"task-{index}", daemon=True)

    def _main(self) -> None:
        try:
            self._run()
        finally:
            self.on_exit()

    def _env(self, attempt: int) -> dict[str, str]:
        env = {**self.runner.base_env, **self.request.env}
        env.update(
            CLOUD_RUN_JOB=self.request.deployed_name,
            CLOUD_RUN_EXECUTION=self.execution.name,
            CLOUD_RUN_TASK_INDEX=str(self.outcome.index),
            CLOUD_RUN_TASK_COUNT=str(self.request.task_count),
            CLOUD_RUN_TASK_ATTEMPT=str(attempt),
            # Who the task runs as: on GCP the job's service account; under the enforced IAM
            # policy (BATON_TWIN_IAM=enforce) the step checks its calls as this caller. Set
            # last, so no override can make a task run as another job's identity.
            BATON_TWIN_IDENTITY=f"step:{self.request.job}",
        )
        return env

    def _run(self) -> None:
        with self.slots:
            timeout = self.request.task_timeout_s or self.spec.timeout_s
            command = [*self.spec.command, *(self.request.args or ())]
            for attempt in range(self.spec.max_retries + 1):
                if self.stopped.is_set():
                    return
                try:
                    code = self._attempt(command, attempt, timeout)
                except OSError as err:
                    where = err.filename or self.outcome.log_path
                    self.outcome.error = (
                        f"attempt {attempt} could not start: {err.strerror or err} ({where})"
                    )
                    code = CANNOT_START
                self.outcome.exit_codes.append(code)
                if code == 0:
                    self.outcome.succeeded = True
                    return

    def _attempt(self, command: list[str], attempt: int, timeout: float) -> int:
        with open(self.outcome.log_path, "ab") as log:
            log.write(f"=== attempt {attempt}: {' '.join(command)}\n".encode())
            log.flush()
            with self._lock:
                if self.stopped.is_set():
                    return -int(signal.SIGTERM)
                self._proc = subprocess.Popen(
                    guarded(command),
                    env=self._env(attempt),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,
                )
            try:
                return self._proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                log.write(f"=== attempt {attempt}: task timeout after {timeout} s\n".encode())
                _kill(self._proc)
                return self._proc.wait()

    def stop(self) -> None:
        """Stop retrying and kill the running process, if any."""
        with self._lock:
            self.stopped.set()
            proc = self._proc
        if proc is not None and proc.poll() is None:
            _kill(proc)


def _kill(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=KILL_GRACE_S)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def _wait(
    tasks: list[_Task],
    deadline_s: float | None,
    cancel: threading.Event | None,
    execution: JobExecution,
) -> None:
    """Start the tasks and block until all end; JobCancelled or JobTimeout stop the wait."""
    remaining = [len(tasks)]
    all_done = threading.Event()
    count_lock = threading.Lock()

    def finished() -> None:
        with count_lock:
            remaining[0] -= 1
            if remaining[0] == 0:
                all_done.set()

    for task in tasks:
        task.on_exit = finished
        task.thread.start()
    started = time.monotonic()
    # Completion wakes the wait at once; the poll interval only paces cancel/deadline checks.
    while not all_done.wait(0.05):
        if cancel is not None and cancel.is_set():
            raise JobCancelled()
        if deadline_s is not None and time.monotonic() - started > deadline_s:
            raise JobTimeout(execution)


class LocalJobRunner:
    """Runs job executions as local processes; `history` lists every execution started."""

    def __init__(
        self,
        jobs: Mapping[str, JobSpec],
        *,
        base_env: Mapping[str, str],
        parallelism: int | None = None,
    ) -> None:
        self.jobs = dict(jobs)
        self.base_env = dict(base_env)
        self.parallelism = parallelism
        self.history: list[JobExecution] = []
        self._lock = threading.Lock()

    def run(
        self,
        request: RunRequest,
        *,
        log_root: Path,
        deadline_s: float | None = None,
        cancel: threading.Event | None = None,
    ) -> JobExecution:
        """Run one execution to the end; JobTimeout past `deadline_s`, JobCancelled on `cancel`."""
        spec = self.jobs[request.job]
        if not 1 <= request.task_count <= MAX_TASKS:
            raise ValueError(f"taskCount must be 1..{MAX_TASKS}, not {request.task_count}")
        name = _execution_name(request.deployed_name)
        log_dir = Path(log_root) / name
        log_dir.mkdir(parents=True, exist_ok=True)
        execution = JobExecution(
            name,
            request.job,
            request.deployed_name,
            request.task_count,
            str(log_dir),
            time.time(),
        )
        with self._lock:
            self.history.append(execution)
        slots = threading.Semaphore(self.parallelism or request.task_count)
        tasks = [_Task(self, spec, request, execution, i, slots) for i in range(request.task_count)]
        execution.tasks = [t.outcome for t in tasks]
        try:
            _wait(tasks, deadline_s, cancel, execution)
        except BaseException:
            for task in tasks:
                task.stop()
            for task in tasks:
                task.thread.join()
            execution.finished = time.time()
            raise
        execution.finished = time.time()
        return execution

    def executions_of(self, job: str) -> Sequence[JobExecution]:
        """The executions of one job run so far."""
        with self._lock:
            return [e for e in self.history if e.job == job]
