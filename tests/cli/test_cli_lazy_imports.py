"""An operator command imports what it runs, not what other commands need: the help of
`baton status` and `baton workflow check` load neither polars nor DuckDB (nor, for status, the
Google clients), and a step container's `--help` loads neither DuckDB nor a Google client."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PIPELINE = Path(__file__).resolve().parents[2] / "workflows" / "pipeline.workflows.yaml"
HEAVY = {"polars", "duckdb", "google", "google.cloud"}


def _imported(code: str) -> set[str]:
    """The modules a fresh interpreter holds after running `code` (blocked ones excluded; printed
    after a marker, so the command's own output is not mistaken for them)."""
    script = (
        "import sys\n"
        f"try:\n    {code}\nexcept SystemExit:\n    pass\n"
        "print('--modules--'); print('\\n'.join(sorted(k for k, v in sys.modules.items() if v is not None)))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    return set(out.stdout.split("--modules--")[-1].split())


def _baton(*argv: str) -> set[str]:
    return _imported(f"from baton_cli.app import app; app({list(argv)!r}, prog_name='baton')")


def test_status_help_imports_no_polars_duckdb_or_google_client():
    assert not HEAVY & _baton("status", "--help")


def test_workflow_check_imports_no_polars_duckdb_or_google_client():
    # `check` names the twin's connectors from baton_twin.connector_names, not from the
    # connectors themselves (their execution resources are Cloud Run protobufs).
    modules = _baton("workflow", "check", str(PIPELINE))
    assert "baton_engine" in modules
    assert not HEAVY & modules


def test_a_step_containers_help_imports_no_duckdb_google_or_rich():
    modules = _imported(
        "from baton.entry import run_step; import sys; sys.argv = ['x', '--help']; run_step('baton_load.cli', 'x')"
    )
    assert not {"duckdb", "google", "rich"} & modules
