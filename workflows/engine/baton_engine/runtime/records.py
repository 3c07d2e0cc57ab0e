"""Execution records under `$BATON_HOME/executions/<id>/`: enough to show what ran and where
it failed, whether the execution is still running or long finished.

    execution.json  id, workflow, argument, state, result or error, start/end, steps run,
                    peak variable memory, and the orchestrator's process id and host
    heartbeat       touched every HEARTBEAT_S while the orchestrator runs the execution
    source.yaml     the workflow source the execution ran
    steps.jsonl     one line per finished step: path, kind, start, end, state, retries, error
    workflow.log    one line per sys.log call
    jobs/<job execution>/task-<i>.log   output of each local Cloud Run task (its logUri)
    cancel          present once a cancellation was requested (by any process)
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from baton_engine.expr.values import printable


@dataclass
class ExecutionRecord:
    """One execution's state; `result` when it SUCCEEDED, `error` when it FAILED."""

    id: str
    workflow: str
    argument: Any
    state: str = "ACTIVE"  # | SUCCEEDED | FAILED | CANCELLED
    result: Any = None
    error: Any = None
    start: float = 0.0
    end: float | None = None
    source_path: str | None = None
    steps_run: int = 0
    memory_peak_bytes: int = 0  # the most the execution's variables held at once
    pid: int | None = None  # the orchestrator process running it
    host: str = ""  # the host that process runs on
    heartbeat: float | None = None  # its last sign of life (read from the heartbeat file)

    @property
    def duration(self) -> float | None:
        """Seconds from start to end, once finished."""
        return None if self.end is None else self.end - self.start

    def to_dict(self) -> dict[str, Any]:
        """The JSON form written to execution.json."""
        data = asdict(self)
        data["argument"] = printable(self.argument)
        data["result"] = printable(self.result)
        data["error"] = printable(self.error)
        return data


HEARTBEAT_S = 2.0
"""How often a running execution touches its heartbeat file."""
STALE_S = 60.0
"""An ACTIVE execution whose heartbeat is older than this has lost its orchestrator (on another
host, where its process cannot be looked up)."""
HEARTBEAT = "heartbeat"
ABANDONED = "Abandoned"
"""The error tag of an ACTIVE execution whose orchestrator died: it reads as FAILED (a state
every client of the Executions API knows) with this tag, since it will never finish."""


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        tmp.write_text(text)
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    return True


def orchestrator_lost(record: ExecutionRecord, now: float) -> str:
    """Why an ACTIVE record's orchestrator is known to be gone ("" when it may be running):
    its process is dead on this host, or its heartbeat stopped."""
    if record.state != "ACTIVE":
        return ""
    if record.pid is not None and record.host == socket.gethostname():
        if not _process_alive(record.pid):
            return f"its orchestrator (process {record.pid} on {record.host}) is gone"
        if record.pid != os.getpid():
            return ""  # alive elsewhere on this host: trust the process, not the clock
    if record.heartbeat is not None and now - record.heartbeat > STALE_S:
        return (
            f"its orchestrator (process {record.pid} on {record.host or 'an unknown host'}) "
            f"has not shown a sign of life for {now - record.heartbeat:.0f} s"
        )
    return ""


class RecordWriteError(OSError):
    """An execution record cannot be written (a full disk, a read-only home): where and why."""

    def __init__(self, path: Path, err: OSError) -> None:
        free = ""
        with contextlib.suppress(OSError):
            free = f", {_free(path)} bytes free"
        self.message = f"cannot write the execution record {path}: {err.strerror or err}{free}"
        super().__init__(err.errno, self.message)


def _existing(path: Path) -> Path:
    return next(p for p in (path, *path.parents) if p.exists())


def _free(path: Path) -> int:
    stats = os.statvfs(_existing(path))
    return stats.f_bavail * stats.f_frsize


def _fail_for(record: ExecutionRecord, problem: str) -> None:
    """Mark a finished execution FAILED because its record could not be written, keeping what
    it would have been as `outcome`."""
    if isinstance(record.error, dict) and "RecordWriteError" in record.error.get("tags", []):
        return
    outcome = record.error if record.state == "FAILED" else record.state
    record.state = "FAILED"
    record.error = {"message": problem, "tags": ["RecordWriteError"], "outcome": outcome}


def _record_json(record: ExecutionRecord) -> str:
    data = record.to_dict()
    data.pop("heartbeat", None)  # lives in the heartbeat file's mtime
    return json.dumps(data, indent=2, default=str)


