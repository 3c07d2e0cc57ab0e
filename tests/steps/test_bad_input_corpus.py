"""The bad-input corpus (tests/corpus/cases.toml) through the real step command lines: each case
gets its exit code, a message naming the file/column/rule (never the row's values), and leaves
every committed partition and the warehouse untouched."""

from __future__ import annotations

import importlib
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from lakes import JAN_2, Lake, assert_untouched, committed_snapshot, warehouse_tables
from typer.testing import CliRunner

from baton.lake import attempt_key
from baton.manifest import read_attempt
from baton_cli.accounting import ledger

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
CASES = tomllib.loads((CORPUS / "cases.toml").read_text())["case"]
DEFAULT_ARGS = ["run", "--date", JAN_2.isoformat()]


def _invoke(lake: Lake, step: str, args: list[str], env: dict[str, str]) -> tuple[int, str]:
    """Run the step's real Typer app; exit code and everything it printed."""
    app = importlib.import_module(f"baton_{step}.cli").app
    environ = {k: v.replace("{home}", str(lake.home)) for k, v in env.items()}
    result = CliRunner().invoke(app, args, env={**lake.environ(), **environ})
    stderr = getattr(result, "stderr", "") if result.stderr_bytes is not None else ""
    return result.exit_code, result.stdout + stderr


def _mutate(lake: Lake, how: str) -> None:
    action, step = how.split(":")
    manifest_path = (
        lake.root / {"extract": "raw"}[step] / "flights" / f"dt={JAN_2}" / "_manifest.json"
    )
    if action == "truncate_manifest":
        data = manifest_path.read_bytes()
        manifest_path.write_bytes(data[: len(data) // 2])
    elif action == "delete_file":
        for entry in lake.manifest(step, JAN_2).files:
            (lake.root / entry.key).unlink()
    else:
        raise ValueError(f"unknown mutation {how}")


def _flat(text: str) -> str:
    """Text without line wrapping or the box Typer draws around usage errors."""
    return re.sub(r"[\s│╭╮╰╯─]+", " ", text)


def _check_output(output: str, case: dict) -> None:
    for fragment in case.get("message", []):
        assert _flat(fragment) in _flat(output), f"{case['id']}: {fragment!r} not in:\n{output}"
    for value in case.get("forbid", []):
        assert value not in output, f"{case['id']}: the row value {value!r} leaked into the log"


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_bad_input(committed_lake, case):
    lake = committed_lake
    if "landing" in case:
        shutil.copyfile(CORPUS / case["landing"], lake.root / f"landing/flights/{JAN_2}.csv")
    if "mutate" in case:
        _mutate(lake, case["mutate"])
    before, tables = committed_snapshot(lake), warehouse_tables(lake)

    code, output = _invoke(lake, case["step"], case.get("args", DEFAULT_ARGS), case.get("env", {}))

    assert code == case["exit"], output
    _check_output(output, case)
    if "reason" in case:
        record = read_attempt(lake.storage, attempt_key(case["step"], "flights", JAN_2))
        assert (record.outcome, record.exit_code, record.reason) == (
            "failed",
            case["exit"],
            case["reason"],
        )
    if case["outcome"] == "rejected":
        assert_untouched(lake, before, tables)
    elif case["outcome"] == "rejected-downstream":
        _check_downstream_rejection(lake, case)
    else:
        _check_quarantined(lake, case)


def _check_downstream_rejection(lake: Lake, case: dict) -> None:
    env = case.get("env", {})
    assert _invoke(lake, "transform", DEFAULT_ARGS, env)[0] == 0
    validated_before, tables = committed_snapshot(lake), warehouse_tables(lake)
    code, output = _invoke(lake, case["then"], DEFAULT_ARGS, env)
    assert code == case["then_exit"], output
    _check_output(output, {"id": case["id"], "message": case["then_message"]})
    record = read_attempt(lake.storage, attempt_key(case["then"], "flights", JAN_2))
    assert record.reason == case["then_reason"]
    assert_untouched(lake, validated_before, tables)


def _check_quarantined(lake: Lake, case: dict) -> None:
    env = case.get("env", {})
    for step in ("transform", "validate", "load"):
        assert _invoke(lake, step, DEFAULT_ARGS, env)[0] == 0
    reasons: dict[str, int] = {}
    for step in ("extract", "transform", "validate"):
        for rule, n in lake.manifest(step, JAN_2).quarantine_reasons.items():
            reasons[rule] = reasons.get(rule, 0) + n
    assert reasons == case["reasons"]
    (row,) = ledger(lake.storage, "flights", [JAN_2])
    assert (row.loaded, row.balanced) == (case["loaded"], True)


def test_a_truncated_manifest_is_repaired_by_forcing_the_step_that_wrote_it(committed_lake):
    _mutate(committed_lake, "truncate_manifest:extract")
    assert _invoke(committed_lake, "extract", [*DEFAULT_ARGS, "--force"], {})[0] == 0
    assert committed_lake.manifest("extract", JAN_2).rows_out == 943
    assert _invoke(committed_lake, "transform", DEFAULT_ARGS, {})[0] == 0


def test_a_manifest_naming_a_missing_file_is_repaired_by_forcing_the_step(committed_lake):
    _mutate(committed_lake, "delete_file:extract")
    assert _invoke(committed_lake, "extract", [*DEFAULT_ARGS, "--force"], {})[0] == 0
    assert _invoke(committed_lake, "transform", DEFAULT_ARGS, {})[0] == 0


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    [
        (["run", "--date", "2013-02-30"], 2, "is not a date"),
        (["run", "--date", "2013-05-05"], 4, "no landing file for flights 2013-05-05"),
        (["run", "--date", "2013-01-02", "--dataset", "orders"], 3, "unknown dataset"),
    ],
    ids=["usage", "data", "config"],
)
def test_exit_codes_reach_the_operating_system(committed_lake, args, code, fragment):
    done = subprocess.run(
        [sys.executable, "-m", "baton_extract", *args],
        env={**os.environ, **committed_lake.environ()},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == code
    assert fragment in done.stdout + done.stderr
