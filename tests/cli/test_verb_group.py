"""`baton` imports a verb's module only when that verb runs, and its help table says what each
verb's own docstring says (so the table cannot drift from the commands)."""

from __future__ import annotations

import subprocess
import sys

import pytest
import typer
from typer.testing import CliRunner

from baton_cli.app import app
from baton_cli.verb_group import VERBS


@pytest.mark.parametrize("name", list(VERBS))
def test_the_help_table_line_is_the_command_s_own_help_line(name):
    command = VERBS[name].load()
    own = (command.short_help or command.help or "").strip().split("\n\n")[0]
    assert " ".join(own.split()) == VERBS[name].help


def test_every_verb_is_mounted_and_listed_in_help():
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    group = typer.main.get_command(app)
    assert list(group.commands) == list(VERBS)  # type: ignore[attr-defined]
    for name in VERBS:
        assert name in result.output


def imported_after(*argv: str) -> set[str]:
    code = (
        "import sys\n"
        "from baton_cli.app import app\n"
        f"try:\n    app({list(argv)!r}, prog_name='baton')\n"
        "except SystemExit:\n    pass\n"
        "print('\\n'.join(sorted(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_baton_help_imports_no_command_nor_polars_nor_the_engine():
    modules = imported_after("--help")
    assert not {m for m in modules if m.startswith("baton_cli.commands.")}
    assert not {"polars", "baton_engine", "baton_twin", "duckdb"} & modules


def test_a_verb_imports_its_own_command_only():
    modules = imported_after("workflow", "--help")
    commands = {m for m in modules if m.startswith("baton_cli.commands.")}
    assert commands == {"baton_cli.commands.workflow"}