class FileRecorder:
    """Appends step entries and log lines of one execution; safe to share between threads."""

    def __init__(
        self,
        folder: Path,
        now: Callable[[], float],
        log_sink: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self._lock = threading.Lock()
        self._steps = (folder / "steps.jsonl").open("a", encoding="utf-8")
        self._log = (folder / "workflow.log").open("a", encoding="utf-8")
        self._now = now
        self._sink = log_sink
        self.problem = ""  # the first record write that failed, where and why
        self._closed = threading.Event()
        self._heartbeat = folder / HEARTBEAT
        threading.Thread(target=self._beat, name="heartbeat", daemon=True).start()

    def _beat(self) -> None:
        """Touch the heartbeat file until closed (a touch needs no free space)."""
        while not self._closed.wait(HEARTBEAT_S):
            with contextlib.suppress(OSError):
                os.utime(self._heartbeat)

    def step(self, entry: dict[str, Any]) -> None:
        line = json.dumps(entry, default=str) + "\n"
        with self._lock:
            self._append(self._steps, line)

    def _append(self, fh: Any, line: str) -> None:
        """Append a line; a write that fails (a full disk) is remembered, not raised: the
        execution goes on, and its final record says it FAILED to keep its record."""
        try:
            fh.write(line)
            fh.flush()
        except OSError as err:
            if not self.problem:
                self.problem = RecordWriteError(Path(fh.name), err).message

    def log(self, severity: str, payload: Any) -> None:
        entry: dict[str, Any] = {"severity": severity, "time": self._now()}
        if isinstance(payload, str):
            entry["textPayload"] = payload
        else:
            entry["jsonPayload"] = printable(payload)
        with self._lock:
            self._append(self._log, json.dumps(entry, default=str) + "\n")
        if self._sink is not None:
            self._sink(entry)

    def close(self) -> None:
        """Stop the heartbeat, flush and close the files."""
        self._closed.set()
        with self._lock:
            for fh in (self._steps, self._log):
                with contextlib.suppress(OSError):
                    fh.close()


class ExecutionStore:
    """The executions folder; every method is safe to call from any process."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._unsaved: dict[str, ExecutionRecord] = {}
        self._recorders: dict[str, FileRecorder] = {}
        self._lock = threading.Lock()

    def folder(self, execution_id: str) -> Path:
        """The record folder of one execution."""
        if not execution_id or "/" in execution_id or execution_id.startswith("."):
            raise LookupError(f"{execution_id!r} is not an execution id")
        return self.root / execution_id

    def create(self, record: ExecutionRecord, source: str) -> Path:
        """Create the folder of a new execution and write its first record."""
        folder = self.folder(record.id)
        record.pid, record.host = os.getpid(), socket.gethostname()
        try:
            folder.mkdir(parents=True, exist_ok=False)
            (folder / "source.yaml").write_text(source)
            (folder / HEARTBEAT).touch()
            _write_atomic(folder / "execution.json", _record_json(record))
        except OSError as err:
            raise RecordWriteError(folder, err) from err
        return folder

    def save(self, record: ExecutionRecord) -> None:
        """Write execution.json (atomically: readers see the old or the new record).

        When it cannot be written (a full disk), the execution is FAILED with an error saying
        which file and why, kept in memory for this process: a final state that cannot be
        saved must not leave the execution ACTIVE for whoever waits on it here."""
        path = self.folder(record.id) / "execution.json"
        with self._lock:
            recorder = self._recorders.get(record.id)
        if record.state != "ACTIVE" and recorder is not None and recorder.problem:
            _fail_for(record, recorder.problem)  # its steps or logs could not all be kept
        try:
            _write_atomic(path, _record_json(record))
        except OSError as err:
            _fail_for(record, RecordWriteError(path, err).message)
            with self._lock:
                self._unsaved[record.id] = record
            return
        with self._lock:
            self._unsaved.pop(record.id, None)
            if record.state != "ACTIVE":
                self._recorders.pop(record.id, None)

    def get(self, execution_id: str) -> ExecutionRecord:
        """One execution's record; LookupError when there is none.

        An ACTIVE record whose orchestrator is gone (see `orchestrator_lost`) reads as FAILED
        with an `Abandoned` error saying so: it will never finish, and may be rerun."""
        with self._lock:
            unsaved = self._unsaved.get(execution_id)
        if unsaved is not None:
            return dataclasses.replace(unsaved)
        folder = self.folder(execution_id)
        try:
            data = json.loads((folder / "execution.json").read_text())
        except FileNotFoundError:
            raise LookupError(f"no execution {execution_id} in {self.root}") from None
        record = ExecutionRecord(**data)
        with contextlib.suppress(OSError):
            record.heartbeat = (folder / HEARTBEAT).stat().st_mtime
        lost = orchestrator_lost(record, time.time())
        if lost:
            record.state, record.end = "FAILED", record.heartbeat
            record.error = {
                "message": f"the execution was abandoned: {lost}; rerun it with "
                f"`baton rerun --execution {record.id}`",
                "tags": [ABANDONED],
            }
        return record

    def list(self) -> list[ExecutionRecord]:
        """Every execution, newest first."""
        if not self.root.is_dir():
            return []
        records = []
        for child in self.root.iterdir():
            if (child / "execution.json").is_file():
                try:
                    records.append(self.get(child.name))
                except (LookupError, json.JSONDecodeError, TypeError):
                    continue
        return sorted(records, key=lambda r: r.start, reverse=True)

    def steps(self, execution_id: str) -> list[dict[str, Any]]:
        """The step entries of an execution, in the order they finished."""
        return _read_lines(self.folder(execution_id) / "steps.jsonl")

    def logs(self, execution_id: str) -> list[dict[str, Any]]:
        """The sys.log entries of an execution."""
        return _read_lines(self.folder(execution_id) / "workflow.log")

    def request_cancel(self, execution_id: str) -> None:
        """Ask a running execution (in this or another process) to stop."""
        folder = self.folder(execution_id)
        if not (folder / "execution.json").is_file():
            raise LookupError(f"no execution {execution_id} in {self.root}")
        (folder / "cancel").touch()

    def cancel_requested(self, execution_id: str) -> bool:
        """Whether someone asked this execution to stop."""
        return (self.folder(execution_id) / "cancel").exists()

    def recorder(
        self,
        execution_id: str,
        now: Callable[[], float],
        log_sink: Callable[[dict[str, Any]], None] | None = None,
    ) -> FileRecorder:
        """The recorder an execution writes its steps and logs through (`now` stamps logs)."""
        recorder = FileRecorder(self.folder(execution_id), now, log_sink)
        with self._lock:
            self._recorders[execution_id] = recorder
        return recorder


def _read_lines(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                continue  # a line being written right now
    return out
