"""The incremental merge and extract's quarantine, against a real PostgreSQL on loopback: a row
quarantined by a commit and fixed upstream is loaded by the next run and leaves the quarantine;
a loaded row changed upstream to a value extract cannot parse leaves the loaded rows and enters
the quarantine. Either way each row is counted once: rows_in == rows_out + rows_quarantined in
extract's manifest, and the partition's ledger (what `baton status` accounts) balances.

The bad value is a `time_hour` of `infinity`: PostgreSQL stores it, extract cannot read it as a
UTC datetime (`unparsable:time_hour`)."""

from __future__ import annotations

import polars as pl
import psycopg
import pytest
from lakes import JAN_2, Lake, warehouse_rows
from pg_server import PG_PASSWORD, sql

from baton.errors import ExitCode
from baton_cli.accounting import ledger

DATASET = "flights_db"
ALL_OK = [ExitCode.OK] * 4
DAY_ROWS = 943
FIRST_ID = "(SELECT min(id) FROM flights WHERE day = 2)"


def _quarantined_ids(lake: Lake) -> list[int]:
    raw = lake.manifest("extract", JAN_2, DATASET)
    keys = [lake.root / q.key for q in raw.quarantine]
    if not keys:
        return []
    return sorted(int(i) for i in pl.read_parquet(keys)["id"].to_list())


def _loaded_ids(lake: Lake) -> pl.Series:
    raw = lake.manifest("extract", JAN_2, DATASET)
    return pl.read_parquet([lake.root / f.key for f in raw.files])["id"]


def _assert_counted_once(lake: Lake, loaded: int, quarantined: int) -> None:
    raw = lake.manifest("extract", JAN_2, DATASET)
    assert (raw.rows_in, raw.rows_out, raw.rows_quarantined) == (DAY_ROWS, loaded, quarantined)
    assert sum(q.rows for q in raw.quarantine) == quarantined
    ids = _loaded_ids(lake)
    assert ids.len() == ids.n_unique() == loaded
    assert not set(ids.to_list()) & set(_quarantined_ids(lake))
    (account,) = ledger(lake.storage, DATASET, [JAN_2])
    assert (account.landed, account.loaded, account.quarantined) == (DAY_ROWS, loaded, quarantined)
    assert account.balanced is True
    warehouse = warehouse_rows(lake, DATASET).filter(pl.col("flight_date") == JAN_2)
    assert warehouse.height == loaded


@pytest.fixture
def first_id(flights_db: str) -> int:
    """The id of Jan 2's first flight upstream."""
    with psycopg.connect(flights_db, password=PG_PASSWORD) as conn:
        return int(conn.execute(f"SELECT {FIRST_ID}").fetchone()[0])


def test_a_quarantined_row_fixed_upstream_is_loaded_and_leaves_the_quarantine(
    committed_lake, flights_db, first_id
):
    sql(flights_db, f"CREATE TABLE kept AS SELECT id, time_hour FROM flights WHERE id = {first_id}")
    sql(flights_db, f"UPDATE flights SET time_hour = 'infinity' WHERE id = {first_id}")
    assert committed_lake.chain(JAN_2, DATASET) == ALL_OK
    assert _quarantined_ids(committed_lake) == [first_id]
    _assert_counted_once(committed_lake, DAY_ROWS - 1, 1)

    sql(
        flights_db,
        "UPDATE flights f SET time_hour = k.time_hour, updated_at = now() FROM kept k "
        "WHERE f.id = k.id",
    )
    assert committed_lake.chain(JAN_2, DATASET) == ALL_OK

    mark = committed_lake.manifest("extract", JAN_2, DATASET).extra["watermark"]
    assert (mark["mode"], mark["fetched"]) == ("changes", 1)
    assert _quarantined_ids(committed_lake) == []
    assert first_id in _loaded_ids(committed_lake).to_list()
    _assert_counted_once(committed_lake, DAY_ROWS, 0)


def test_a_loaded_row_changed_to_a_bad_value_leaves_the_loaded_rows_for_the_quarantine(
    committed_lake, flights_db, first_id
):
    assert committed_lake.chain(JAN_2, DATASET) == ALL_OK
    _assert_counted_once(committed_lake, DAY_ROWS, 0)

    sql(
        flights_db,
        f"UPDATE flights SET time_hour = 'infinity', updated_at = now() WHERE id = {first_id}",
    )
    assert committed_lake.chain(JAN_2, DATASET) == ALL_OK

    mark = committed_lake.manifest("extract", JAN_2, DATASET).extra["watermark"]
    assert (mark["mode"], mark["fetched"]) == ("changes", 1)
    assert _quarantined_ids(committed_lake) == [first_id]
    assert first_id not in _loaded_ids(committed_lake).to_list()
    _assert_counted_once(committed_lake, DAY_ROWS - 1, 1)


def test_a_quarantined_row_changed_again_but_still_bad_is_quarantined_once(
    committed_lake, flights_db, first_id
):
    sql(flights_db, f"UPDATE flights SET time_hour = 'infinity' WHERE id = {first_id}")
    assert committed_lake.chain(JAN_2, DATASET) == ALL_OK

    sql(
        flights_db,
        f"UPDATE flights SET dep_delay = 99, updated_at = now() WHERE id = {first_id}",
    )
    assert committed_lake.chain(JAN_2, DATASET) == ALL_OK

    assert _quarantined_ids(committed_lake) == [first_id]
    raw = committed_lake.manifest("extract", JAN_2, DATASET)
    (bad,) = pl.read_parquet([committed_lake.root / q.key for q in raw.quarantine]).to_dicts()
    assert bad["dep_delay"] == "99"  # the new version, not the one first quarantined
    _assert_counted_once(committed_lake, DAY_ROWS - 1, 1)
