"""The bad-source corpus of the SQL source, against a real PostgreSQL on loopback: each failure
has its exit code and a message naming the database (user, host, port, name) and what to do,
never the password; and each leaves every committed partition and warehouse row untouched.

Choices (docs/datasets.md): an unreachable server is transient (75: a restart or failover ends;
retried in process, then by the workflow); a wrong password or a missing database is 5; a query
that fails, a column whose type changed and a watermark column with nulls are 4 (a null mark
could never be picked up by "changed since", so it fails rather than quarantines)."""

from __future__ import annotations

import dataclasses
import re

import pytest
from lakes import JAN_2, Lake, assert_untouched, committed_snapshot, warehouse_tables
from pg_server import PG_PASSWORD, sql
from typer.testing import CliRunner

from baton import datasets
from baton.config import load_settings
from baton.errors import ExitCode, TransientError
from baton.sources.sql import SqlRetry
from baton.step import Partition, new_run_id, run_partition
from baton.task import TaskContext
from baton_extract.cli import app as extract_app
from baton_extract.job import STEP as EXTRACT

DATASET = "flights_db"
WHERE = re.compile(r"database postgresql://baton@127\.0\.0\.1:\d+/t_[0-9a-f]{12}")


@pytest.fixture
def committed(committed_lake: Lake, flights_db: str) -> tuple[Lake, dict, dict]:
    """flights_db 2013-01-02 committed through load, and snapshots of the lake and warehouse."""
    assert committed_lake.chain(JAN_2, DATASET) == [ExitCode.OK] * 4
    return committed_lake, committed_snapshot(committed_lake), warehouse_tables(committed_lake)


def _extract(lake: Lake, **env: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        extract_app,
        ["run", "--date", JAN_2.isoformat(), "--dataset", DATASET],
        env={**lake.environ(), **env},
    )
    return result.exit_code, result.output


def test_a_wrong_password_is_exit_5_naming_the_database_and_the_secret(committed):
    lake, before, tables = committed
    wrong = "not-the-password-93ab"

    code, output = _extract(lake, BATON_FLIGHTS_DB_PASSWORD=wrong)

    assert code == ExitCode.UNAVAILABLE
    assert WHERE.search(output)
    assert 'password authentication failed for user \\"baton\\"' in output
    assert "check secret projects/baton-demo/secrets/flights-db-password" in output
    assert wrong not in output and PG_PASSWORD not in output
    for path in lake.root.rglob("*"):  # the attempt record holds the message, not the values
        if path.is_file():
            data = path.read_bytes()
            assert wrong.encode() not in data and PG_PASSWORD.encode() not in data, path
    assert_untouched(lake, before, tables)


def test_an_unreachable_server_is_transient_after_bounded_retries(committed, monkeypatch):
    lake, before, tables = committed
    monkeypatch.setenv("BATON_FLIGHTS_DB_DSN", "postgresql://baton@127.0.0.1:9/flights")
    dataset = datasets.get(DATASET)
    quick = SqlRetry(attempts=2, initial_wait_s=0.01, max_wait_s=0.01)
    dataset = dataclasses.replace(dataset, source=dataclasses.replace(dataset.source, retry=quick))
    task = TaskContext.from_env({})
    settings = load_settings({}, {"BATON_HOME": str(lake.home)})
    part = Partition("extract", dataset, JAN_2, lake.storage, settings, task, new_run_id(task))

    with pytest.raises(TransientError) as caught:
        run_partition(EXTRACT, part)

    assert caught.value.exit_code == ExitCode.TRANSIENT
    assert caught.value.message.startswith(
        "database postgresql://baton@127.0.0.1:9/flights is unreachable: connection failed:"
    )
    assert caught.value.message.endswith("(still after 2 tries)")
    assert_untouched(lake, before, tables)


def test_a_query_that_fails_is_exit_4_with_the_database_s_diagnosis(committed, flights_db):
    lake, before, tables = committed
    sql(flights_db, "ALTER TABLE flights RENAME COLUMN carrier TO carrier_code")

    code, output = _extract(lake)

    assert code == ExitCode.DATA
    assert WHERE.search(output)
    assert 'the watermark query failed (42703: column \\"carrier\\" does not exist' in output
    assert PG_PASSWORD not in output
    assert_untouched(lake, before, tables)


def test_a_column_whose_type_changed_upstream_is_exit_4_naming_it(committed, flights_db):
    lake, before, tables = committed
    sql(flights_db, "ALTER TABLE flights ALTER COLUMN dep_delay TYPE text")
    sql(
        flights_db,
        "UPDATE flights SET updated_at = now() WHERE id = (SELECT min(id) FROM flights WHERE day = 2)",
    )

    code, output = _extract(lake)

    assert code == ExitCode.DATA
    assert WHERE.search(output)
    assert "a column's type changed upstream: column dep_delay is text, declared Int32" in output
    assert_untouched(lake, before, tables)


def test_a_watermark_column_with_nulls_is_exit_4_naming_it(committed, flights_db):
    lake, before, tables = committed
    sql(flights_db, "ALTER TABLE flights ALTER COLUMN updated_at DROP NOT NULL")
    sql(
        flights_db,
        "UPDATE flights SET updated_at = NULL WHERE id IN (SELECT id FROM flights WHERE day = 2 LIMIT 3)",
    )

    code, output = _extract(lake)

    assert code == ExitCode.DATA
    assert WHERE.search(output)
    assert "watermark column updated_at is null in 3 of 943 rows for 2013-01-02" in output
    assert_untouched(lake, before, tables)


def test_a_missing_database_is_exit_5(committed, flights_db, monkeypatch):
    lake, before, tables = committed
    monkeypatch.setenv("BATON_FLIGHTS_DB_DSN", flights_db.rsplit("/", 1)[0] + "/no_such_db")

    code, output = _extract(lake)

    assert code == ExitCode.UNAVAILABLE
    assert 'database \\"no_such_db\\" does not exist' in output
    assert_untouched(lake, before, tables)
