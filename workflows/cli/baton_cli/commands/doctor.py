"""`baton doctor`: whether a deployment (or the local twin) will run, one ok/fail line per check
with the fix; with --canary, then one real execution on the reserved canary dataset. Exit 0 when
all hold; 1 when the deployment differs from what `pulumi up` makes or the canary failed; 5 when
a read or write was refused (IAM); 75 when an API could not be reached; 3 for a bad setting."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer

from baton.config import Settings
from baton.datasets.canary import NAME as CANARY_NAME
from baton.errors import ConfigError
from baton.jobs import load_jobs
from baton.storage import open_storage
from baton.warehouse import open_warehouse
from baton_cli.doctor import Check, Expected, exit_code, failed
from baton_cli.doctor_canary import DEFAULT_TIMEOUT_S
from baton_cli.options import (
    ProjectOpt,
    RegionOpt,
    TargetOpt,
    WorkflowOpt,
    console,
    escape,
    exit_codes,
    load_config,
)
from baton_cli.targets.config import OpsConfig
from baton_cli.targets.gcp import is_loopback


def _images(path: Path | None) -> dict[str, str] | None:
    if path is None:
        return None
    try:
        raw = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise ConfigError(
            f"--images {path}: not a readable JSON file ({err}); write it with "
            "`pulumi stack output images --json > images.json`",
            reason="bad_images_file",
        ) from err
    if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
        raise ConfigError(
            f"--images {path}: expected a JSON object step -> image reference",
            reason="bad_images_file",
        )
    return raw


def _print(checks: list[Check]) -> None:
    width = max((len(c.name) for c in checks), default=0)
    for check in checks:
        mark = "[green]ok  [/green]" if check.ok else "[red]fail[/red]"
        console.print(f"{mark}  {escape(check.name.ljust(width))}  {escape(check.detail)}")
        if not check.ok and check.fix:
            console.print(f"      {' ' * width}  fix: {escape(check.fix)}")
    bad = sum(not c.ok for c in checks)
    console.print(f"{len(checks) - bad} of {len(checks)} checks passed")


def _canary(settings: Settings, config: OpsConfig, timeout_s: float) -> list[Check]:
    from baton_cli.doctor_canary import Canary, run_canary
    from baton_cli.targets import open_target

    root = settings.lake_root
    if (
        config.target == "gcp"
        and not root.startswith("gs://")
        and not is_loopback(config.run_endpoint)
    ):
        return [
            failed(
                "canary landing",
                f"the lake is {root}, not the deployed gs:// lake (the deployed workflow names "
                "none)",
                "export BATON_LAKE=gs://<lake bucket>[/<baton:lakePrefix>] before --canary",
            )
        ]
    storage = open_storage(root)
    warehouse = open_warehouse(settings, storage, "doctor-canary")
    with open_target(config, settings, os.environ, parallelism=1) as target:
        poll_s = 0.2 if config.target == "local" or is_loopback(config.run_endpoint) else 2.0
        return run_canary(Canary(storage, target, warehouse, timeout_s=timeout_s, poll_s=poll_s))


def _canary_after(
    checks: list[Check], settings: Settings, config: OpsConfig, timeout_s: float
) -> list[Check]:
    """The canary's stages, or why it did not run (a deployment failing a check would fail it
    for that reason, and the check already names the fix)."""
    bad = sum(not c.ok for c in checks)
    if bad:
        return [
            failed(
                "canary",
                f"not run: {bad} check(s) above failed",
                "fix them first, then baton doctor --canary again",
            )
        ]
    return _canary(settings, config, timeout_s)


def doctor_cmd(
    target: TargetOpt = None,
    project: ProjectOpt = None,
    region: RegionOpt = None,
    workflow: WorkflowOpt = None,
    images: Annotated[
        Path | None,
        typer.Option(
            "--images",
            help="JSON step -> image the jobs must run (`pulumi stack output images --json`)",
            dir_okay=False,
        ),
    ] = None,
    canary: Annotated[
        bool,
        typer.Option(
            "--canary",
            help="then run the deployed workflow once on the reserved canary dataset "
            f"({CANARY_NAME}) and remove everything it made",
        ),
    ] = False,
    canary_timeout: Annotated[
        float,
        typer.Option(help="seconds the canary execution may take before it is cancelled", min=1),
    ] = DEFAULT_TIMEOUT_S,
) -> None:
    """Check that a deployment will run: APIs, workflow, jobs, schedule, lake, warehouse, IAM.

    --target gcp reads the deployment through Google's APIs (with BATON_RUN_ENDPOINT on loopback, from `baton serve`), including every runtime identity's IAM policies; --target local checks the local twin: lake, warehouse, jobs, YAML. --canary then runs one execution through all four jobs on the canary dataset, checks its rows and table, and cleans up. Exit 0 all hold, 1 the deployment differs or the canary failed, 5 a read was refused, 75 an API was unreachable.

    Examples:

      baton doctor --target gcp --project my-project --region europe-west1

      baton doctor --target gcp --canary

      baton doctor --target local --canary
    """
    with exit_codes():
        settings, config = load_config(target, project, region, workflow)
        if config.target == "local":
            from baton_cli.doctor_local import local_checks

            checks = local_checks(settings)
        else:
            from baton_cli.doctor_gcp import GcpReader, deployed_settings, gcp_checks
            from baton_twin.local_engine import PIPELINE

            name = config.job_prefix.rstrip("-")
            expected = Expected(
                project=config.project,
                region=config.region,
                name=name,
                workflow=config.workflow,
                source=PIPELINE.read_text(),
                jobs=load_jobs(),
                images=_images(images),
            )
            root = settings.lake_root
            bucket = (
                root.removeprefix("gs://").split("/", 1)[0] if root.startswith("gs://") else None
            )
            dataset = os.environ.get("BATON_BQ_DATASET") or name.replace("-", "_")
            reader = GcpReader(config)
            try:
                checks = gcp_checks(reader, expected, bucket=bucket, dataset=dataset)
                if canary:
                    settings = deployed_settings(reader, expected, settings, dataset)
            finally:
                reader.close()
        if canary:
            checks += _canary_after(checks, settings, config, canary_timeout)
    _print(checks)
    code = exit_code(checks)
    if code:
        raise typer.Exit(int(code))
