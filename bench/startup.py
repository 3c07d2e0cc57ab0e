"""Start-up cost of a step process and of the `baton` command: median wall and CPU time of
each command over interleaved rounds, against `import polars` alone (the floor a step process
pays), and a `python -X importtime` breakdown by top-level package.

Run: `python bench/startup.py [--rounds N] [--before TREE]` (part of `make bench`). With
`--before`, the same commands also run from another checkout (its own `.venv`, e.g. a worktree
of an older commit), interleaved with this one's in every round, so the two are measured side
by side under the same load. Each tree gets its own temporary BATON_HOME holding one seeded,
extracted day, so the step run and `baton status` do real work. Writes
bench/results/startup.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DAY = "2013-01-02"
BATON = ["-m", "baton_cli"]
COMMANDS: dict[str, list[str]] = {
    "python (nothing)": ["-c", "pass"],
    "import polars": ["-c", "import polars"],
    "step --help (python -m baton_extract --help)": ["-m", "baton_extract", "--help"],
    f"step run (baton_transform run --date {DAY} --force)": [
        *("-m", "baton_transform", "run", "--date", DAY, "--force")
    ],
    "baton --help": [*BATON, "--help"],
    "baton status --help": [*BATON, "status", "--help"],
    f"baton status --date {DAY}": [*BATON, "status", "--date", DAY],
    f"baton status --date {DAY} --json": [*BATON, "status", "--date", DAY, "--json"],
    "baton workflow check": [*BATON, "workflow", "check", "{pipeline}"],
}
POLARS = "import polars"


@dataclass(frozen=True)
class Tree:
    """One checkout under test: its interpreter and a BATON_HOME holding one extracted day."""

    name: str
    root: Path
    home: Path

    @property
    def python(self) -> str:
        return str(self.root / ".venv" / "bin" / "python")

    def argv(self, command: list[str]) -> list[str]:
        pipeline = str(self.root / "workflows" / "pipeline.workflows.yaml")
        return [self.python, *(a.replace("{pipeline}", pipeline) for a in command)]

    def env(self) -> dict[str, str]:
        # Bytecode is written (the warm-up round compiles every module), as in the step images
        # (UV_COMPILE_BYTECODE=1): a shell with PYTHONDONTWRITEBYTECODE would otherwise time
        # compiling the sources, not importing them.
        clean = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("BATON_", "TYPER_")) and k != "PYTHONDONTWRITEBYTECODE"
        }
        return clean | {"BATON_HOME": str(self.home)}


def prepare(name: str, root: Path) -> Tree:
    """A tree with its own home: the demo day seeded and extracted (what transform reads)."""
    tree = Tree(name, root, Path(tempfile.mkdtemp(prefix=f"baton-startup-{name}-")))
    for setup in ([*BATON, "seed", "--start", DAY, "--end", DAY],
                  ["-m", "baton_extract", "run", "--date", DAY]):  # fmt: skip
        subprocess.run(tree.argv(setup), env=tree.env(), capture_output=True, check=True)
    return tree


def _once(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def breakdown(argv: list[str], env: dict[str, str], runs: int = 3) -> dict[str, float]:
    """Milliseconds of import time per top-level package (self times summed), the median of
    `runs` runs (one run's figures jump by a third on a shared machine)."""
    seen = [_imports(argv, env) for _ in range(runs)]
    names = set().union(*seen)
    per = {name: statistics.median(run.get(name, 0.0) for run in seen) for name in names}
    return dict(sorted(per.items(), key=lambda kv: -kv[1]))


def _imports(argv: list[str], env: dict[str, str]) -> dict[str, float]:
    out = subprocess.run(
        [argv[0], "-X", "importtime", *argv[1:]],
        env=env,
        capture_output=True,
        text=True,
        check=False,  # a command that fails still shows what it imported
    )
    per: dict[str, float] = defaultdict(float)
    for line in out.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        own, _, name = (part.strip() for part in line[len("import time:") :].split("|"))
        if own.isdigit():
            per[name.split(".")[0]] += int(own) / 1000
    return per


def measure(trees: list[Tree], rounds: int) -> dict[str, dict[str, dict[str, float]]]:
    """Median wall and CPU seconds per tree and command, rounds interleaved across both."""
    runs = [(t, n, t.argv(c), t.env()) for n, c in COMMANDS.items() for t in trees]
    for _, _, argv, env in runs:  # warm the bytecode caches
        _once(argv, env)
    samples: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
    for _ in range(rounds):
        for tree, name, argv, env in runs:
            samples[tree.name, name].append(_once(argv, env))
    return {
        t.name: {
            n: {
                "wall_s": statistics.median(w for w, _ in samples[t.name, n]),
                "cpu_s": statistics.median(c for _, c in samples[t.name, n]),
            }
            for n in COMMANDS
        }
        for t in trees
    }


def _top(per: dict[str, float], count: int = 6) -> str:
    top = ", ".join(f"{k} {v:.0f}" for k, v in list(per.items())[:count])
    return f"{top} ({sum(per.values()):.0f} in all)"


def report(rows: dict, imports: dict, rounds: int) -> None:
    """Print the table: per command, each tree's median wall and CPU seconds."""
    names = list(rows)
    print(f"start-up, median of {rounds} interleaved rounds ({platform.node()}, "
          f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f})")  # fmt: skip
    head = "".join(f" {n + ' wall':>12} {n + ' cpu':>11} {'cpu-polars':>10}" for n in names)
    print(f"{'command':54}{head}")
    for command in COMMANDS:
        cells = ""
        for n in names:
            row, floor = rows[n][command], rows[n][POLARS]["cpu_s"]
            cells += f" {row['wall_s']:12.3f} {row['cpu_s']:11.3f} {row['cpu_s'] - floor:10.3f}"
        print(f"{command:54}{cells}")
    for command in COMMANDS:
        for n in names:
            print(f"import ms [{n}] {command}: {_top(imports[n][command])}")


def main(argv: list[str] | None = None) -> None:
    """Measure, print and write the start-up table."""
    parser = argparse.ArgumentParser(prog="python bench/startup.py", description=__doc__)
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds (median)")
    parser.add_argument("--before", type=Path, help="another checkout to measure side by side")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "startup.json")
    args = parser.parse_args(argv)
    trees = []
    try:
        if args.before:
            trees.append(prepare("before", args.before.resolve()))
        trees.append(prepare("after" if args.before else "this", REPO))
        rows = measure(trees, args.rounds)
        imports = {
            t.name: {n: breakdown(t.argv(c), t.env()) for n, c in COMMANDS.items()} for t in trees
        }
    finally:
        for tree in trees:
            shutil.rmtree(tree.home, ignore_errors=True)
    report(rows, imports, args.rounds)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "when": datetime.now(UTC).isoformat(timespec="seconds"),
                "machine": platform.platform(),
                "cpus": os.cpu_count(),
                "load_1min": os.getloadavg()[0],
                "rounds": args.rounds,
                "trees": {t.name: str(t.root) for t in trees},
                "commands": rows,
                "imports_ms": imports,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
