"""One chaos lab: a baton home with a seeded lake (a directory, or `gs://` on a loopback GCS
emulator), and the ways to run its steps and the `baton` command as real processes."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from baton.storage import GcsStorage, LocalStorage, Storage
from baton_cli.demo import seed

BATON = str(Path(sys.executable).with_name("baton"))
STEP_TIMEOUT_S = 300  # a step that runs longer than this is a hang, and a finding


@dataclass
class Lab:
    """A home for one scenario; `codes` collects every step exit code seen (1 = a crash)."""

    home: Path
    lake: str  # the lake root: a directory or gs://bucket/prefix
    env: dict[str, str]
    codes: list[int] = field(default_factory=list)
    crashes: list[str] = field(default_factory=list)
    proxy: Any = None  # the GCS proxy in front of the emulator, for a gs:// lab

    @property
    def storage(self) -> Storage:
        return (
            GcsStorage(self.lake)
            if self.lake.startswith("gs://")
            else LocalStorage(Path(self.lake))
        )

    @property
    def gcs(self) -> bool:
        return self.lake.startswith("gs://")

    def step_command(self, step: str, day: date, *, force: bool = False) -> list[str]:
        """The step container's command line for one partition."""
        return [sys.executable, "-m", f"baton_{step}", "run", "--date", day.isoformat()] + (
            ["--force"] if force else []
        )

    def start(self, command: Sequence[str]) -> subprocess.Popen[bytes]:
        """Start a process of this lab (its own session, output captured)."""
        return subprocess.Popen(
            list(command),
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )

    def finish(
        self, proc: subprocess.Popen[bytes], what: str, timeout: float = STEP_TIMEOUT_S
    ) -> int:
        """Wait for a process; record a crash (exit 1 of a step, a traceback, a hang)."""
        try:
            out, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, _ = proc.communicate()
            self.crashes.append(f"{what}: hung for {timeout} s")
            return -9
        text = out.decode(errors="replace")
        if "Traceback" in text or '"reason": "bug"' in text:
            self.crashes.append(f"{what}: {_first_error(text)}")
        return proc.returncode

    def run_step(self, step: str, day: date, *, force: bool = False) -> int:
        """Run one step to its end; its exit code (also recorded)."""
        code = self.finish(self.start(self.step_command(step, day, force=force)), f"{step} {day}")
        self.codes.append(code)
        if code == 1:
            self.crashes.append(f"{step} {day}: exit 1")
        return code

    def kill_step(self, step: str, day: date, after_s: float, *, force: bool = False) -> bool:
        """Start a step and SIGKILL it after `after_s`; whether it was still running."""
        proc = self.start(self.step_command(step, day, force=force))
        time.sleep(after_s)
        alive = proc.poll() is None
        if alive:
            os.killpg(proc.pid, signal.SIGKILL)
        code = self.finish(proc, f"{step} {day} (killed)" if alive else f"{step} {day}")
        if not alive:
            self.codes.append(code)
        return alive

    def baton(self, *args: str, timeout: float = 600) -> tuple[int, str]:
        """Run a `baton` verb to its end; exit code and output."""
        proc = self.start([BATON, *args])
        try:
            out, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, _ = proc.communicate()
            self.crashes.append(f"baton {' '.join(args)}: hung for {timeout} s")
            return -9, out.decode(errors="replace")
        text = out.decode(errors="replace")
        if "Traceback" in text:
            tail = "\n      ".join(text.strip().splitlines()[-25:])
            self.crashes.append(f"baton {' '.join(args)}: {_first_error(text)}\n      {tail}")
        return proc.returncode, text

    def task_logs_crashes(self) -> list[str]:
        """Step crashes recorded in the local job runner's task logs."""
        found = []
        for log in self.home.glob("executions/*/jobs/*/task-*.log"):
            text = log.read_text(errors="replace")
            if '"reason": "bug"' in text or "Traceback" in text:
                found.append(f"{log.relative_to(self.home)}: {_first_error(text)}")
        return found


def _first_error(text: str) -> str:
    for line in text.splitlines():
        if "Traceback" in line or '"reason": "bug"' in line or "Error" in line:
            return line.strip()[:300]
    return text.strip().splitlines()[-1][:300] if text.strip() else "no output"


def local_lab(root: Path, days: Sequence[date]) -> Lab:
    """A fresh home with a seeded local lake."""
    home = root / "home"
    (home / "lake").mkdir(parents=True)
    seed(LocalStorage(home / "lake"), min(days), max(days))
    return Lab(home, str(home / "lake"), _env(home, {}))


def gcs_lab(root: Path, days: Sequence[date], emulator: str, lake: str) -> Lab:
    """A fresh home whose lake is `lake` (gs://) on the emulator (or a proxy) at `emulator`."""
    home = root / "home"
    home.mkdir(parents=True)
    env = _env(home, {"BATON_LAKE": lake, "STORAGE_EMULATOR_HOST": emulator})
    os.environ["STORAGE_EMULATOR_HOST"] = emulator  # this process reads the lab's lake too
    seed(GcsStorage(lake), min(days), max(days))
    return Lab(home, lake, env)


def copy_lab(lab: Lab, root: Path) -> Lab:
    """A copy of a local lab (lake and warehouse) under `root`."""
    shutil.copytree(lab.home, root / "home")
    home = root / "home"
    return Lab(home, str(home / "lake"), _env(home, {}))


def _env(home: Path, extra: dict[str, str]) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("BATON_", "CLOUD_RUN_"))}
    keep.pop("STORAGE_EMULATOR_HOST", None)
    return {**keep, "BATON_HOME": str(home), "BATON_LOG_LEVEL": "warning", **extra}
