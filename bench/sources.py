"""`python -m bench.sources` (part of `make bench`): extract through each kind of source on a
650k-row day, beside the raw floor of that source measured in the same run.

Sources: a landing CSV, NDJSON.gz and Parquet, `baton demo api` (5,000-row pages) and a
PostgreSQL table (`baton demo db`'s server). Each extract runs `run_partition` of the extract
step in a fresh process (bench/processes.py measures its wall, CPU and peak RSS), on the day and
on a day twice its size (the RSS growth), with the floor, in `--rounds` interleaved rounds (3):
the table has each figure's median. Floors, also in fresh processes:
- files: the format decoded by polars and written as Parquet, untyped and unchecked (CSV
  `scan_csv` -> `sink_parquet`; NDJSON.gz gunzipped and `read_ndjson`; Parquet read and
  rewritten);
- the API: every page fetched and JSON-decoded with requests, then dropped;
- PostgreSQL: `COPY (query) TO STDOUT` read to the end with psycopg and dropped.
Writes bench/results/sources.json and prints the table, with the 1-minute load average before
and after each source's rounds (figures taken at a high load are not comparable).
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import os
import secrets
import shutil
import statistics
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import polars as pl

from bench.landing import scaled_day, source_flights, write_landing, write_references
from bench.processes import Measurement, measure

REPO = Path(__file__).resolve().parent.parent
DAY, DAY_2X = date(2013, 6, 3), date(2013, 6, 4)
KINDS = ("csv", "ndjson_gz", "parquet", "http", "postgres")
PAGE_ROWS = 5000
TARGET_RATIO, TARGET_RSS_MIB, TARGET_GROWTH = 2.0, 512.0, 0.20


# -- the children ---------------------------------------------------------------------------


def _dataset(kind: str) -> Any:
    from baton import datasets
    from baton.datasets import flights
    from baton.sources.files import FileSource

    if kind == "csv":
        return datasets.get("flights")
    if kind == "http":
        return datasets.get("flights_api")
    if kind == "postgres":
        return datasets.get("flights_db")
    fmt, path = {
        "ndjson_gz": ("ndjson", "flights_ndjson/{date}.ndjson.gz"),
        "parquet": ("parquet", "flights_parquet/{date}.parquet"),
    }[kind]
    source = FileSource(
        schema=flights.SOURCE.schema,
        format=fmt,
        path=path,
        datetime_formats=flights.SOURCE.datetime_formats,
    )
    name = path.split("/", 1)[0]
    return replace(
        flights.DATASET,
        name=name,
        source=source,
        destination=replace(flights.DATASET.destination, table=name),
        marts=(),
    )


def extract_child(kind: str, day: date) -> int:
    """Extract one partition of `kind` (forced), as the extract job would."""
    from baton.entry import plain_process

    plain_process()  # as the job's process entry: plain logs, rich never imported
    from baton.config import load_settings
    from baton.lake import step_prefix
    from baton.parquet import bound_read_ahead
    from baton.step import Partition, new_run_id, run_partition
    from baton.storage import LocalStorage
    from baton.task import TaskContext
    from baton_extract.job import STEP

    bound_read_ahead(os.environ)  # as the extract job's process entry does (baton.entry)
    home = Path(os.environ["BATON_HOME"])
    settings = load_settings({}, {"BATON_HOME": str(home)})
    task = TaskContext.from_env({})
    dataset = _dataset(kind)
    # Every run reads the partition whole, as a first run does: an earlier round's commit
    # would turn a watermarked source's run into a read of no changes.
    shutil.rmtree(home / "lake" / step_prefix("extract", dataset.name, day), ignore_errors=True)
    part = Partition(
        "extract", dataset, day, LocalStorage(home / "lake"), settings, task, new_run_id(task)
    )
    result = run_partition(STEP, part, force=True)
    assert result.manifest is not None
    print(json.dumps({"rows": result.manifest.rows_in}))
    return 0


def floor_child(kind: str, day: date) -> int:
    """The raw floor of `kind` for `day` (see the module docstring)."""
    lake = Path(os.environ["BATON_HOME"]) / "lake" / "landing"
    out = Path(os.environ["BATON_HOME"]) / f"floor-{kind}.parquet"
    if kind == "csv":
        pl.scan_csv(lake / "flights" / f"{day}.csv", infer_schema=False).sink_parquet(out)
    elif kind == "ndjson_gz":
        with gzip.open(lake / "flights_ndjson" / f"{day}.ndjson.gz") as fh:
            pl.read_ndjson(fh).write_parquet(out)
    elif kind == "parquet":
        pl.scan_parquet(lake / "flights_parquet" / f"{day}.parquet").sink_parquet(out)
    elif kind == "http":
        _fetch_pages(day)
    else:
        _copy_out(day)
    return 0


def _fetch_pages(day: date) -> None:
    import requests

    url, token = os.environ["BATON_FLIGHTS_API_URL"], os.environ["BATON_FLIGHTS_API_TOKEN"]
    params: dict[str, str] = {"date": day.isoformat(), "limit": str(PAGE_ROWS)}
    with requests.Session() as session:
        while True:
            page = session.get(
                url, params=params, headers={"Authorization": f"Bearer {token}"}, timeout=60
            ).json()
            if not page.get("next_cursor"):
                return
            params["cursor"] = page["next_cursor"]


def _copy_out(day: date) -> None:
    import psycopg

    from baton.datasets.flights_db import SOURCE

    dsn, password = os.environ["BATON_FLIGHTS_DB_DSN"], os.environ["BATON_FLIGHTS_DB_PASSWORD"]
    query = SOURCE.query.replace("%(year)s", str(day.year))
    query = query.replace("%(month)s", str(day.month)).replace("%(day)s", str(day.day))
    with (
        psycopg.connect(dsn, password=password) as conn,
        conn.cursor() as cur,
        cur.copy(f"COPY ({query}) TO STDOUT") as copy,
    ):
        for _ in copy:
            pass


# -- the driver -----------------------------------------------------------------------------


class PagedDay:
    """A scaled day as the demo API's row source: pages decoded from polars on demand, so the
    driver never holds 650k dicts."""

    def __init__(self, frames: dict[date, pl.DataFrame]) -> None:
        self.frames = frames

    def rows(self, day: date) -> Any:
        return _Rows(self.frames.get(day, pl.DataFrame()))


class _Rows:
    def __init__(self, frame: pl.DataFrame) -> None:
        self.frame = frame

    def __len__(self) -> int:
        return self.frame.height

    def __getitem__(self, window: slice) -> list[dict[str, Any]]:
        start, stop, _ = window.indices(self.frame.height)
        return self.frame.slice(start, stop - start).to_dicts()


def _typed(text: pl.DataFrame) -> pl.DataFrame:
    """A scaled text day with the raw schema's types (as the API and the database hold it)."""
    from baton.datasets import flights

    schema = flights.SOURCE.schema
    return text.with_columns(
        [pl.col(c).cast(t) for c, t in schema.items() if t != pl.String() and c != "time_hour"]
    ).with_columns(
        pl.col("time_hour").str.to_datetime(
            flights.SOURCE.datetime_formats["time_hour"], time_zone="UTC"
        )
    )


