"""The SQL source's spool against a real PostgreSQL: COPY's CSV, written as many raw parts
(a tiny chunk size), reads back as text exactly, whatever newlines, quotes and commas a value
holds: NULL stays null, an empty string stays empty. (psycopg hands COPY data over a row per
message, so parts end on a row boundary; `_row_boundary` guards a driver that would not.)"""

from __future__ import annotations

import io
from datetime import date

import polars as pl
import pytest
from pg_server import PG_PASSWORD, sql

from baton import log
from baton.sources import sql as sql_source
from baton.sources.landing import ReadContext
from baton.sources.secret import Secret
from baton.sources.sql import SqlSource
from baton.storage import LocalStorage

VALUES = [
    (1, "plain"),
    (2, None),
    (3, ""),
    (4, 'a "quoted" word, and a comma'),
    (5, "two\nlines"),
    (6, '"\n"\n""'),
    (7, "trailing newline\n"),
    (8, "ünïcode ✓"),
]


@pytest.fixture
def notes(flights_db: str) -> str:
    """Table `notes` upstream: every awkward text value, many times over (~40 KiB)."""
    sql(flights_db, "CREATE TABLE notes (id bigint PRIMARY KEY, note text)")
    rows = ", ".join(
        f"({n * 100 + i}, {'NULL' if v is None else _literal(v)})"
        for n in range(50)
        for i, v in VALUES
    )
    sql(flights_db, f"INSERT INTO notes VALUES {rows}")
    return flights_db


def _literal(value: str) -> str:
    return "E'" + value.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n") + "'"


def test_copy_parts_cut_at_row_boundaries_read_back_every_value_exactly(
    notes, tmp_path, monkeypatch
):
    monkeypatch.setattr(sql_source, "CHUNK_BYTES", 100)  # a part every few rows
    lines = io.StringIO()
    log.configure(stream=lines)  # the source logs its read (not to an earlier test's stream)
    source = SqlSource(
        schema={"id": pl.Int64(), "note": pl.String()},
        query="SELECT id, note FROM notes",
        dsn=notes,
        password=Secret(name="projects/p/secrets/s", env="TEST_PG_PASSWORD"),
    )
    storage = LocalStorage(tmp_path / "lake")
    ctx = ReadContext(
        storage=storage,
        dataset="notes",
        day=date(2013, 1, 2),
        environ={"TEST_PG_PASSWORD": PG_PASSWORD},
        spool_prefix="spool/notes",
    )

    landing = source.open(ctx, source.inputs(storage, "notes", ctx.day))

    assert len(landing.spooled) > 20 and landing.expected_rows == 400
    read = pl.concat([p.frame for p in landing.parts]).collect()
    got = sorted((int(i), note) for i, note in read.iter_rows())
    assert got == sorted((n * 100 + i, v) for n in range(50) for i, v in VALUES)
    assert '"rows": 400' in lines.getvalue() and PG_PASSWORD not in lines.getvalue()
