"""Structured JSON logs on stdout in the shape Cloud Logging parses (one object per line), with
the trace fields that group one workflow execution's lines across the four step jobs.

Special fields (https://cloud.google.com/logging/docs/structured-logging): `severity`,
`message`, `logging.googleapis.com/labels`, `logging.googleapis.com/trace` and
`logging.googleapis.com/spanId`. The trace is `projects/PROJECT_ID/traces/TRACE_ID` and a span id
the 16-character hex encoding of 8 bytes, not zero
(https://cloud.google.com/trace/docs/trace-log-integration); a trace id is 32 hex characters
(16 bytes, https://cloud.google.com/trace/docs/reference/v2/rest/v2/projects.traces/batchWrite).
"""

from __future__ import annotations

import hashlib
import logging
import re
import sys
from collections.abc import Mapping
from typing import IO, Any

import structlog

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


def _gcp_severity(_: Any, method: str, event: dict[str, Any]) -> dict[str, Any]:
    event["severity"] = _SEVERITY.get(event.pop("level", method), "DEFAULT")
    return event


def _gcp_labels(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    labels = {k: str(event[k]) for k in LABEL_KEYS if k in event}
    if labels:
        event["logging.googleapis.com/labels"] = labels
    return event


def _gcp_trace(project: str) -> structlog.typing.Processor:
    """Lines bound to an execution carry its trace; lines bound to a step run, its span."""

    def add(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
        if "execution_id" in event:
            event[TRACE] = trace_resource(project, str(event["execution_id"]))
            if "run_id" in event:
                event[SPAN] = span_id(str(event["run_id"]))
        return event

    return add


def configure(
    level: str = "info", stream: IO[str] | None = None, *, project: str = "local"
) -> None:
    """Route structlog to one JSON line per event on `stream` (default stdout); `project` is
    the GCP project the trace fields name."""
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True, key="time"),
            _gcp_severity,
            _gcp_labels,
            _gcp_trace(project),
            structlog.processors.format_exc_info,
            structlog.processors.EventRenamer("message"),
            structlog.processors.JSONRenderer(default=str),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[level.upper()]
        ),
        logger_factory=structlog.PrintLoggerFactory(file=stream or sys.stdout),
        cache_logger_on_first_use=False,
    )


def bind(context: Mapping[str, Any]) -> None:
    """Bind run context (step, dataset, date, execution, task, attempt) to every later line."""
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(**context)


def get() -> structlog.typing.FilteringBoundLogger:
    """The process logger."""
    return structlog.get_logger()
