"""The scenarios: each injects one kind of fault into a fresh lab, then converges it (at most
three operator reruns) and fills in its Figures."""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path

from baton import datasets
from baton.lake import STEPS, manifest_key
from baton_cli.status import State, status_grid
from chaos.invariants import DATASET, Figures
from chaos.lab import BATON, Lab

MAX_RERUNS = 3


def _span(days: Sequence[date]) -> list[str]:
    return ["--start", min(days).isoformat(), "--end", max(days).isoformat()]


def converge(lab: Lab, days: Sequence[date], figures: Figures) -> None:
    """Rerun as an operator would until every partition is current (at most MAX_RERUNS): first
    `backfill --only-missing`, then a forced `rerun --step S --downstream` from each partition's
    first step that is not committed."""
    steps = STEPS[:3] if lab.gcs else STEPS
    for attempt in range(1, MAX_RERUNS + 1):
        figures.attempts = max(figures.attempts, attempt)
        if lab.gcs:
            _converge_gcs(lab, days, force=attempt > 1)
        elif attempt == 1:
            lab.baton("backfill", *_span(days), "--only-missing", "--concurrency", "2")
        else:
            # `status --verify` also finds a file changed in place (its recorded digest)
            for row in status_grid(lab.storage, datasets.get(DATASET), days, verify=True):
                first = next((c.step for c in row.cells if c.state is not State.COMMITTED), None)
                if first is not None:
                    lab.baton(
                        "rerun", "--date", row.day.isoformat(), "--step", first, "--downstream"
                    )
        grid = status_grid(lab.storage, datasets.get(DATASET), days)
        if all(c.state is State.COMMITTED for r in grid for c in r.cells if c.step in steps):
            return
    figures.violations.append(f"did not converge within {MAX_RERUNS} reruns")


def _converge_gcs(lab: Lab, days: Sequence[date], *, force: bool) -> None:
    for day in days:
        for step in STEPS[:3]:
            if lab.run_step(step, day, force=force) != 0:
                break


def kill_steps(lab: Lab, days: Sequence[date], rng: random.Random, kills: int, f: Figures) -> None:
    """SIGKILL step processes at random moments: while importing, reading, writing Parquet,
    writing the manifest or loading the warehouse; the other steps run to their end."""
    steps = STEPS[:3] if lab.gcs else STEPS
    while f.faults < kills:
        for day in days:
            for step in steps:
                if rng.random() < 0.6 and f.faults < kills:
                    f.faults += lab.kill_step(
                        step, day, rng.uniform(0.3, 3.0), force=rng.random() < 0.5
                    )
                else:
                    lab.run_step(step, day)


def _orphans(lab: Lab) -> list[int]:
    """Processes still running with this lab's home in their environment."""
    marker = f"BATON_HOME={lab.home}".encode()
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit() and int(proc.name) != os.getpid():
            with contextlib.suppress(OSError):
                if marker in (proc / "environ").read_bytes().split(b"\0"):
                    found.append(int(proc.name))
    return found


KILL_TRIES = 5
"""Backfills started to catch one mid-run (steps are fast: one may end before its kill)."""


def _backfill_into_its_jobs(
    lab: Lab, days: Sequence[date], rng: random.Random
) -> subprocess.Popen[bytes] | None:
    """A forced `baton backfill` caught while its step processes run, at a random moment
    into them (imports, reads, writes, loads); None when every try ended first."""
    for _ in range(KILL_TRIES):
        proc = lab.start([BATON, *("backfill", *_span(days), "--force", "--concurrency", "2")])
        deadline = time.monotonic() + 180
        while proc.poll() is None and time.monotonic() < deadline:
            if set(_orphans(lab)) - {proc.pid}:  # a step process runs
                break
            time.sleep(0.05)
        time.sleep(rng.uniform(0.05, 1.5))
        if proc.poll() is None:
            return proc
        proc.communicate()
    return None


def kill_orchestrator(
    lab: Lab, days: Sequence[date], rng: random.Random, kills: int, f: Figures
) -> None:
    """SIGKILL `baton backfill` (the orchestrator alone) mid-run; its step processes must die
    with it and its execution must read FAILED as abandoned, then `rerun --execution` must work."""
    for _ in range(kills):
        proc = _backfill_into_its_jobs(lab, days, rng)
        if proc is None:
            f.violations.append(f"no backfill ran long enough to be killed ({KILL_TRIES} tries)")
            continue
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate()
        f.faults += 1
        deadline = time.monotonic() + 15
        while _orphans(lab) and time.monotonic() < deadline:
            time.sleep(0.2)
        for pid in _orphans(lab):
            f.violations.append(f"step process {pid} outlived its orchestrator")
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        code, out = lab.baton("executions", "list", "--json", "--limit", "1")
        listed = json.loads(out) if code == 0 else []
        error = (listed[0].get("error") or {}) if listed else {}
        if not listed or listed[0]["state"] != "FAILED" or "Abandoned" not in str(error):
            f.violations.append(
                f"killed execution listed as {listed[0]['state'] if listed else '?'}: {error}"
            )
            continue
        code, out = lab.baton("rerun", "--execution", listed[0]["id"])
        if code not in (0, 1):
            f.violations.append(f"rerun --execution of an abandoned execution exited {code}")


