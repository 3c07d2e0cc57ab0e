"""Errors as Cloud Workflows sees them: raised values (maps with `message` and `tags`, or any
value a `raise` step gives), and the problems found in a workflow definition before it runs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class WorkflowError(Exception):
    """An error raised inside a workflow; `value` is what `except: as: e` binds."""

    def __init__(self, value: Any) -> None:
        super().__init__(value)
        self.value = value

    @property
    def tags(self) -> list[str]:
        """The error's tags (empty for a raised string or a map without tags)."""
        if isinstance(self.value, dict) and isinstance(self.value.get("tags"), list):
            return list(self.value["tags"])
        return []

    def __str__(self) -> str:
        if isinstance(self.value, dict) and "message" in self.value:
            return f"{'/'.join(self.tags) or 'Error'}: {self.value['message']}"
        return repr(self.value)


def fail(tag: str, message: str, **extra: Any) -> WorkflowError:
    """A built-in error of one documented tag, ready to raise."""
    return WorkflowError({"message": message, "tags": [tag], **extra})


class LimitExceeded(BaseException):
    """A platform limit (memory, steps) was exceeded: the execution fails at once with `error`.

    Not a WorkflowError, so no `except` or retry sees it: the error-types table says a
    ResourceLimitError raised internally "cannot be caught and causes immediate execution
    failure" (https://cloud.google.com/workflows/docs/reference/syntax/error-types).
    """

    def __init__(self, error: WorkflowError) -> None:
        super().__init__(error)
        self.error = error


class Cancelled(BaseException):
    """The execution was cancelled; unwinds every step and is never caught by `except`."""


@dataclass(frozen=True)
class Issue:
    """One problem in a workflow definition, located by its step path."""

    path: str
    message: str
    severity: str = "error"  # error | warning

    def __str__(self) -> str:
        return f"{self.severity}: {self.path}: {self.message}"


class EngineError(Exception):
    """An error the engine raises to its caller (never inside a workflow); `reason` is a stable
    code. The CLI maps these to its exit codes; the engine knows none."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason


class DefinitionError(EngineError):
    """The workflow definition is invalid (a deployment would be rejected); `issues` lists every
    problem found."""

    def __init__(self, issues: list[Issue]) -> None:
        super().__init__("\n".join(str(i) for i in issues), reason="invalid_workflow")
        self.issues = issues


class ArgumentError(EngineError):
    """The execution argument cannot be accepted (not JSON, or over the 32 KB limit)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, reason="invalid_argument")
