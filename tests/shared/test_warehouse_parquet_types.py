"""Everything bound for the warehouse has a Parquet type BigQuery documents loading: every
registered dataset's contract (the validated rows load loads) and every mart, and the Parquet a
mart is actually written as.

BigQuery's Parquet conversions table
(https://cloud.google.com/bigquery/docs/loading-data-cloud-storage-parquet#parquet_conversions)
maps BOOLEAN, signed INT32/INT64, FLOAT, DOUBLE, BYTE_ARRAY (STRING, BYTES), DATE, TIMESTAMP
(milli/microseconds, UTC-adjusted or not) and DECIMAL. It lists no unsigned logical type
(UINT_8..UINT_64), and other engines reject them, so an unsigned column is refused here
whatever BigQuery happens to do with it. Int8/Int16 (INT32 with an 8/16-bit INT annotation)
are left out for the same reason: nothing needs them.
"""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from baton import datasets
from baton_load.core import build_mart

DOCUMENTED = (
    "Boolean, Int32, Int64, Float32, Float64, String, Binary, Date, Datetime(ms|us), Decimal"
)


def documented_for_bigquery(dtype: pl.DataType) -> bool:
    """Whether polars writes `dtype` as a Parquet type BigQuery documents loading."""
    if isinstance(dtype, pl.Datetime):
        return dtype.time_unit in ("ms", "us")
    return isinstance(
        dtype,
        (
            pl.Boolean,
            pl.Int32,
            pl.Int64,
            pl.Float32,
            pl.Float64,
            pl.String,
            pl.Binary,
            pl.Date,
            pl.Decimal,
        ),
    )


def _tables() -> list[tuple[str, tuple]]:
    tables = []
    for name, dataset in sorted(datasets.registry().items()):
        tables.append((f"{name} (contract)", dataset.contract.columns))
        tables += [(f"{name} mart {m.destination.table}", m.columns) for m in dataset.marts]
    return tables


@pytest.mark.parametrize(("table", "columns"), _tables(), ids=[t for t, _ in _tables()])
def test_every_warehouse_column_has_a_type_bigquery_documents_for_parquet_loads(table, columns):
    bad = [f"{c.name}: {c.dtype}" for c in columns if not documented_for_bigquery(c.dtype)]
    assert not bad, f"{table}: {bad}; use one of {DOCUMENTED} (cast unsigned to Int64)"


@pytest.mark.parametrize("dtype", [pl.UInt8(), pl.UInt16(), pl.UInt32(), pl.UInt64(), pl.Int8()])
def test_unsigned_and_narrow_integers_are_not_documented_types(dtype):
    assert not documented_for_bigquery(dtype)


def _validated_flights() -> pl.LazyFrame:
    return pl.LazyFrame(
        {
            "flight_date": [date(2013, 1, 2)] * 3,
            "carrier": ["AA", "AA", "UA"],
            "carrier_name": ["American", "American", "United"],
            "status": ["scheduled", "cancelled", "scheduled"],
            "delay_bucket": ["on_time", None, "late_60"],
            "arr_delay_min": [3.0, None, 70.0],
        }
    )


def test_the_carrier_mart_is_written_as_parquet_without_unsigned_columns(tmp_path):
    (mart,) = datasets.registry()["flights"].marts
    path = tmp_path / "mart.parquet"
    build_mart(mart, _validated_flights()).sink_parquet(path)
    written = pl.read_parquet_schema(path)
    bad = {k: v for k, v in written.items() if not documented_for_bigquery(v)}
    assert not bad
    assert pl.read_parquet(path).filter(pl.col("carrier") == "AA")["flights"].to_list() == [2]
