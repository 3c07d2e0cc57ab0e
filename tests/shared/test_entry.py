"""The step process entry runs a plain `run` command line without typer, and hands anything
else (help, a bad flag or date, a repeated option) to the step's Typer app."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from baton.entry import PlainRun, plain_run
from baton.errors import ExitCode


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["run"], PlainRun()),
        (["run", "--date", "2013-01-02"], PlainRun(day=date(2013, 1, 2))),
        (
            ["run", "--date=2013-01-02", "--force", "-v"],
            PlainRun(date(2013, 1, 2), None, True, False, True),
        ),
        (["run", "--dataset", "weather", "--dry-run"], PlainRun(dataset="weather", dry_run=True)),
    ],
)
def test_a_plain_run_is_parsed_without_typer(argv, expected):
    assert plain_run(argv) == expected


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["--help"],
        ["run", "--help"],
        ["run", "--date"],
        ["run", "--date", "2013-1-2"],
        ["run", "--date", "2013-02-30"],
        ["run", "--date", "2013-01-02", "--date", "2013-01-03"],
        ["run", "--bogus"],
        ["run", "--dataset", "--force"],
        ["status"],
    ],
)
def test_anything_else_is_left_to_the_typer_app(argv):
    assert plain_run(argv) is None


def _step(home: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    code = (
        "import sys\n"
        f"sys.argv = ['baton_extract', *{list(argv)!r}]\n"
        "from baton.entry import run_step\n"
        "try:\n    run_step('baton_extract.cli', 'baton_extract')\n"
        "finally:\n"
        "    import gc\n"
        "    print('--gc--', gc.isenabled(), gc.get_freeze_count() > 0)\n"
        "    print('--modules--', *(k for k, v in sys.modules.items() if v is not None))\n"
    )
    env = {"BATON_HOME": str(home), "PATH": "/usr/bin:/bin"}
    argv = [sys.executable, "-c", code]
    return subprocess.run(argv, check=False, capture_output=True, text=True, env=env)


def test_a_plain_run_starts_no_typer_and_keeps_its_exit_code(tmp_path):
    (tmp_path / "lake").mkdir()
    done = _step(tmp_path, "run", "--date", "2013-01-02")  # nothing landed: bad input
    assert done.returncode == ExitCode.DATA
    assert '"outcome": "failed"' in done.stdout
    modules = set(done.stdout.split("--modules--")[-1].split())
    assert not {"typer", "click", "rich"} & modules


def test_a_plain_run_imports_no_pydantic_and_no_other_dataset(tmp_path):
    # Manifests, attempt records and settings are plain dataclasses (baton.typed_record), logs
    # a stdlib JSON writer; the registry imports the one dataset the run names.
    (tmp_path / "lake").mkdir()
    done = _step(tmp_path, "run", "--date", "2013-01-02", "--dataset", "weather")
    modules = set(done.stdout.split("--modules--")[-1].split())
    assert "baton.datasets.weather" in modules
    assert not {"pydantic", "pydantic_core", "structlog", "tenacity"} & modules
    assert not {"baton.datasets.flights_api", "baton.sources.http", "baton.sources.sql"} & modules


@pytest.mark.parametrize("argv", [["run", "--date", "2013-01-02"], ["--help"]])
def test_the_collector_runs_again_once_the_imports_are_frozen(tmp_path, argv):
    # The entry holds the cyclic collector off while the imports build their objects; a task
    # that ran its dates without it would keep every date's cycles until the process ends.
    (tmp_path / "lake").mkdir()
    done = _step(tmp_path, *argv)
    assert "--gc-- True True" in done.stdout, done.stdout[-2000:]


def test_a_bad_date_is_typers_usage_error(tmp_path):
    done = _step(tmp_path, "run", "--date", "2013-13-02")
    assert done.returncode == ExitCode.USAGE
    assert "Invalid value for '--date'" in done.stderr
