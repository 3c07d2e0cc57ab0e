"""Structured JSON logs on stdout in the shape Cloud Logging parses (one object per line), with
the trace fields that group one workflow execution's lines across the four step jobs.

Stdlib only (structlog, which this replaced, imported asyncio and more into every step
process). Special fields (https://cloud.google.com/logging/docs/structured-logging): `severity`,
`message`, `logging.googleapis.com/labels`, `logging.googleapis.com/trace` and
`logging.googleapis.com/spanId`. The trace is `projects/PROJECT_ID/traces/TRACE_ID` and a span id
the 16-character hex encoding of 8 bytes, not zero
(https://cloud.google.com/trace/docs/trace-log-integration); a trace id is 32 hex characters
(16 bytes, https://cloud.google.com/trace/docs/reference/v2/rest/v2/projects.traces/batchWrite).
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
import threading
import traceback
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType
from typing import IO, Any

_SEVERITY = {
    "debug": "DEBUG",
    "info": "INFO",
    "warning": "WARNING",
    "error": "ERROR",
    "exception": "ERROR",
    "critical": "CRITICAL",
}
LABEL_KEYS = ("step", "dataset", "partition_date", "execution_id", "task_index", "attempt")
"""Context bound once per run that becomes `logging.googleapis.com/labels` (filterable)."""


TRACE = "logging.googleapis.com/trace"
SPAN = "logging.googleapis.com/spanId"
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def _nonzero(hexed: str) -> str:
    return hexed if hexed.strip("0") else hexed[:-1] + "1"


def trace_id(execution_id: str) -> str:
    """The 32-hex-character trace id of a workflow execution: its UUID's hex digits when the id
    is a UUID (as Workflows execution ids are), else the first 128 bits of its SHA-256."""
    lowered = execution_id.lower()
    if _UUID.match(lowered):
        return _nonzero(lowered.replace("-", ""))
    return _nonzero(hashlib.sha256(execution_id.encode()).hexdigest()[:32])


def span_id(run_id: str) -> str:
    """The 16-hex-character span id of one step run (first 64 bits of its run id's SHA-256)."""
    return _nonzero(hashlib.sha256(run_id.encode()).hexdigest()[:16])


def trace_resource(project: str, execution_id: str) -> str:
    """`projects/PROJECT/traces/TRACE_ID`: what a step line's trace field holds."""
    return f"projects/{project}/traces/{trace_id(execution_id)}"


def trace_fields(project: str, execution_id: str, run_id: str) -> dict[str, str]:
    """The trace and span fields of one step run's log lines."""
    return {TRACE: trace_resource(project, execution_id), SPAN: span_id(run_id)}


_LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40, "critical": 50}


@dataclass(frozen=True)
class _Sink:
    """Where lines go and from which level: what `configure` set."""

    level: int = _LEVELS["info"]
    stream: IO[str] | None = None  # None: the process's stdout when the line is written
    project: str = "local"


_context: ContextVar[Mapping[str, Any]] = ContextVar(
    "baton_log_context", default=MappingProxyType({})
)
_write_lock = threading.Lock()


def _gcp_fields(event: dict[str, Any], method: str, project: str) -> None:
    """Cloud Logging's special fields: severity, the labels bound run context makes, and the
    trace (lines bound to an execution) and span (lines bound to a step run)."""
    event["severity"] = _SEVERITY.get(method, "DEFAULT")
    labels = {k: str(event[k]) for k in LABEL_KEYS if k in event}
    if labels:
        event["logging.googleapis.com/labels"] = labels
    if "execution_id" in event:
        event[TRACE] = trace_resource(project, str(event["execution_id"]))
        if "run_id" in event:
            event[SPAN] = span_id(str(event["run_id"]))


class Logger:
    """The process logger: `info("message", key=value, ...)` writes one JSON line with the
    keywords, the bound context, the time and Cloud Logging's fields."""

    def __init__(self) -> None:
        self.sink = _Sink()  # replaced by `configure`

    def _log(
        self, method: str, message: str, args: tuple[Any, ...], fields: dict[str, Any]
    ) -> None:
        sink = self.sink
        if _LEVELS.get(method, _LEVELS["error"]) < sink.level:
            return
        event = dict(fields)
        for key, value in _context.get().items():
            event.setdefault(key, value)  # a keyword of the call wins over bound context
        event["time"] = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        _gcp_fields(event, method, sink.project)
        if method == "exception":
            event["exception"] = traceback.format_exc().rstrip("\n")
        event["message"] = message % args if args else message
        line = json.dumps(event, default=str) + "\n"
        stream = sink.stream or sys.stdout
        with _write_lock:
            stream.write(line)
            stream.flush()

    def debug(self, message: str, *args: Any, **fields: Any) -> None:
        """A DEBUG line."""
        self._log("debug", message, args, fields)

    def info(self, message: str, *args: Any, **fields: Any) -> None:
        """An INFO line."""
        self._log("info", message, args, fields)

    def warning(self, message: str, *args: Any, **fields: Any) -> None:
        """A WARNING line."""
        self._log("warning", message, args, fields)

    def error(self, message: str, *args: Any, **fields: Any) -> None:
        """An ERROR line."""
        self._log("error", message, args, fields)

    def exception(self, message: str, *args: Any, **fields: Any) -> None:
        """An ERROR line with the traceback of the exception being handled (`exception`)."""
        self._log("exception", message, args, fields)

    def critical(self, message: str, *args: Any, **fields: Any) -> None:
        """A CRITICAL line."""
        self._log("critical", message, args, fields)


_LOGGER = Logger()


def configure(
    level: str = "info", stream: IO[str] | None = None, *, project: str = "local"
) -> None:
    """Write one JSON line per event at `level` and above on `stream` (default stdout);
    `project` is the GCP project the trace fields name."""
    # An unknown level logs at info: the settings check then reports the bad BATON_LOG_LEVEL.
    _LOGGER.sink = _Sink(_LEVELS.get(level.lower(), _LEVELS["info"]), stream or sys.stdout, project)


def bind(context: Mapping[str, Any]) -> None:
    """Bind run context (step, dataset, date, execution, task, attempt) to every later line."""
    _context.set(dict(context))


def get() -> Logger:
    """The process logger."""
    return _LOGGER
