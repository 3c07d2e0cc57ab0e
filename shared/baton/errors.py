"""The one error hierarchy and the exit-code table every baton process speaks.

Exceptions carry a stable reason code; only CLI layers turn them into exit codes.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes, documented in the README. Cloud Run collapses non-zero to "failed",
    so the code is also written to the partition's attempt record for the workflow to read."""

    OK = 0  # also "nothing to do"
    BUG = 1  # unexpected error: a defect in baton
    USAGE = 2  # bad command line (Typer's own code)
    CONFIG = 3  # configuration invalid or missing
    DATA = 4  # input data or a contract violated beyond tolerance
    UNAVAILABLE = 5  # a source or sink is permanently unavailable
    TRANSIENT = 75  # worth retrying (EX_TEMPFAIL)


RETRYABLE_EXIT_CODES = frozenset({ExitCode.BUG, ExitCode.TRANSIENT})
"""Exit codes a retry may fix. Config and data errors fail the same way every time."""


class BatonError(Exception):
    """Base of every error baton raises on purpose. `reason` is a stable machine-readable code."""

    exit_code: ExitCode = ExitCode.BUG

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason


class ConfigError(BatonError):
    """A setting, flag or deployment parameter is wrong; fix the configuration."""

    exit_code = ExitCode.CONFIG


class DataError(BatonError):
    """Input data or a manifest breaks its contract beyond tolerance; fix the data upstream."""

    exit_code = ExitCode.DATA


class UnavailableError(BatonError):
    """A source or sink cannot be reached and retrying will not help (permissions, no bucket)."""

    exit_code = ExitCode.UNAVAILABLE


class TransientError(BatonError):
    """A temporary failure (throttling, 5xx, a connection reset); retrying is worthwhile."""

    exit_code = ExitCode.TRANSIENT


def first_line(err: BaseException) -> str:
    """An exception's first line (later ones may quote the data), or its type's name."""
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__
