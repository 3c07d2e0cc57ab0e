"""Run every chaos scenario and print one line of figures each; exit 1 on any rows lost or
duplicated, invariant violated or crash. `python -m chaos [--reduced] [--seed N]`."""

from __future__ import annotations

import argparse
import functools
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

from gcp_storage_emulator.server import create_server

from chaos import scenarios
from chaos.invariants import Figures, check_lake, compare, validated_rows, warehouse_rows
from chaos.lab import Lab, copy_lab, gcs_lab, local_lab
from tests.gcs_proxy import PreconditionProxy

BUCKET = "baton-chaos"
FULL = {
    "kills_local": 60,
    "kills_gcs": 50,
    "orchestrator": 10,
    "rounds": 2,
    "gcs_faults": 1000,
    "gcs_error_rate": 0.25,
}
REDUCED = {
    "kills_local": 4,
    "kills_gcs": 3,
    "orchestrator": 1,
    "rounds": 1,
    "gcs_faults": 30,
    "gcs_error_rate": 0.15,
}
"""How many faults each scenario injects (the flaky GCS: until that many, at that rate)."""
TARGETS = {
    "kill -9": 100,
    "orchestrator kills": 10,
    "torn files": len(scenarios.TORN),
    "full disk": 1,
    "GCS faults": 1000,
}
"""What the full run must inject (issue 14's targets); the reduced run must inject its budget."""
REDUCED_TARGETS = {
    "kill -9": 7,
    "orchestrator kills": 1,
    "torn files": len(scenarios.TORN),
    "full disk": 0,
    "GCS faults": 30,
}
"""The reduced run may skip the full disk (mounting a tmpfs needs root)."""
CATEGORY = {
    "kill -9 steps (local)": "kill -9",
    "kill -9 steps (gs://)": "kill -9",
    "orchestrator SIGKILL": "orchestrator kills",
    "torn files": "torn files",
    "full disk": "full disk",
    "flaky GCS": "GCS faults",
}
"""Which target each scenario's faults count toward (the others count toward none)."""


def _days(count: int) -> list[date]:
    start = date(2013, 1, 1)
    return [start + timedelta(days=i) for i in range(count)]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run(name: str, lab: Lab, days, reference, inject: Callable, budget: int, seed: int) -> Figures:
    figures = Figures(name)
    started = time.monotonic()
    inject(lab, days, random.Random(seed), budget, figures)
    scenarios.converge(lab, days, figures)
    check_lake(lab, days, figures)
    got = validated_rows(lab, days) if lab.gcs else warehouse_rows(lab)
    compare(reference["gcs" if lab.gcs else "local"], got, figures)
    figures.crashes += lab.crashes + lab.task_logs_crashes()
    print(f"{figures.line()} ({time.monotonic() - started:.0f} s)", flush=True)
    for problem in (figures.violations + figures.crashes)[:10]:
        print(f"    {problem}", flush=True)
    return figures


def _mounted_tmpfs(where: Path, size: str) -> bool:
    where.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
        capture_output=True,
        check=False,
    )
    return done.returncode == 0


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m chaos", description=__doc__)
    parser.add_argument("--seed", type=int, default=20131)
    parser.add_argument("--reduced", action="store_true", help="the small version make test runs")
    parser.add_argument("--only", default="", help="run only the scenarios whose name has this")
    parser.add_argument("--work", type=Path, help="where the labs live (default: a new temp dir)")
    return parser.parse_args()


