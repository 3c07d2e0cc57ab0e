"""Test plugin: the flights dataset landed in other file formats (installed by the
`format_datasets` fixture through the `baton.datasets` entry point, like any plugin)."""

from __future__ import annotations

from dataclasses import replace

from baton.datasets import flights
from baton.sources.files import FileSource
from baton.sources.http import BearerAuth, CursorPages, HttpSource, RetryPolicy
from baton.sources.secret import Secret


def _variant(name: str, **files: object):
    return replace(
        flights.DATASET,
        name=name,
        description=f"flights, landed as {name.removeprefix('flights_')}",
        source=FileSource(
            schema=flights.SOURCE.schema,
            datetime_formats=flights.SOURCE.datetime_formats,
            **files,
        ),
        destination=replace(flights.DATASET.destination, table=name),
        marts=(),
    )


DATASETS = {
    d.name: d
    for d in (
        _variant("flights_ndjson", format="ndjson"),
        _variant("flights_ndjson_gz", format="ndjson", path="{dataset}/{date}.ndjson.gz"),
        _variant("flights_json", format="json"),
        _variant("flights_json_gz", format="json", path="{dataset}/{date}.json.gz"),
        _variant("flights_csv_gz", format="csv", path="{dataset}/{date}.csv.gz"),
        _variant("flights_parquet", format="parquet"),
        _variant("flights_glob", format="csv", path="{dataset}/{date}/*.csv"),
        _variant(
            "flights_list",
            format="csv",
            path=("{dataset}/{date}-morning.csv", "{dataset}/{date}-evening.csv"),
        ),
    )
}

# Entry points name module attributes: expose each dataset as FLIGHTS_NDJSON, ...
globals().update({name.upper(): dataset for name, dataset in DATASETS.items()})


def _api(name: str, **http: object):
    """The flights dataset read from the scripted test API (tests/steps/scripted_api.py)."""
    options = {
        "schema": flights.SOURCE.schema,
        "url": "http://127.0.0.1:9/v1/flights",
        "url_env": "BATON_TEST_API_URL",
        "pagination": CursorPages(),
        "total_field": "total",
        "auth": BearerAuth(
            Secret("projects/baton-test/secrets/test-api-token", env="BATON_TEST_API_TOKEN")
        ),
        "retry": RetryPolicy(attempts=4, initial_wait_s=0.01, max_wait_s=0.05, timeout_s=5),
        "max_requests_per_second": None,
        "max_page_bytes": 64 * 1024,
        "datetime_formats": flights.SOURCE.datetime_formats,
        **http,
    }
    return replace(
        flights.DATASET,
        name=name,
        description="flights from the scripted test API",
        source=HttpSource(**options),
        destination=replace(flights.DATASET.destination, table=name),
        marts=(),
    )


API_DATASETS = {
    d.name: d for d in (_api("api_flights"), _api("api_flights_empty_ok", allow_empty=True))
}
DATASETS |= API_DATASETS
globals().update({name.upper(): dataset for name, dataset in API_DATASETS.items()})
