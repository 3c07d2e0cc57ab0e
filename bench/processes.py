"""Running one measured child process: its wall time, peak RSS and CPU time, exactly.

`os.wait4` returns the child's own resource usage. On Linux a new program inherits, as its
starting peak RSS, the peak of the process that spawned it, so the benchmark driver (which
holds the generated data) never spawns a measured step itself: it runs this module as a lean
launcher (`python -m bench.processes -- ARGV...`), which spawns the step and prints its usage
as one JSON line.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


class ChildError(RuntimeError):
    """A measured process exited non-zero; the message carries its command and stderr tail."""


@dataclass(frozen=True)
class Measurement:
    """What one process cost."""

    wall_s: float
    peak_rss_mib: float
    cpu_s: float


def _run(argv: Sequence[str]) -> tuple[int, Measurement]:
    """Spawn `argv` (inheriting this process's stdio and environment) and wait for it."""
    started = time.perf_counter()
    proc = subprocess.Popen(list(argv), stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    proc.returncode = code = os.waitstatus_to_exitcode(status)
    # ru_maxrss is in KiB on Linux.
    return code, Measurement(wall, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime)


def measure(argv: Sequence[str], env: Mapping[str, str]) -> Measurement:
    """Run `argv` to completion through the lean launcher; raise ChildError if it fails."""
    launcher = [sys.executable, "-m", "bench.processes", "--", *argv]
    done = subprocess.run(launcher, env=dict(env), capture_output=True, check=False)
    if done.returncode != 0:
        tail = done.stderr.decode(errors="replace").strip().splitlines()[-5:]
        raise ChildError(f"{' '.join(argv)} exited {done.returncode}: " + " | ".join(tail))
    return Measurement(**json.loads(done.stdout.decode().strip().splitlines()[-1]))


def main(argv: Sequence[str]) -> int:
    """The launcher: run argv after `--`, print its Measurement as JSON, exit with its code."""
    if not argv or argv[0] != "--" or len(argv) < 2:
        print("usage: python -m bench.processes -- COMMAND [ARG...]", file=sys.stderr)
        return 2
    code, usage = _run(argv[1:])
    print(json.dumps(usage.__dict__))
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