def main() -> int:
    """Every scenario, in turn; the exit status says whether all held."""
    args = _arguments()
    budget = REDUCED if args.reduced else FULL
    days = _days(2 if args.reduced else 3)
    work = args.work or Path(tempfile.mkdtemp(prefix="baton-chaos-"))
    print(f"chaos: seed {args.seed}, {len(days)} days from {days[0]}, work dir {work}", flush=True)

    clean = local_lab(work / "reference", days)
    for day in days:
        for step in scenarios.STEPS:
            assert clean.run_step(step, day) == 0, f"the clean reference run failed at {step} {day}"
    reference = {"local": warehouse_rows(clean), "gcs": validated_rows(clean, days)}
    seeded = local_lab(work / "seeded", days)

    port = _free_port()
    emulator = create_server("127.0.0.1", port, in_memory=True, default_bucket=BUCKET)
    emulator.start()
    results = []
    try:
        with PreconditionProxy(f"http://127.0.0.1:{port}") as proxy:
            os.environ["STORAGE_EMULATOR_HOST"] = proxy.url  # this process's own checks
            plan = [
                ("kill -9 steps (local)", "local", scenarios.kill_steps, budget["kills_local"]),
                ("kill -9 steps (gs://)", "gcs", scenarios.kill_steps, budget["kills_gcs"]),
                (
                    "orchestrator SIGKILL",
                    "local",
                    scenarios.kill_orchestrator,
                    budget["orchestrator"],
                ),
                (
                    "overlapping backfills",
                    "local",
                    scenarios.overlapping_backfills,
                    budget["rounds"],
                ),
                ("concurrent --force", "committed", scenarios.concurrent_force, budget["rounds"]),
                ("concurrent --force gs://", "gcs", scenarios.concurrent_force, budget["rounds"]),
                ("torn files", "committed", scenarios.torn_files, 0),
                (
                    "flaky GCS",
                    "gcs",
                    functools.partial(scenarios.gcs_faults, error_rate=budget["gcs_error_rate"]),
                    budget["gcs_faults"],
                ),
            ]
            for i, (name, kind, inject, size) in enumerate(plan):
                if args.only not in name:
                    continue
                root = work / f"s{i}"
                if kind == "local":
                    lab = copy_lab(seeded, root)
                elif kind == "committed":  # the reference run's lake and warehouse
                    lab = copy_lab(clean, root)
                else:
                    proxy.faults.error_rate = proxy.faults.slow_rate = 0.0
                    lab = gcs_lab(root, days, proxy.url, f"gs://{BUCKET}/s{i}")
                    lab.proxy = proxy
                results.append(_run(name, lab, days, reference, inject, size, args.seed + i))
                proxy.faults.error_rate = proxy.faults.slow_rate = 0.0
        disk = work / "disk"
        if args.only not in "full disk":
            pass
        elif _mounted_tmpfs(disk, "96m"):
            try:
                lab = copy_lab(seeded, disk)
                results.append(
                    _run("full disk", lab, days, reference, scenarios.full_disk, 0, args.seed)
                )
            finally:
                subprocess.run(["umount", "-l", str(disk)], check=False)
        else:
            print("full disk                skipped: mounting a tmpfs needs root", flush=True)
    finally:
        emulator.stop()
    return _totals(results, REDUCED_TARGETS if args.reduced else TARGETS, whole=not args.only)


def _totals(results: list[Figures], targets: dict[str, int], *, whole: bool) -> int:
    """Print the totals line and the count of each target; 1 if a scenario failed, a run
    took more than MAX_RERUNS reruns to converge, or (a whole run) a target was not reached."""
    counts = dict.fromkeys(targets, 0)
    for r in results:
        if r.scenario in CATEGORY:
            counts[CATEGORY[r.scenario]] += r.faults
    short = [f"{k} {counts[k]} < {v}" for k, v in targets.items() if whole and counts[k] < v]
    failed = [r.scenario for r in results if not r.ok]
    attempts = max((r.attempts for r in results), default=0)
    if attempts > scenarios.MAX_RERUNS:
        failed.append(f"converged in {attempts} reruns")
    print(
        "chaos totals: "
        + ", ".join(f"{k} {v}" for k, v in counts.items())
        + f", rows lost {sum(r.rows_lost for r in results)}"
        + f", rows duplicated {sum(r.rows_duplicated for r in results)}"
        + f", invariant violations {sum(len(r.violations) for r in results)}"
        + f", crashes {sum(len(r.crashes) for r in results)}",
        flush=True,
    )
    verdict = "all held" if not failed else f"FAILED: {', '.join(failed)}"
    if short:
        verdict += "; targets not reached: " + ", ".join(short)
    print(
        f"chaos: {len(results)} scenarios, {sum(r.faults for r in results)} faults injected, "
        f"max attempts to converge {attempts}; {verdict}",
        flush=True,
    )
    return 1 if failed or short else 0


if __name__ == "__main__":
    sys.exit(main())
