"""The `baton` command's exit codes (the step entrypoints have theirs in `baton.errors.ExitCode`):
one value per outcome an operator or a script branches on."""

from __future__ import annotations

from enum import IntEnum

from baton.errors import ExitCode


class OperatorExit(IntEnum):
    """What a `baton` verb's exit status means."""

    OK = 0
    EXECUTION_FAILED = 1  # an execution, a job or a partition failed (its rerun command is shown)
    USAGE = int(ExitCode.USAGE)  # bad command line, or no such execution
    CONFIG = int(ExitCode.CONFIG)
    PERMISSION = int(ExitCode.UNAVAILABLE)  # the API refused (credentials, IAM)
    UNAVAILABLE = int(ExitCode.TRANSIENT)  # the API could not be reached; worth retrying
