"""An operator command imports what it runs, not what other commands need: the help of
`baton status` and `baton workflow check` load neither polars nor DuckDB (nor, for status, the
Google clients) nor rich (every verb prints click's plain help), `baton status` reads the grid
without polars (rich only to draw it), and a step container's `--help` loads neither DuckDB
nor a Google client. None of them imports pydantic."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

PIPELINE = Path(__file__).resolve().parents[2] / "workflows" / "pipeline.workflows.yaml"
HEAVY = {"polars", "duckdb", "google", "google.cloud"}
RICH = {"rich", "rich.console", "markdown_it", "pygments"}
PYDANTIC = {"pydantic", "pydantic_core"}  # typer >= 0.29 coerces parameters through it


def _imported(code: str, home: Path | None = None) -> set[str]:
    """The modules a fresh interpreter holds after running `code` (blocked ones excluded; printed
    after a marker, so the command's own output is not mistaken for them)."""
    script = (
        "import sys\n"
        f"try:\n    {code}\nexcept SystemExit:\n    pass\n"
        "print('--modules--'); print('\\n'.join(sorted(k for k, v in sys.modules.items() if v is not None)))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("BATON_")}
    if home is not None:
        env["BATON_HOME"] = str(home)
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, env=env
    )
    return set(out.stdout.split("--modules--")[-1].split())


def _baton(*argv: str, home: Path | None = None) -> set[str]:
    return _imported(f"from baton_cli.app import app; app({list(argv)!r}, prog_name='baton')", home)


@pytest.fixture(scope="module")
def empty_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("home")
    (home / "lake").mkdir()
    return home


def test_status_help_imports_no_polars_duckdb_google_client_rich_or_pydantic():
    assert not (HEAVY | RICH | PYDANTIC) & _baton("status", "--help")


def test_a_status_grid_as_json_imports_no_polars_and_no_rich(empty_home):
    modules = _baton("status", "--date", "2013-01-02", "--json", home=empty_home)
    assert "baton_cli.status" in modules
    assert not (HEAVY | RICH | PYDANTIC | {"baton.dataset"}) & modules


def test_a_status_grid_imports_rich_to_draw_it_and_no_polars(empty_home):
    modules = _baton("status", "--date", "2013-01-02", home=empty_home)
    assert "rich.table" in modules
    assert not HEAVY & modules
    assert not {"markdown_it", "pygments"} & modules  # typer's rich help stays out


def test_workflow_check_imports_the_checker_alone(tmp_path):
    # `check` names the twin's connectors from baton_twin.connector_names, not from the
    # connectors themselves (their execution resources are Cloud Run protobufs); the engine's
    # runtime, its regex matching and its HTTP client load when a workflow runs.
    modules = _baton("workflow", "check", str(PIPELINE))
    assert "baton_engine.definition.checker" in modules
    assert not (HEAVY | RICH | PYDANTIC) & modules
    assert not {"baton_engine.runtime.engine", "regex", "urllib.request"} & modules


def test_every_verbs_help_is_plain_click_help():
    out = subprocess.run(
        [sys.executable, "-m", "baton_cli", "status", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out.startswith("Usage: baton status [OPTIONS]")
    assert "╭" not in out  # no rich panel


def test_a_step_containers_help_imports_no_duckdb_google_or_rich():
    modules = _imported(
        "from baton.entry import run_step; import sys; sys.argv = ['x', '--help']; run_step('baton_load.cli', 'x')"
    )
    assert not {"duckdb", "google", "rich"} & modules
