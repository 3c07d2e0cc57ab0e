"""`baton serve`: the local twin behind the GCP APIs, on loopback, until interrupted."""

from __future__ import annotations

import os
import signal
import threading
from contextlib import suppress
from typing import Annotated

import typer

from baton.errors import ExitCode
from baton_cli.commands.run import IamOpt, with_iam
from baton_cli.options import (
    WorkflowOpt,
    console,
    exit_codes,
    load_config,
)
from baton_cli.targets.gcp import LOOPBACK


def serve_cmd(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="REST API and console port (0: any free)")] = 8080,
    grpc_port: Annotated[
        int, typer.Option(help="Workflow Executions gRPC port (0: any free)")
    ] = 8081,
    project: Annotated[str, typer.Option(help="project the API answers as")] = "baton-local",
    region: Annotated[str, typer.Option(help="location the API answers as")] = "local",
    workflow: WorkflowOpt = None,
    fast_retries: Annotated[
        bool, typer.Option("--fast-retries", help="retry failed jobs without the backoff wait")
    ] = False,
    iam: IamOpt = None,
) -> None:
    """Serve the local twin through the GCP APIs (Workflow Executions, Cloud Run jobs.run).

    Workflow Executions API v1 over REST and gRPC, Cloud Run Admin API v2 jobs.run and its operations over REST, and a console page listing the executions: `--target gcp` and Google's client libraries drive the local twin as they drive GCP. No authentication, so it listens on loopback by default.

    Examples:

      baton serve

      BATON_GCP_PROJECT=baton-local BATON_GCP_REGION=local \\
      BATON_WORKFLOWS_ENDPOINT=127.0.0.1:8081 BATON_RUN_ENDPOINT=http://127.0.0.1:8080 \\
        baton run --date 2013-01-02 --target gcp
    """
    # Imported here: the servers pull in grpc and Google's client libraries, which no other
    # `baton` command needs at start-up.
    from baton_cli.report.pages import console_pages
    from baton_twin.server import ServeOptions, build_server

    with exit_codes():
        settings, config = load_config(None, workflow=workflow)
        settings, environ = with_iam(iam, settings, os.environ)
        options = ServeOptions(
            project, region, config.workflow, host, port, grpc_port, fast_retries
        )
        try:
            server = build_server(settings, environ, options, console_pages(settings))
        except OSError as err:
            console.print(f"[red]error[/red]: cannot listen: {err}; pick other ports")
            raise typer.Exit(int(ExitCode.CONFIG)) from err
    if host not in LOOPBACK:
        console.print(f"[yellow]warning[/yellow]: listening on {host} with no authentication")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with server:
        console.print(f"serving {server.workflows.parent} from {settings.home}")
        console.print(f"  console and REST  {server.rest_endpoint}/")
        console.print(f"  gRPC (Workflow Executions)  {server.grpc_endpoint}")
        console.print("point --target gcp at it with:")
        console.print(
            f"  export BATON_GCP_PROJECT={project} BATON_GCP_REGION={region} "
            f"BATON_WORKFLOWS_ENDPOINT={server.grpc_endpoint} "
            f"BATON_RUN_ENDPOINT={server.rest_endpoint}"
        )
        with suppress(KeyboardInterrupt):
            stop.wait()
    console.print("stopped")
