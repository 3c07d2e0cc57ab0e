"""The step containers' process entry: keep terminal-only libraries out of a step process, then
run the step: a plain `run` straight through `baton.taskrun`, anything else (`--help`, a bad
flag) through the step's Typer app (`python -m baton_<step> ...`).

Step processes log JSON lines (`baton.log`, stdlib only) and print plain help, so rich (a
dependency of typer, which imports it when it is installed) is never used there; importing it
costs every task start-up, and so does typer itself (with its click, and the pydantic it coerces
parameters with) for the plain `run --date D` every task is started with. Stdlib only, so
nothing heavy loads before the choice.
"""

from __future__ import annotations

import gc
import importlib
import os
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_VALUED = {"--date", "--dataset"}
_FLAGS = {"--force": "force", "--dry-run": "dry_run", "--verbose": "verbose", "-v": "verbose"}


@dataclass(frozen=True)
class PlainRun:
    """The options of a `run` command line the fast path takes (None: this task's share)."""

    day: date | None = None
    dataset: str | None = None
    force: bool = False
    dry_run: bool = False
    verbose: bool = False


def _valued(args: list[str]) -> tuple[str, str] | None:
    """`--name value` or `--name=value` at the front of `args` (consumed), else None."""
    name, eq, value = args[0].partition("=")
    if name not in _VALUED:
        return None
    args.pop(0)
    if not eq:
        if not args or args[0].startswith("-"):
            return None
        value = args.pop(0)
    return name, value


def plain_run(argv: Sequence[str]) -> PlainRun | None:
    """The options of `run [--date YYYY-MM-DD] [--dataset NAME] [--force] [--dry-run]
    [--verbose|-v]`, each at most once; None for anything else, which the Typer app handles
    (help, usage errors with their exit code 2, a date it rejects)."""
    if not argv or argv[0] != "run":
        return None
    args, found = list(argv[1:]), {}
    while args:
        if args[0] in _FLAGS:
            key, value = _FLAGS[args.pop(0)], True
        else:
            pair = _valued(args)
            if pair is None:
                return None
            key, value = pair[0][2:], pair[1]
        if key in found:
            return None
        found[key] = value
    day = found.pop("date", None)
    if day is not None:
        if not _DATE.fullmatch(str(day)):
            return None
        try:
            day = date.fromisoformat(str(day))
        except ValueError:
            return None
    return PlainRun(day=day, **found)  # type: ignore[arg-type]


def plain_process() -> None:
    """Make typer print plain help and errors and keep rich from being imported.

    Call before typer is imported (it changes nothing already imported).
    """
    os.environ.setdefault("TYPER_USE_RICH", "0")  # read once by typer.core at import
    if "rich" not in sys.modules:
        sys.modules["rich"] = None  # type: ignore[assignment]  # `import rich` -> ImportError


def _freeze() -> None:
    # The modules imported by now live as long as the process: moved out of the cyclic
    # collector's sight, the collection a task runs after each date scans only what that
    # date made (a full one costs 50-70 ms per date with polars imported). Then the collector
    # runs again: `run_step` held it off while the imports built their objects. Done here,
    # in the process entry, never in code a library caller (a test) runs.
    gc.freeze()
    gc.enable()


def _run_plain(job_module: str, run: PlainRun, environ: Mapping[str, str]) -> int:
    step = importlib.import_module(job_module).STEP
    from baton import datasets
    from baton.parquet import bound_read_ahead
    from baton.taskrun import execute

    bound_read_ahead(os.environ)  # process-wide polars knobs; an operator's values win
    _freeze()
    dataset = run.dataset or environ.get("BATON_DATASET") or datasets.DEFAULT_DATASET
    code = execute(
        step,
        run.day,
        dataset,
        force=run.force,
        dry_run=run.dry_run,
        verbose=run.verbose,
        environ=environ,
    )
    return int(code)


def run_step(cli_module: str, prog_name: str) -> None:
    """Run the step of package `cli_module`'s (its `job.STEP`) for the process's command line:
    a plain run directly, anything else through the Typer app `app` of `cli_module`."""
    # The imports ahead (polars, the job's modules) make objects that live as long as the
    # process; collecting while they are made finds nothing to free and cost about a tenth of
    # `import polars` (0.03 s of 0.27, median of 11). `_freeze` turns the collector back on.
    gc.disable()
    plain_process()
    run = plain_run(sys.argv[1:])
    if run is not None:
        package = cli_module.rpartition(".")[0]
        sys.exit(_run_plain(f"{package}.job", run, os.environ))
    app = importlib.import_module(cli_module).app
    _freeze()
    app(prog_name=prog_name)
