"""When the orchestrator dies (SIGKILL) or cannot write: its execution record reads FAILED, Abandoned
(its process is gone on this host, or its heartbeat stopped) instead of ACTIVE for ever, the task
processes it started die with it, and a final state that cannot be saved still ends the wait."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from full_disk import fill, tmpfs

from baton_engine import ExecutionStore
from baton_engine.runtime.records import STALE_S, ExecutionRecord

SLEEPER = "main:\n  steps:\n    - wait:\n        call: sys.sleep\n        args: {seconds: 60}\n"
ORCHESTRATOR = """
import sys
from pathlib import Path
from baton_engine import Engine, ExecutionStore
engine = Engine(ExecutionStore(Path(sys.argv[1])))
print(engine.start(sys.argv[2]), flush=True)
engine.wait(engine.list()[0].id)
"""
RUNNER = """
import sys
from pathlib import Path
from baton_twin.jobrunner import JobSpec, LocalJobRunner, RunRequest
task = "import os, sys, time; open(sys.argv[1], 'w').write(str(os.getpid())); time.sleep(60)"
spec = JobSpec("sleep", (sys.executable, "-c", task), 120, 0)
runner = LocalJobRunner({"sleep": spec}, base_env={})
runner.run(RunRequest("sleep", "baton-sleep", (sys.argv[1],)), log_root=Path(sys.argv[2]))
"""


def _wait_for(predicate, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "Z" not in _state(pid)


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[1].split()[0]
    except (FileNotFoundError, IndexError):
        return "Z"


def test_an_execution_whose_orchestrator_was_killed_reads_failed_as_abandoned(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-c", ORCHESTRATOR, str(tmp_path), SLEEPER], stdout=subprocess.PIPE
    )
    execution_id = proc.stdout.readline().decode().strip()
    store = ExecutionStore(tmp_path)
    assert store.get(execution_id).state == "ACTIVE"
    assert store.get(execution_id).pid == proc.pid

    proc.send_signal(signal.SIGKILL)
    proc.wait()

    record = store.get(execution_id)
    assert (record.state, record.error["tags"]) == ("FAILED", ["Abandoned"])
    assert f"process {proc.pid} on {socket.gethostname()}" in record.error["message"]
    assert f"baton rerun --execution {execution_id}" in record.error["message"]


def test_an_active_execution_on_another_host_is_abandoned_once_its_heartbeat_is_stale(tmp_path):
    store = ExecutionStore(tmp_path)
    record = ExecutionRecord(id="e1", workflow="w", argument=None, start=time.time())
    folder = store.create(record, SLEEPER)
    data = json.loads((folder / "execution.json").read_text())
    (folder / "execution.json").write_text(json.dumps({**data, "host": "elsewhere"}))
    assert store.get("e1").state == "ACTIVE"

    old = time.time() - STALE_S - 5
    os.utime(folder / "heartbeat", (old, old))

    assert store.get("e1").error["tags"] == ["Abandoned"]
    assert "has not shown a sign of life" in store.get("e1").error["message"]


def test_task_processes_die_with_a_killed_runner(tmp_path):
    pid_file = tmp_path / "task.pid"
    proc = subprocess.Popen([sys.executable, "-c", RUNNER, str(pid_file), str(tmp_path / "logs")])
    _wait_for(lambda: pid_file.exists() and pid_file.read_text())
    task_pid = int(pid_file.read_text())

    proc.send_signal(signal.SIGKILL)
    proc.wait()

    _wait_for(lambda: not _alive(task_pid), timeout=10)


def test_a_final_state_that_cannot_be_saved_fails_the_execution_saying_where(tmp_path):
    with tmpfs(tmp_path / "disk", "1m") as disk:
        store = ExecutionStore(disk / "executions")
        record = ExecutionRecord(id="e1", workflow="w", argument=None, start=time.time())
        store.create(record, SLEEPER)
        fill(disk)
        record.state, record.result = "SUCCEEDED", {"big": "x" * 100_000}

        store.save(record)

        seen = store.get("e1")
        assert seen.state == "FAILED"
        assert seen.error["tags"] == ["RecordWriteError"]
        assert str(disk / "executions" / "e1" / "execution.json") in seen.error["message"]
        assert "No space left on device, 0 bytes free" in seen.error["message"]
        assert seen.error["outcome"] == "SUCCEEDED"


def test_step_entries_that_cannot_be_written_fail_the_execution_saying_where(tmp_path):
    with tmpfs(tmp_path / "disk", "1m") as disk:
        store = ExecutionStore(disk / "executions")
        record = ExecutionRecord(id="e1", workflow="w", argument=None, start=time.time())
        store.create(record, SLEEPER)
        recorder = store.recorder("e1", time.time)
        fill(disk)

        recorder.step({"path": "main/wait", "state": "succeeded", "pad": "x" * 100_000})
        recorder.close()
        (disk / "filler").unlink()  # room again for the final record
        record.state = "SUCCEEDED"
        store.save(record)

        seen = ExecutionStore(disk / "executions").get("e1")  # as another process reads it
        assert seen.state == "FAILED"
        assert str(disk / "executions" / "e1" / "steps.jsonl") in seen.error["message"]
        assert seen.error["outcome"] == "SUCCEEDED"
