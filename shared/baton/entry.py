"""The step containers' process entry: keep terminal-only libraries out of a step process, then
hand over to the step's Typer app (`python -m baton_<step> ...`).

Step processes log JSON lines and print plain help, so rich (a dependency of typer, and an
optional one of structlog, each of which imports it when it is installed) is never used there;
importing it costs every task start-up. Stdlib only, so nothing heavy loads before the choice.
"""

from __future__ import annotations

import gc
import importlib
import os
import sys


def plain_process() -> None:
    """Make typer print plain help and errors and keep rich from being imported.

    Call before typer or structlog is imported (it changes nothing already imported).
    """
    os.environ.setdefault("TYPER_USE_RICH", "0")  # read once by typer.core at import
    if "rich" not in sys.modules:
        sys.modules["rich"] = None  # type: ignore[assignment]  # `import rich` -> ImportError


def run_step(cli_module: str, prog_name: str) -> None:
    """Run the Typer app `app` of `cli_module` as the process's command line."""
    plain_process()
    app = importlib.import_module(cli_module).app
    # The modules imported by now live as long as the process: moved out of the cyclic
    # collector's sight, the collection a task runs after each date scans only what that
    # date made (a full one costs 50-70 ms per date with polars imported). Done here, in the
    # process entry, never in code a library caller (a test) runs.
    gc.freeze()
    app(prog_name=prog_name)
