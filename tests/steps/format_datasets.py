"""Test plugin: the flights dataset landed in other file formats (installed by the
`format_datasets` fixture through the `baton.datasets` entry point, like any plugin)."""

from __future__ import annotations

from dataclasses import replace

from baton.datasets import flights
from baton.sources.files import FileSource


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
