"""The local Cloud Run Jobs runner: one process per task, Cloud Run's env, retries, timeouts.

The jobs here are tiny `python -c` programs standing in for step containers, so each test
shows one behaviour of the runner in well under a second.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path

import pytest

from baton.jobs import load_jobs
from baton_twin.jobrunner import (
    JobCancelled,
    JobSpec,
    JobTimeout,
    LocalJobRunner,
    RunRequest,
    baton_jobs,
)

DUMP_ENV = """
import json, os, sys
keys = [k for k in os.environ if k.startswith(("CLOUD_RUN_", "BATON_", "EXTRA"))]
out = os.path.join(sys.argv[1], "task-" + os.environ["CLOUD_RUN_TASK_INDEX"] + ".json")
json.dump({"env": {k: os.environ[k] for k in keys}, "argv": sys.argv[2:]}, open(out, "w"))
"""
FAIL_FIRST_ATTEMPT = """
import os, sys
sys.exit(75 if os.environ["CLOUD_RUN_TASK_ATTEMPT"] == "0" else 0)
"""


def job(name: str, code: str, *, retries: int = 0, timeout: float = 30) -> JobSpec:
    return JobSpec(name, (sys.executable, "-c", code), timeout, retries)


def runner(*specs: JobSpec, parallelism: int | None = None) -> LocalJobRunner:
    return LocalJobRunner(
        {s.name: s for s in specs}, base_env={"BATON_HOME": "/nowhere"}, parallelism=parallelism
    )


def test_every_baton_job_runs_its_step_module_in_this_python() -> None:
    jobs = baton_jobs()
    assert list(jobs) == [j.name for j in load_jobs()]
    for j in load_jobs():
        assert jobs[j.name].command == (sys.executable, "-m", j.module)
        assert (jobs[j.name].timeout_s, jobs[j.name].max_retries) == (j.timeout_s, j.max_retries)


def test_each_task_gets_cloud_run_variables_and_the_override_env(tmp_path: Path) -> None:
    r = runner(job("dump", DUMP_ENV))
    request = RunRequest(
        "dump", "baton-dump", (str(tmp_path), "run", "--force"), {"EXTRA": "1"}, task_count=3
    )
    execution = r.run(request, log_root=tmp_path / "logs")
    assert execution.succeeded and execution.succeeded_count == 3
    seen = [json.loads((tmp_path / f"task-{i}.json").read_text()) for i in range(3)]
    for i, task in enumerate(seen):
        assert task["argv"] == ["run", "--force"]
        assert task["env"] == {
            "BATON_HOME": "/nowhere",
            "EXTRA": "1",
            "CLOUD_RUN_JOB": "baton-dump",
            "CLOUD_RUN_EXECUTION": execution.name,
            "CLOUD_RUN_TASK_INDEX": str(i),
            "CLOUD_RUN_TASK_COUNT": "3",
            "CLOUD_RUN_TASK_ATTEMPT": "0",
            "BATON_TWIN_IDENTITY": "step:dump",
        }
    assert execution.name.startswith("baton-dump-")


def test_no_override_makes_a_task_run_as_another_jobs_identity(tmp_path: Path) -> None:
    r = runner(job("dump", DUMP_ENV))
    env = {"BATON_TWIN_IDENTITY": "step:load"}
    request = RunRequest("dump", "baton-dump", (str(tmp_path), "run"), env)
    assert r.run(request, log_root=tmp_path / "logs").succeeded
    seen = json.loads((tmp_path / "task-0.json").read_text())
    assert seen["env"]["BATON_TWIN_IDENTITY"] == "step:dump"


def test_a_failed_task_is_retried_up_to_max_retries(tmp_path: Path) -> None:
    r = runner(job("flaky", FAIL_FIRST_ATTEMPT, retries=1))
    execution = r.run(RunRequest("flaky", "baton-flaky"), log_root=tmp_path)
    assert execution.succeeded
    assert execution.tasks[0].exit_codes == [75, 0]
    assert execution.retried_count == 1


def test_a_task_out_of_retries_fails_the_execution_after_every_task_ran(tmp_path: Path) -> None:
    code = "import os, sys; sys.exit(4 if os.environ['CLOUD_RUN_TASK_INDEX'] == '1' else 0)"
    r = runner(job("half", code, retries=2))
    execution = r.run(RunRequest("half", "baton-half", task_count=3), log_root=tmp_path)
    assert not execution.succeeded
    assert (execution.succeeded_count, execution.failed_count) == (2, 1)
    assert execution.tasks[1].exit_codes == [4, 4, 4]


def test_task_output_goes_to_its_log_file(tmp_path: Path) -> None:
    r = runner(job("talk", "print('hello from the task')"))
    execution = r.run(RunRequest("talk", "baton-talk"), log_root=tmp_path)
    log = Path(execution.tasks[0].log_path).read_text()
    assert "hello from the task" in log
    assert Path(execution.log_dir).parent == tmp_path


def test_a_task_past_its_timeout_is_killed_and_fails(tmp_path: Path) -> None:
    r = runner(job("slow", "import time; time.sleep(30)", timeout=0.3))
    started = time.monotonic()
    execution = r.run(RunRequest("slow", "baton-slow"), log_root=tmp_path)
    assert time.monotonic() - started < 5
    assert not execution.succeeded
    assert execution.tasks[0].exit_codes[0] < 0  # killed by a signal


def test_the_override_timeout_replaces_the_jobs_timeout(tmp_path: Path) -> None:
    r = runner(job("slow", "import time; time.sleep(30)", timeout=60))
    request = RunRequest("slow", "baton-slow", task_timeout_s=0.3)
    assert not r.run(request, log_root=tmp_path).succeeded


def test_parallelism_bounds_tasks_running_at_once(tmp_path: Path) -> None:
    code = f"""
import os, time
stamp = os.path.join({str(tmp_path)!r}, "t" + os.environ["CLOUD_RUN_TASK_INDEX"])
open(stamp, "w").write(f"{{time.time()}}\\n")
time.sleep(0.3)
open(stamp, "a").write(f"{{time.time()}}\\n")
"""
    r = runner(job("nap", code), parallelism=2)
    r.run(RunRequest("nap", "baton-nap", task_count=4), log_root=tmp_path / "logs")
    spans = [tuple(map(float, p.read_text().split())) for p in tmp_path.glob("t*")]
    assert len(spans) == 4
    peak = max(sum(s <= t < e for s, e in spans) for t, _ in spans)
    assert peak == 2


def test_a_deadline_kills_the_execution(tmp_path: Path) -> None:
    r = runner(job("slow", "import time; time.sleep(30)"))
    with pytest.raises(JobTimeout) as caught:
        r.run(RunRequest("slow", "baton-slow"), log_root=tmp_path, deadline_s=0.3)
    assert caught.value.execution.finished is not None


def test_cancel_kills_the_running_tasks(tmp_path: Path) -> None:
    r = runner(job("slow", "import time; time.sleep(30)"))
    cancel = threading.Event()
    threading.Timer(0.3, cancel.set).start()
    started = time.monotonic()
    with pytest.raises(JobCancelled):
        r.run(RunRequest("slow", "baton-slow"), log_root=tmp_path, cancel=cancel)
    assert time.monotonic() - started < 5


def test_history_lists_every_execution(tmp_path: Path) -> None:
    r = runner(job("ok", "pass"))
    for _ in range(2):
        r.run(RunRequest("ok", "baton-ok"), log_root=tmp_path)
    assert [e.job for e in r.executions_of("ok")] == ["ok", "ok"]