def overlapping_backfills(
    lab: Lab, days: Sequence[date], rng: random.Random, rounds: int, f: Figures
) -> None:
    """A plain and a --force backfill of the same range at once."""
    for _ in range(rounds):
        procs = [
            lab.start([BATON, "backfill", *_span(days), "--concurrency", "2", *extra])
            for extra in ((), ("--force",))
        ]
        for proc in procs:
            lab.finish(proc, "overlapping backfill", timeout=600)
        f.faults += 1


def concurrent_force(
    lab: Lab, days: Sequence[date], rng: random.Random, rounds: int, f: Figures
) -> None:
    """Three forced runs of one step for one date at once (transform, then load)."""
    steps = ("transform",) if lab.gcs else ("transform", "load")
    for _ in range(rounds):
        day = rng.choice(list(days))
        for step in STEPS[:3] if lab.gcs else STEPS:  # commit the partition first
            lab.run_step(step, day)
        for step in steps:
            procs = [lab.start(lab.step_command(step, day, force=True)) for _ in range(3)]
            for proc in procs:
                code = lab.finish(proc, f"{step} {day} concurrent")
                lab.codes.append(code)
                if code not in (0, 75):
                    f.violations.append(f"concurrent {step} {day} exited {code}")
            f.faults += 1


def _truncate_manifest(lab: Lab, day: date, step: str) -> None:
    path = Path(lab.lake) / manifest_key(step, DATASET, day)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _wrong_shape(lab: Lab, day: date, step: str) -> None:
    (Path(lab.lake) / manifest_key(step, DATASET, day)).write_text('{"files": 3}')


def _delete_named_file(lab: Lab, day: date, step: str) -> None:
    manifest = json.loads((Path(lab.lake) / manifest_key(step, DATASET, day)).read_text())
    (Path(lab.lake) / manifest["files"][0]["key"]).unlink()


def _garble_named_file(lab: Lab, day: date, step: str) -> None:
    manifest = json.loads((Path(lab.lake) / manifest_key(step, DATASET, day)).read_text())
    path = Path(lab.lake) / manifest["files"][0]["key"]
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle - 512 : middle + 512] = bytes(range(256)) * 4
    path.write_bytes(bytes(data))


TORN: dict[str, Callable[[Lab, date, str], None]] = {
    "truncated manifest": _truncate_manifest,
    "manifest of the wrong shape": _wrong_shape,
    "manifest naming a deleted file": _delete_named_file,
    "garbage in a named Parquet file": _garble_named_file,
}


def torn_files(lab: Lab, days: Sequence[date], rng: random.Random, _: int, f: Figures) -> None:
    """Each kind of torn file under an upstream step; the next step must fail as bad data
    (exit 4), never crash."""
    downstream = {"extract": "transform", "transform": "validate", "validate": "load"}
    for kind, tear in TORN.items():
        day, upstream = rng.choice(list(days)), rng.choice(list(downstream))
        tear(lab, day, upstream)
        f.faults += 1
        code = lab.run_step(downstream[upstream], day, force=True)
        if code != 4:
            f.violations.append(
                f"{kind} under {upstream} {day}: {downstream[upstream]} exited {code}"
            )
        repair = Figures(kind)
        converge(lab, days, repair)  # repaired before the next kind is torn
        f.attempts = max(f.attempts, repair.attempts)
        f.violations += [f"{kind}: {v}" for v in repair.violations]


def full_disk(lab: Lab, days: Sequence[date], rng: random.Random, _: int, f: Figures) -> None:
    """The home on a full disk (filled but a small reserve for the execution record): the
    backfill must end (no hang) and its steps fail as unavailable, never as bugs."""
    free = lab.home / "filler"
    with free.open("wb", buffering=0) as fh:
        with contextlib.suppress(OSError):
            while True:
                fh.write(b"\0" * (1 << 20))
        with contextlib.suppress(OSError):
            while True:
                fh.write(b"\0" * 4096)
    with contextlib.suppress(OSError):
        os.truncate(free, free.stat().st_size - 256 * 1024)  # room for records, not data
    f.faults += 1
    code, out = lab.baton("backfill", *_span(days), "--force", "--concurrency", "2", timeout=600)
    logs = " ".join(
        p.read_text(errors="replace") for p in lab.home.glob("executions/*/jobs/*/*.log")
    )
    if code == -9:
        f.violations.append("the backfill on a full disk hung")
    elif "no_space" not in out + logs and "no space" not in out + logs:
        f.violations.append(f"the backfill on a full disk did not say so (exit {code})")
    free.unlink()


def gcs_faults(
    lab: Lab,
    days: Sequence[date],
    rng: random.Random,
    target: int,
    f: Figures,
    *,
    error_rate: float = 0.15,
) -> None:
    """Forced chains on the gs:// lake behind the fault-injecting proxy until `target` faults
    (429/500/503 answers, connection resets, slow answers) were injected; the storage retries
    must absorb them or fail retryably. Then the faults stop and the operator reruns."""
    proxy = lab.proxy
    proxy.faults.error_rate, proxy.faults.slow_rate = error_rate, 0.05
    passes = 0
    while proxy.faults.injected < target and passes < 200:
        passes += 1
        for day in days:
            for step in STEPS[:3]:
                code = lab.run_step(step, day, force=True)
                if code not in (0, 75):
                    f.violations.append(f"{step} {day} under GCS faults exited {code}")
                if code != 0:
                    break
    f.faults = proxy.faults.injected
    proxy.faults.error_rate = proxy.faults.slow_rate = 0.0
