"""Execution records under `$BATON_HOME/executions/<id>/`: enough to show what ran and where
it failed, whether the execution is still running or long finished.

    execution.json  id, workflow, argument, state, result or error, start/end, steps run,
                    peak variable memory
    source.yaml     the workflow source the execution ran
    steps.jsonl     one line per finished step: path, kind, start, end, state, retries, error
    workflow.log    one line per sys.log call
    jobs/<job execution>/task-<i>.log   output of each local Cloud Run task (its logUri)
    cancel          present once a cancellation was requested (by any process)
"""

from __future__ import annotations

import json
import os
import threading
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


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


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

    def step(self, entry: dict[str, Any]) -> None:
        line = json.dumps(entry, default=str) + "\n"
        with self._lock:
            self._steps.write(line)
            self._steps.flush()

    def log(self, severity: str, payload: Any) -> None:
        entry: dict[str, Any] = {"severity": severity, "time": self._now()}
        if isinstance(payload, str):
            entry["textPayload"] = payload
        else:
            entry["jsonPayload"] = printable(payload)
        with self._lock:
            self._log.write(json.dumps(entry, default=str) + "\n")
            self._log.flush()
        if self._sink is not None:
            self._sink(entry)

    def close(self) -> None:
        """Flush and close the files."""
        with self._lock:
            self._steps.close()
            self._log.close()


class ExecutionStore:
    """The executions folder; every method is safe to call from any process."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def folder(self, execution_id: str) -> Path:
        """The record folder of one execution."""
        if not execution_id or "/" in execution_id or execution_id.startswith("."):
            raise LookupError(f"{execution_id!r} is not an execution id")
        return self.root / execution_id

    def create(self, record: ExecutionRecord, source: str) -> Path:
        """Create the folder of a new execution and write its first record."""
        folder = self.folder(record.id)
        folder.mkdir(parents=True, exist_ok=False)
        (folder / "source.yaml").write_text(source)
        self.save(record)
        return folder

    def save(self, record: ExecutionRecord) -> None:
        """Write execution.json (atomically: readers see the old or the new record)."""
        _write_atomic(
            self.folder(record.id) / "execution.json",
            json.dumps(record.to_dict(), indent=2, default=str),
        )

    def get(self, execution_id: str) -> ExecutionRecord:
        """One execution's record; LookupError when there is none."""
        path = self.folder(execution_id) / "execution.json"
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            raise LookupError(f"no execution {execution_id} in {self.root}") from None
        return ExecutionRecord(**data)

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
        return FileRecorder(self.folder(execution_id), now, log_sink)


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
