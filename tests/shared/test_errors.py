"""The exit-code table: one enum in code, the same table in docs/exit-codes.md ("The step containers")."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from baton.errors import (
    RETRYABLE_EXIT_CODES,
    BatonError,
    ConfigError,
    DataError,
    ExitCode,
    TransientError,
    UnavailableError,
)
from baton.step import worst_exit

EXIT_CODES_DOC = Path(__file__).resolve().parents[2] / "docs" / "exit-codes.md"
ROW = re.compile(r"^\| (\d+) \| `(\w+)` \| [^|]+ \| (yes|no|-) \|")


def _documented() -> dict[int, tuple[str, str]]:
    text = EXIT_CODES_DOC.read_text()
    section = text.split("\n## The step containers\n", 1)[1].split("\n## ", 1)[0]
    rows = [ROW.match(line) for line in section.splitlines()]
    return {int(m[1]): (m[2], m[3]) for m in rows if m}


def test_the_documented_table_is_the_exit_code_enum():
    assert {code: name for code, (name, _) in _documented().items()} == {
        int(c): c.name for c in ExitCode
    }


def test_the_documented_retry_column_is_the_retryable_set():
    retried = {code for code, (_, retry) in _documented().items() if retry == "yes"}
    assert retried == {int(c) for c in RETRYABLE_EXIT_CODES}


def test_the_codes_are_the_ones_design_fixes():
    assert [int(c) for c in ExitCode] == [0, 1, 2, 3, 4, 5, 75]


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (BatonError, ExitCode.BUG),
        (ConfigError, ExitCode.CONFIG),
        (DataError, ExitCode.DATA),
        (UnavailableError, ExitCode.UNAVAILABLE),
        (TransientError, ExitCode.TRANSIENT),
    ],
)
def test_each_error_class_carries_its_exit_code_and_reason(error, code):
    err = error("what went wrong", reason="stable_code")
    assert err.exit_code == code
    assert err.reason == "stable_code"
    assert str(err) == err.message == "what went wrong"


@pytest.mark.parametrize(
    ("codes", "worst"),
    [
        ([], ExitCode.OK),
        ([ExitCode.OK, ExitCode.OK], ExitCode.OK),
        ([ExitCode.OK, ExitCode.DATA, ExitCode.CONFIG], ExitCode.DATA),
        ([ExitCode.DATA, ExitCode.TRANSIENT], ExitCode.TRANSIENT),
        ([ExitCode.DATA, ExitCode.BUG, ExitCode.TRANSIENT], ExitCode.BUG),
    ],
)
def test_a_task_with_several_partitions_exits_retryably_if_any_can_be_retried(codes, worst):
    assert worst_exit(codes) == worst
