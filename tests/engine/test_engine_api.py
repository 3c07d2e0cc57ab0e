"""The Engine API and its execution records: what ran, where it failed, cancellation, limits."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from baton_engine import (
    ArgumentError,
    DefinitionError,
    Engine,
    EngineError,
    ExecutionStore,
    Limits,
    VirtualClock,
)
from baton_engine.runtime.clock import RealClock

RETRYING = """
main:
  params: [args]
  steps:
    - init:
        assign:
          - n: 0
    - flaky:
        try:
          steps:
            - count:
                assign:
                  - n: ${n + 1}
            - fail:
                switch:
                  - condition: ${n < 3}
                    raise: {message: not yet, tags: [Flaky]}
        retry:
          predicate: ${retry.always}
          max_retries: 5
          backoff: {initial_delay: 1, max_delay: 10, multiplier: 2}
    - log:
        call: sys.log
        args:
          severity: INFO
          json: {attempts: "${n}"}
    - done:
        return: ${args.x + n}
"""
SLEEPY = """
main:
  steps:
    - nap:
        call: sys.sleep
        args: {seconds: 30}
    - done:
        return: woke
"""


def engine(tmp_path: Path, **kwargs: object) -> Engine:
    return Engine(ExecutionStore(tmp_path / "executions"), clock=VirtualClock(), **kwargs)  # type: ignore[arg-type]


def test_a_finished_execution_is_recorded_with_its_result(tmp_path: Path) -> None:
    eng = engine(tmp_path)
    record = eng.run(RETRYING, {"x": 10}, workflow_id="flaky", source_path="flaky.yaml")
    stored = json.loads((tmp_path / "executions" / record.id / "execution.json").read_text())
    assert stored["id"] == record.id
    assert stored["workflow"] == "flaky"
    assert stored["source_path"] == "flaky.yaml"
    assert stored["argument"] == {"x": 10}
    assert stored["state"] == "SUCCEEDED"
    assert stored["result"] == 13
    assert stored["end"] - stored["start"] == pytest.approx(3.0)  # backoff 1 + 2, virtual
    assert (tmp_path / "executions" / record.id / "source.yaml").read_text() == RETRYING


def test_step_entries_show_path_kind_times_and_retries(tmp_path: Path) -> None:
    eng = engine(tmp_path)
    record = eng.run(RETRYING, {"x": 0})
    steps = eng.store.steps(record.id)
    by_path = {s["path"]: s for s in steps if s["state"] == "succeeded"}
    assert by_path["main/flaky"]["name"] == "flaky"
    assert by_path["main/flaky"]["kind"] == "try"
    assert by_path["main/flaky"]["retries"] == 2
    assert by_path["main/done"]["kind"] == "return"
    failed = [s for s in steps if s["state"] == "failed"]
    assert {s["path"] for s in failed} == {"main/flaky/try/fail"}
    assert all(s["end"] >= s["start"] for s in steps)


def test_a_failed_execution_records_its_error(tmp_path: Path) -> None:
    eng = engine(tmp_path)
    record = eng.run("main:\n  steps:\n    - boom:\n        raise: {code: 3, message: bad}\n")
    assert record.state == "FAILED"
    assert eng.get(record.id).error == {"code": 3, "message": "bad"}
    assert eng.store.steps(record.id)[-1]["path"] == "main/boom"


def test_sys_log_lines_are_recorded(tmp_path: Path) -> None:
    lines: list[dict[str, object]] = []
    eng = engine(tmp_path, log_sink=lines.append)
    record = eng.run(RETRYING, {"x": 0})
    assert eng.store.logs(record.id) == lines
    assert lines[0]["severity"] == "INFO"
    assert lines[0]["jsonPayload"] == {"attempts": 3}


def test_list_shows_newest_first(tmp_path: Path) -> None:
    eng = Engine(ExecutionStore(tmp_path), clock=RealClock())
    first = eng.run("- r:\n    return: 1\n")
    second = eng.run("- r:\n    return: 2\n")
    assert [r.id for r in eng.list()] == [second.id, first.id]


def test_an_invalid_workflow_is_rejected_before_anything_runs(tmp_path: Path) -> None:
    eng = engine(tmp_path)
    with pytest.raises(DefinitionError) as caught:
        eng.start("main:\n  steps:\n    - a:\n        next: nowhere\n")
    # The engine's own error (it imports nothing of baton's); the CLI maps it to exit 3.
    assert isinstance(caught.value, EngineError)
    assert caught.value.reason == "invalid_workflow"
    assert [str(i) for i in caught.value.issues] == [
        "error: main/a: next: nowhere names no step reachable from here"
    ]
    assert eng.list() == []


def test_an_argument_over_32_kb_is_rejected(tmp_path: Path) -> None:
    eng = engine(tmp_path)
    with pytest.raises(ArgumentError, match="32768"):
        eng.start("- r:\n    return: 1\n", {"blob": "x" * 33_000})


def test_cancel_stops_a_running_execution(tmp_path: Path) -> None:
    eng = Engine(ExecutionStore(tmp_path), clock=RealClock())
    execution_id = eng.start(SLEEPY)
    time.sleep(0.2)
    eng.cancel(execution_id)
    record = eng.wait(execution_id, timeout=10)
    assert record.state == "CANCELLED"
    assert record.duration is not None and record.duration < 10


def test_a_cancel_requested_from_another_process_is_honoured(tmp_path: Path) -> None:
    eng = Engine(ExecutionStore(tmp_path), clock=RealClock())
    execution_id = eng.start(SLEEPY)
    other_process_view = ExecutionStore(tmp_path)
    other_process_view.request_cancel(execution_id)
    assert eng.wait(execution_id, timeout=10).state == "CANCELLED"


def test_more_steps_than_the_limit_is_a_resource_limit_error(tmp_path: Path) -> None:
    loop = "main:\n  steps:\n    - again:\n        next: again\n"
    record = engine(tmp_path, limits=Limits(max_steps=50)).run(loop)
    assert record.error["tags"] == ["ResourceLimitError"]
    assert record.steps_run == 51


def test_virtual_time_passes_only_while_everything_sleeps(tmp_path: Path) -> None:
    clock = VirtualClock(start=1000.0)
    eng = Engine(ExecutionStore(tmp_path), clock=clock)
    started = time.monotonic()
    record = eng.run(SLEEPY)
    assert record.result == "woke"
    assert clock.now() == 1030.0
    assert time.monotonic() - started < 5


def test_executions_run_side_by_side(tmp_path: Path) -> None:
    eng = Engine(ExecutionStore(tmp_path), clock=VirtualClock())
    ids = [eng.start(SLEEPY) for _ in range(3)]
    records = [eng.wait(i, timeout=10) for i in ids]
    assert [r.state for r in records] == ["SUCCEEDED"] * 3
    assert threading.active_count() < 50


def test_every_name_the_package_exports_resolves_from_its_home_module():
    import importlib

    import baton_engine

    assert sorted(baton_engine.__all__) == sorted(baton_engine._HOME_OF)
    for name in baton_engine.__all__:
        home = importlib.import_module(baton_engine._HOME_OF[name])
        assert getattr(baton_engine, name) is getattr(home, name)