def _land(home: Path, days: dict[date, pl.DataFrame]) -> None:
    lake = home / "lake"
    write_references(lake)
    for day, text in days.items():
        write_landing(lake, text, day)
        nd = lake / "landing" / "flights_ndjson" / f"{day}.ndjson.gz"
        nd.parent.mkdir(parents=True, exist_ok=True)
        buffer = io.BytesIO()
        text.write_ndjson(buffer)
        nd.write_bytes(gzip.compress(buffer.getvalue(), compresslevel=6))
        pq = lake / "landing" / "flights_parquet" / f"{day}.parquet"
        pq.parent.mkdir(parents=True, exist_ok=True)
        _typed(text).write_parquet(pq)


def _arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.sources", description=__doc__)
    parser.add_argument("--rows", type=int, default=650_000, help="rows of the day")
    parser.add_argument(
        "--out", type=Path, default=REPO / "bench" / "results" / "sources.json", help="JSON file"
    )
    parser.add_argument("--only", nargs="*", choices=KINDS, default=list(KINDS))
    parser.add_argument(
        "--rounds", type=int, default=3, help="interleaved runs of each; the table has medians"
    )
    return parser.parse_args(argv)


def _environment(home: Path, extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BATON_", "CLOUD_RUN_"))}
    return env | {"BATON_HOME": str(home), "PYTHONPATH": str(REPO)} | extra


def _child(mode: str, kind: str, day: date) -> list[str]:
    return [sys.executable, "-m", "bench.sources", mode, kind, day.isoformat()]


def _median(runs: list[Measurement]) -> Measurement:
    """Each figure's median over the runs (a process's peak RSS varies by some 30 MiB between
    runs of the same input here, with polars' threads: one run's growth figure is noise)."""
    return Measurement(
        wall_s=statistics.median(m.wall_s for m in runs),
        peak_rss_mib=statistics.median(m.peak_rss_mib for m in runs),
        cpu_s=statistics.median(m.cpu_s for m in runs),
    )


def _row(kind: str, env: dict[str, str], rounds: int) -> dict[str, Any]:
    runs: dict[str, list[Measurement]] = {"floor": [], "one": [], "two": []}
    load_before = os.getloadavg()[0]
    for _ in range(rounds):  # interleaved, so a busy spell touches all three alike
        runs["floor"].append(measure(_child("floor", kind, DAY), env))
        runs["one"].append(measure(_child("extract", kind, DAY), env))
        runs["two"].append(measure(_child("extract", kind, DAY_2X), env))
    floor, one, two = (_median(runs[k]) for k in ("floor", "one", "two"))
    return {
        "source": kind,
        "rounds": rounds,
        "wall_s": round(one.wall_s, 2),
        "cpu_s": round(one.cpu_s, 2),
        "peak_rss_mib": round(one.peak_rss_mib),
        "floor_wall_s": round(floor.wall_s, 2),
        "floor_cpu_s": round(floor.cpu_s, 2),
        "floor_peak_rss_mib": round(floor.peak_rss_mib),
        "ratio": round(one.wall_s / floor.wall_s, 2),
        "cpu_ratio": round(one.cpu_s / floor.cpu_s, 2),
        "peak_rss_2x_mib": round(two.peak_rss_mib),
        "rss_growth": round(two.peak_rss_mib / one.peak_rss_mib - 1, 3),
        "load_avg_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }


def _load(row: dict[str, Any]) -> str:
    """The 1-minute load average before and after the source's rounds."""
    before, after = row["load_avg_1m"]
    return f"{before:.1f}-{after:.1f}"


def table(rows: Sequence[dict[str, Any]], day_rows: int) -> str:
    """The per-source table, with the targets met or not."""
    lines = [
        f"extract per source, {day_rows:,} rows, medians of interleaved rounds (rows/s at 1x; "
        "growth: peak RSS at 2x vs 1x)",
        f"{'source':<10} {'wall s':>7} {'cpu s':>6} {'rows/s':>9} {'RSS MiB':>8} "
        f"{'floor s':>8} {'ratio':>6} {'cpu ratio':>9} {'2x RSS':>7} {'growth':>7} {'load':>9}  "
        "targets",
    ]
    for r in rows:
        met = (
            r["ratio"] <= TARGET_RATIO,
            r["peak_rss_mib"] < TARGET_RSS_MIB,
            r["rss_growth"] <= TARGET_GROWTH,
        )
        lines.append(
            f"{r['source']:<10} {r['wall_s']:>7.2f} {r['cpu_s']:>6.2f} "
            f"{day_rows / r['wall_s']:>9,.0f} {r['peak_rss_mib']:>8} {r['floor_wall_s']:>8.2f} "
            f"{r['ratio']:>6.2f} {r['cpu_ratio']:>9.2f} {r['peak_rss_2x_mib']:>7} "
            f"{r['rss_growth']:>+7.0%} {_load(r):>9}  "
            + " ".join(
                ("ok" if m else "MISS") + f":{n}"
                for m, n in zip(met, ("2x", "rss", "+20%"), strict=True)
            )
        )
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    if argv and argv[0] in ("extract", "floor"):
        mode, kind, day = argv[0], argv[1], date.fromisoformat(argv[2])
        return (extract_child if mode == "extract" else floor_child)(kind, day)
    from baton_cli.commands.demo_api import DemoApi
    from baton_cli.commands.demo_db import LocalPostgres, seed_flights

    args = _arguments(argv)
    home = Path(tempfile.mkdtemp(prefix="baton-bench-sources-"))
    try:
        source = source_flights()
        days = {
            DAY: scaled_day(source, DAY, args.rows),
            DAY_2X: scaled_day(source, DAY_2X, 2 * args.rows),
        }
        _land(home, days)
        typed = {d: _typed(t) for d, t in days.items()}
        ints = [c for c, t in typed[DAY].schema.items() if t.is_integer()]
        served = {
            d: t.with_columns(pl.col(c).cast(pl.Int64) for c in ints) for d, t in days.items()
        }
        del days, source
        token, password = secrets.token_urlsafe(12), secrets.token_urlsafe(12)
        with (
            DemoApi(token, log=io.StringIO(), data=PagedDay(served), page_size=PAGE_ROWS) as api,
            LocalPostgres(password) as db,
        ):
            if "postgres" in args.only:
                seed_flights(db, pl.concat(list(typed.values())))
            env = _environment(
                home,
                {
                    "BATON_FLIGHTS_API_URL": api.url,
                    "BATON_FLIGHTS_API_TOKEN": token,
                    "BATON_FLIGHTS_DB_DSN": db.dsn().replace(f":{password}@", "@"),
                    "BATON_FLIGHTS_DB_PASSWORD": password,
                },
            )
            rows = []
            for kind in args.only:
                rows.append(_row(kind, env, args.rounds))
                print(table(rows[-1:], args.rows).splitlines()[-1], flush=True)
        report = {
            "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": {"cpus": os.cpu_count(), "load_avg": os.getloadavg()},
            "rows": args.rows,
            "sources": rows,
        }
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2) + "\n")
        print(table(rows, args.rows))
    finally:
        shutil.rmtree(home, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
