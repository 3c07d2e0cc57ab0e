"""Structured JSON logs on stdout in the shape Cloud Logging parses (one object per line)."""

from __future__ import annotations

import logging
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


def _gcp_severity(_: Any, method: str, event: dict[str, Any]) -> dict[str, Any]:
    event["severity"] = _SEVERITY.get(event.pop("level", method), "DEFAULT")
    return event


def _gcp_labels(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    labels = {k: str(event[k]) for k in LABEL_KEYS if k in event}
    if labels:
        event["logging.googleapis.com/labels"] = labels
    return event


def configure(level: str = "info", stream: IO[str] | None = None) -> None:
    """Route structlog to one JSON line per event on `stream` (default stdout)."""
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True, key="time"),
            _gcp_severity,
            _gcp_labels,
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
