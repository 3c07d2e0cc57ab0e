"""The SQL source's spool against a real PostgreSQL: COPY's CSV, written as many raw parts
(a tiny chunk size), reads back as text exactly, whatever newlines, quotes and commas a value
holds: NULL stays null, an empty string stays empty. (psycopg hands COPY data over a row per
message, so parts end on a row boundary; `_row_boundary` guards a driver that would not.)
Integer columns whose database type fits the declared one are scanned as integers; the parts
are written by a writer thread (uploaded, on a gs:// lake: the gcp-storage-emulator), whose
failure fails the read and leaves no part behind; and a part that lost rows on the way fails
extract's check against COPY's own count."""

from __future__ import annotations

import io
import threading
import time
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from lakes import BUCKET
from pg_server import PG_PASSWORD, sql

from baton import datasets, log
from baton.config import load_settings
from baton.errors import BatonError, UnavailableError
from baton.lake import MANIFEST
from baton.sources import sql as sql_source
from baton.sources.landing import ReadContext
from baton.sources.secret import Secret
from baton.sources.sql import SqlSource, read_types
from baton.step import Partition, new_run_id, run_partition
from baton.storage import GcsStorage, LocalStorage
from baton.task import TaskContext
from baton_extract.job import STEP as EXTRACT

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


def _notes_source(dsn: str) -> SqlSource:
    return SqlSource(
        schema={"id": pl.Int64(), "note": pl.String()},
        query="SELECT id, note FROM notes",
        dsn=dsn,
        password=Secret(name="projects/p/secrets/s", env="TEST_PG_PASSWORD"),
    )


def _context(storage: LocalStorage) -> ReadContext:
    return ReadContext(
        storage=storage,
        dataset="notes",
        day=date(2013, 1, 2),
        environ={"TEST_PG_PASSWORD": PG_PASSWORD},
        spool_prefix="spool/notes",
    )


class FullDisk(LocalStorage):
    """The lake, on a disk that is full by the third spool part (it is written to /dev/full,
    which answers every write with ENOSPC)."""

    def local_path(self, key):
        return Path("/dev/full") if key.endswith("part-00002.csv") else super().local_path(key)


class LossyStore(LocalStorage):
    """The lake, except that the second spool part loses all but its first row on the way."""

    def local_path(self, key):
        path = super().local_path(key)
        if key.endswith("part-00001.csv"):
            return _Truncating(path)
        return path


class _Truncating(type(Path())):
    """A path whose write keeps only the first line of the data."""

    def write_bytes(self, data):
        return super().write_bytes(bytes(data)[: bytes(data).index(b"\n") + 1])


def test_copy_parts_cut_at_row_boundaries_read_back_every_value_exactly(
    notes, tmp_path, monkeypatch
):
    monkeypatch.setattr(sql_source, "CHUNK_BYTES", 100)  # a part every few rows
    lines = io.StringIO()
    log.configure(stream=lines)  # the source logs its read (not to an earlier test's stream)
    source = _notes_source(notes)
    storage = LocalStorage(tmp_path / "lake")
    ctx = _context(storage)

    landing = source.open(ctx, source.inputs(storage, "notes", ctx.day))

    assert len(landing.spooled) > 20 and landing.expected_rows == 400
    read = pl.concat([p.frame for p in landing.parts]).collect()
    got = sorted((int(i), note) for i, note in read.iter_rows())
    assert got == sorted((n * 100 + i, v) for n in range(50) for i, v in VALUES)
    assert '"rows": 400' in lines.getvalue() and PG_PASSWORD not in lines.getvalue()


def test_an_integer_column_is_scanned_as_its_type_and_text_as_text(notes, tmp_path):
    source = _notes_source(notes)
    storage = LocalStorage(tmp_path / "lake")
    ctx = _context(storage)

    landing = source.open(ctx, source.inputs(storage, "notes", ctx.day))

    assert landing.parts[0].frame.collect_schema() == pl.Schema(
        {"id": pl.Int64(), "note": pl.String()}
    )


def test_only_integers_whose_database_type_always_fits_are_read_typed():
    schema = {
        "small": pl.Int8(),
        "medium": pl.Int32(),
        "wide": pl.Int64(),
        "ratio": pl.Float64(),
        "name": pl.String(),
    }
    found = {"small": "int2", "medium": "int4", "wide": "int4", "ratio": "float8", "name": "text"}

    assert read_types(schema, found) == {
        "small": pl.String(),  # int2 may overflow Int8: text, quarantined if it does
        "medium": pl.Int32(),
        "wide": pl.Int64(),
        "ratio": pl.String(),
        "name": pl.String(),
    }


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full here")
def test_a_spool_write_that_fails_fails_the_read_and_leaves_no_part(notes, tmp_path, monkeypatch):
    monkeypatch.setattr(sql_source, "CHUNK_BYTES", 100)
    source = _notes_source(notes)
    storage = FullDisk(tmp_path / "lake")
    ctx = _context(storage)

    with pytest.raises(UnavailableError, match=r"cannot write /dev/full: .*Nothing was") as failed:
        source.open(ctx, source.inputs(storage, "notes", ctx.day))

    assert failed.value.reason == "no_space"
    assert not [p for p in (tmp_path / "lake").rglob("*") if p.is_file()]
    assert not [t for t in threading.enumerate() if t.name == "copy-spool"]


def test_a_part_that_lost_rows_fails_the_count_check_and_commits_nothing(
    flights_db, tmp_path, monkeypatch
):
    monkeypatch.setattr(sql_source, "CHUNK_BYTES", 20_000)  # Jan 2 in several parts
    day = date(2013, 1, 2)
    settings = load_settings({}, {"BATON_HOME": str(tmp_path)})
    task = TaskContext.from_env({})
    storage = LossyStore(tmp_path / "lake")
    part = Partition(
        "extract", datasets.get("flights_db"), day, storage, settings, task, new_run_id(task)
    )

    with pytest.raises(BatonError, match="the source sent 943 rows but") as failed:
        run_partition(EXTRACT, part)

    assert failed.value.reason == "source_count_mismatch"
    assert not (tmp_path / "lake" / "raw" / "flights_db" / f"dt={day}" / MANIFEST).exists()


def test_on_a_gs_lake_the_parts_are_uploaded_and_read_back_exactly(notes, gcs, monkeypatch):
    monkeypatch.setattr(sql_source, "CHUNK_BYTES", 1_000)  # a part every few dozen rows
    source = _notes_source(notes)
    storage = GcsStorage(f"gs://{BUCKET}/sql-spool-{time.time_ns()}")
    ctx = _context(storage)

    landing = source.open(ctx, source.inputs(storage, "notes", ctx.day))

    assert len(landing.spooled) > 5 and all(storage.size(k) for k in landing.spooled)
    read = pl.concat([p.frame for p in landing.parts]).collect()
    got = sorted((int(i), note) for i, note in read.iter_rows())
    assert got == sorted((n * 100 + i, v) for n in range(50) for i, v in VALUES)
