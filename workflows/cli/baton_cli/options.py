"""What the operator verbs share: their options, the console, errors turned into exit codes,
loading the target configuration, and following an execution with the progress view."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any

import typer

from baton.config import load_settings
from baton.dates import date_option, days_between
from baton.errors import BatonError, ExitCode
from baton_cli.exit_codes import OperatorExit

# Every verb imports this module: what only some of them use (the dataset registry and
# polars, the targets and their clients, the progress view) is imported where it is used, so
# `baton status --help` or `baton workflow check` do not pay for it.
if TYPE_CHECKING:
    from rich.console import Console

    from baton.config import Settings
    from baton.storage import Storage
    from baton_cli.targets import ExecutionInfo, OpsConfig, Target

POLL_S = {"local": 0.5, "gcp": 2.0}
PLAIN_WIDTH = 160


class LazyConsole:
    """The operator's rich Console, made when something is first printed: importing rich costs
    a verb's start-up about 0.1 s, which `--help` and a silent command need not pay. Every
    attribute is the real console's (`rich()` hands it over for rich's own renderables)."""

    def __init__(self, **options: Any) -> None:
        object.__setattr__(self, "_options", options)
        object.__setattr__(self, "_console", None)

    def rich(self) -> Console:
        """The rich Console itself (created on first use)."""
        if self._console is None:
            from rich.console import Console

            made = Console(**self._options)
            if not made.is_terminal:
                # Logs and CI keep whole lines and tables rather than wrapping at 80 columns.
                made.width = max(made.width, PLAIN_WIDTH)
            object.__setattr__(self, "_console", made)
        return self._console

    def __getattr__(self, name: str) -> Any:
        return getattr(self.rich(), name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self.rich(), name, value)


def escape(text: str) -> str:
    """`text` with rich markup escaped (rich imported when a message is printed anyway)."""
    from rich.markup import escape as rich_escape

    return rich_escape(text)


console = LazyConsole(highlight=False, soft_wrap=True)


DateOpt = Annotated[date | None, typer.Option(parser=date_option, metavar="YYYY-MM-DD")]
TargetOpt = Annotated[
    str | None,
    typer.Option("--target", help="local (default) or gcp  [env BATON_TARGET]", metavar="KIND"),
]
ProjectOpt = Annotated[
    str | None, typer.Option("--project", help="GCP project  [env BATON_GCP_PROJECT]")
]
RegionOpt = Annotated[
    str | None, typer.Option("--region", help="GCP region  [env BATON_GCP_REGION]")
]
WorkflowOpt = Annotated[
    str | None,
    typer.Option("--workflow", help="deployed workflow  [env BATON_WORKFLOW; baton-pipeline]"),
]
DatasetOpt = Annotated[
    str | None, typer.Option("--dataset", help="dataset  [env BATON_DATASET; flights]")
]
ConcurrencyOpt = Annotated[
    int, typer.Option("--concurrency", min=1, help="partitions in flight at once (max 20)")
]
ModeOpt = Annotated[
    str,
    typer.Option(
        "--mode", help="auto, per_partition (a job execution per date and step) or batched"
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="machine-readable JSON on stdout")]


@contextmanager
def exit_codes() -> Iterator[None]:
    """baton's errors become their exit codes, with the message (which names the fix)."""
    try:
        yield
    except BatonError as err:
        console.print(f"[red]error[/red]: {escape(err.message)}")
        raise typer.Exit(int(err.exit_code)) from err
    except LookupError as err:
        console.print(f"[red]error[/red]: {escape(str(err.args[0] if err.args else err))}")
        raise typer.Exit(int(ExitCode.USAGE)) from err


def load_config(
    target: str | None,
    project: str | None = None,
    region: str | None = None,
    workflow: str | None = None,
) -> tuple[Settings, OpsConfig]:
    """Settings and the target configuration, from the environment and the given flags."""
    from baton_cli.targets import load_ops_config

    settings = load_settings(environ=os.environ)
    config = load_ops_config(
        {"target": target, "gcp_project": project, "gcp_region": region, "workflow": workflow},
        os.environ,
    )
    return settings, config


def check_dataset(name: str | None) -> str:
    """The dataset to act on; a ConfigError listing the known ones when it is unknown."""
    from baton import datasets

    chosen = name or os.environ.get("BATON_DATASET") or datasets.DEFAULT_DATASET
    return datasets.known_name(chosen)  # ConfigError listing the known ones


def date_range(day: date | None, start: date | None, end: date | None) -> list[date]:
    """The dates of `--date`, or of `--start`..`--end`; a usage error for anything else."""
    if day is not None:
        if start or end:
            raise typer.BadParameter("give --date or --start/--end, not both")
        return [day]
    if start is None or end is None:
        raise typer.BadParameter("give --date, or both --start and --end (inclusive)")
    if end < start:
        raise typer.BadParameter(f"--end {end} is before --start {start}")
    return days_between(start, end)


def check_mode(value: str, allow_auto: bool) -> str:
    """A valid `--mode` value."""
    allowed = ("auto", "per_partition", "batched") if allow_auto else ("per_partition", "batched")
    if value not in allowed:
        raise typer.BadParameter(f"--mode must be one of {', '.join(allowed)}, not {value!r}")
    return value


def watch_storage(settings: Settings, config: OpsConfig) -> Storage | None:
    """The lake the progress view reads attempt records from (None: state only)."""
    from baton.storage import open_storage
    from baton_cli.targets.gcp import is_loopback

    root = settings.lake_root
    if (
        config.target == "gcp"
        and not root.startswith("gs://")
        and not is_loopback(config.workflows_endpoint)
    ):
        console.print(
            "[yellow]note[/yellow]: BATON_LAKE is not a gs:// lake; progress shows the "
            "execution state only (set BATON_LAKE=gs://<bucket>/<prefix> for the grid)"
        )
        return None
    try:
        return open_storage(root)
    except BatonError as err:
        console.print(
            f"[yellow]note[/yellow]: {escape(err.message)}; progress shows the state only"
        )
        return None


def follow_execution(
    target: Target,
    info: ExecutionInfo,
    argument: dict[str, Any],
    dataset: str,
    storage: Storage | None,
) -> ExecutionInfo:
    """Follow one execution with the progress view; Ctrl-C cancels a local one."""
    from baton_cli.follow import LakeWatch, follow, tracked_for
    from baton_cli.progress import ProgressView

    tracked = tracked_for(info, argument, dataset)
    view = ProgressView(console.rich(), tracked)
    watch = LakeWatch(storage, tracked)
    console.print(f"started execution {info.id} ({info.where})")
    try:
        final, _ = follow(target, info, watch, view, poll_s=POLL_S[target.kind])
    except KeyboardInterrupt:
        if target.kind != "local":
            console.print(
                f"stopped following; execution {info.id} keeps running on GCP: "
                f"baton executions describe {info.id} --target gcp"
            )
            raise typer.Exit(int(OperatorExit.EXECUTION_FAILED)) from None
        console.print(f"cancelling execution {info.id} ...")
        final = target.cancel(info.id)
    return final


def format_duration(seconds: float) -> str:
    """Seconds as s, min or h."""
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def format_when(seconds: float | None) -> str:
    """An epoch time in local time, or "-"."""
    if seconds is None:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(seconds))
