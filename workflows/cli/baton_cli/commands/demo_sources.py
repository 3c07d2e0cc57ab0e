"""`baton demo sources`: the two demo source datasets end to end through the workflow.

It starts `baton demo api` and a `baton demo db` PostgreSQL (loopback, throwaway credentials),
runs `baton run --dataset flights_api` and `--dataset flights_db` for the dates, stops both,
and prints per dataset and date the rows the source holds, extracted, loaded and quarantined.
"""

from __future__ import annotations

import io
import os
import secrets
import subprocess
import sys
from collections.abc import Mapping
from datetime import date
from typing import Annotated

import typer

from baton.config import load_settings
from baton.dates import date_option, days_between
from baton.storage import open_storage
from baton_cli.accounting import ledger
from baton_cli.commands.demo_api import DemoApi, FlightsByDay
from baton_cli.commands.demo_db import LocalPostgres, flights_frame, seed_flights
from baton_cli.demo import seed
from baton_cli.options import console

DATASETS = ("flights_api", "flights_db")


def _run(dataset: str, start: date, end: date, env: Mapping[str, str]) -> int:
    argv = [sys.executable, "-m", "baton_cli", "run", "--dataset", dataset]
    argv += ["--start", start.isoformat(), "--end", end.isoformat(), "--no-report"]
    return subprocess.run(argv, env=dict(env), check=False).returncode


def _db_counts(db: LocalPostgres) -> dict[date, int]:
    with db.connect() as conn:
        rows = conn.execute(
            "SELECT make_date(year, month, day), count(*) FROM flights GROUP BY 1"
        ).fetchall()
    return {day: int(n) for day, n in rows}


def sources_cmd(
    start: Annotated[
        date, typer.Option(parser=date_option, metavar="YYYY-MM-DD", help="first date")
    ] = date(2013, 1, 1),
    end: Annotated[
        date, typer.Option(parser=date_option, metavar="YYYY-MM-DD", help="last date (inclusive)")
    ] = date(2013, 1, 3),
) -> None:
    """Run flights_api and flights_db through the workflow against the demo API and database.

    Starts and stops both servers itself; exits 1 unless every date balances: the rows the
    source holds == extracted == loaded + quarantined.
    """
    settings = load_settings(environ=os.environ)
    if not settings.lake_root.startswith("gs://"):
        os.makedirs(settings.lake_root, exist_ok=True)
    storage = open_storage(settings.lake_root)
    seed(storage, start, end)  # the reference tables the flights transform joins
    token, password = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    data = FlightsByDay((start, end))  # the API serves the dates run
    held: dict[str, dict[date, int]] = {}
    codes = {}
    with DemoApi(token, log=io.StringIO(), data=data) as api, LocalPostgres(password) as db:
        seed_flights(db, flights_frame((start, end)))
        typer.echo(f"demo API on {api.url}, PostgreSQL on {db.dsn('****')}", err=True)
        env = {
            **os.environ,
            "BATON_FLIGHTS_API_URL": api.url,
            "BATON_FLIGHTS_API_TOKEN": token,
            "BATON_FLIGHTS_DB_DSN": db.dsn().replace(f":{password}@", "@"),
            "BATON_FLIGHTS_DB_PASSWORD": password,
        }
        for dataset in DATASETS:
            console.print(f"[bold]{dataset}[/bold]: baton run {start}..{end}")
            codes[dataset] = _run(dataset, start, end, env)
        days = days_between(start, end)
        held["flights_api"] = {d: len(data.rows(d)) for d in days}
        held["flights_db"] = _db_counts(db)
    balanced = _print(storage, held, start, end)
    if not balanced or any(codes.values()):
        raise typer.Exit(1)


def _print(storage, held: Mapping[str, Mapping[date, int]], start: date, end: date) -> bool:
    """One line per dataset and date (plain text: it reads the same in a log); all balanced?"""
    columns = ("dataset", "date", "source", "extracted", "loaded", "quarantined", "balanced")
    typer.echo(f"demo sources in {storage.root}")
    typer.echo("".join(f"{c:<13}" for c in columns).rstrip())
    every = True
    for dataset in DATASETS:
        for row in ledger(storage, dataset, days_between(start, end)):
            source = held[dataset].get(row.day, 0)
            ok = bool(row.balanced) and row.landed == source
            every &= ok
            cells = (
                dataset,
                row.day.isoformat(),
                source,
                "-" if row.landed is None else row.landed,
                "-" if row.loaded is None else row.loaded,
                row.quarantined,
                "yes" if ok else "NO",
            )
            typer.echo("".join(f"{c!s:<13}" for c in cells).rstrip())
    return every
