"""Start-up cost of a step process and of the `baton` command: median wall and CPU time of
each command over interleaved rounds, against `import polars` alone (the floor a step process
pays), and a `python -X importtime` breakdown by top-level package.

Run: `python bench/startup.py [--rounds N]` (part of `make bench`). Writes
bench/results/startup.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PY = sys.executable
PIPELINE = str(REPO / "workflows" / "pipeline.workflows.yaml")
# The step entry before the rich-free entry point: typer and structlog import rich.
WITH_RICH = "from baton_extract.cli import app; app(['--help'], prog_name='baton_extract')"
COMMANDS: dict[str, list[str]] = {
    "python (nothing)": [PY, "-c", "pass"],
    "import polars": [PY, "-c", "import polars"],
    "step: python -m baton_extract --help": [PY, "-m", "baton_extract", "--help"],
    "step, old entry (with rich)": [PY, "-c", WITH_RICH],
    "baton --help": [PY, "-m", "baton_cli", "--help"],
    "baton status --help": [PY, "-m", "baton_cli", "status", "--help"],
    "baton workflow check": [PY, "-m", "baton_cli", "workflow", "check", PIPELINE],
}


def _once(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def breakdown(argv: list[str], env: dict[str, str]) -> dict[str, float]:
    """Milliseconds of import time per top-level package (self times summed)."""
    out = subprocess.run(
        [argv[0], "-X", "importtime", *argv[1:]],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    per: dict[str, float] = defaultdict(float)
    for line in out.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        own, _, name = (part.strip() for part in line[len("import time:") :].split("|"))
        if own.isdigit():
            per[name.split(".")[0]] += int(own) / 1000
    return dict(sorted(per.items(), key=lambda kv: -kv[1]))


def main(argv: list[str] | None = None) -> None:
    """Measure, print and write the start-up table."""
    parser = argparse.ArgumentParser(prog="python bench/startup.py", description=__doc__)
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds (median)")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "startup.json")
    args = parser.parse_args(argv)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BATON_", "TYPER_"))}
    for command in COMMANDS.values():  # warm the bytecode caches
        _once(command, env)
    walls: dict[str, list[float]] = defaultdict(list)
    cpus: dict[str, list[float]] = defaultdict(list)
    for _ in range(args.rounds):
        for name, command in COMMANDS.items():
            wall, cpu = _once(command, env)
            walls[name].append(wall)
            cpus[name].append(cpu)
    rows = {
        n: {"wall_s": statistics.median(walls[n]), "cpu_s": statistics.median(cpus[n])}
        for n in COMMANDS
    }
    imports = {
        "step": breakdown(COMMANDS["step: python -m baton_extract --help"], env),
        "baton --help": breakdown(COMMANDS["baton --help"], env),
    }
    polars = rows["import polars"]["wall_s"]
    print(f"start-up, median of {args.rounds} interleaved rounds ({platform.node()}, "
          f"load {os.getloadavg()[0]:.1f})")  # fmt: skip
    print(f"{'command':42} {'wall s':>7} {'cpu s':>7} {'- polars':>9}")
    for name, row in rows.items():
        print(f"{name:42} {row['wall_s']:7.3f} {row['cpu_s']:7.3f} {row['wall_s'] - polars:9.3f}")
    for what, per in imports.items():
        top = ", ".join(f"{k} {v:.0f}" for k, v in list(per.items())[:8])
        print(f"import ms, {what}: {top}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "when": datetime.now(UTC).isoformat(timespec="seconds"),
                "machine": platform.platform(),
                "cpus": os.cpu_count(),
                "load_1min": os.getloadavg()[0],
                "rounds": args.rounds,
                "commands": rows,
                "imports_ms": imports,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
