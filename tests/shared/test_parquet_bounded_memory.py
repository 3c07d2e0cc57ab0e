"""What baton.parquet does to keep a step's memory flat: small row groups, strings of sparse
outputs detached from their read buffers, schemas read off a copy of the plan, and bounded
polars read-ahead that an operator can still override."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl
from hypothesis import given
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from baton.parquet import (
    READ_AHEAD,
    ROW_GROUP_ROWS,
    bound_read_ahead,
    detach_strings,
    peek_schema,
    write_parquet,
)
from baton.storage import LocalStorage


def test_written_files_have_row_groups_of_at_most_row_group_rows(tmp_path: Path):
    rows = 2 * ROW_GROUP_ROWS + 5
    frame = pl.LazyFrame({"n": range(rows), "s": [f"value {i}" for i in range(rows)]})
    (entry,) = write_parquet(LocalStorage(tmp_path), [(frame, "out/part.parquet")])
    groups = duckdb.sql(
        "SELECT row_group_id, any_value(row_group_num_rows) FROM parquet_metadata(?) "
        "GROUP BY row_group_id ORDER BY row_group_id",
        params=[str(tmp_path / "out" / "part.parquet")],
    ).fetchall()
    assert entry.rows == rows
    assert [n for _, n in groups] == [ROW_GROUP_ROWS, ROW_GROUP_ROWS, 5]


@given(st.lists(st.one_of(st.none(), st.text(max_size=12)), max_size=30))
def test_detached_strings_keep_every_value_and_null(values):
    frame = pl.LazyFrame(
        {"s": values, "n": list(range(len(values)))},
        schema={"s": pl.String(), "n": pl.Int64()},
    )
    assert_frame_equal(detach_strings(frame).collect(), frame.collect())


def test_detached_strings_of_a_filtered_scan_equal_the_filtered_rows(tmp_path: Path):
    path = tmp_path / "in.csv"
    pl.DataFrame(
        {"s": [f"row {i}" for i in range(5000)], "bad": [i % 997 == 0 for i in range(5000)]}
    ).write_csv(path)
    few = pl.scan_csv(path).filter(pl.col("bad"))
    assert_frame_equal(detach_strings(few).collect(), few.collect())


def test_peek_schema_is_the_frames_schema():
    frame = pl.LazyFrame({"a": [1], "b": ["x"]}).with_columns(c=pl.col("a") * 2.5)
    assert peek_schema(frame) == frame.collect_schema()


def test_bound_read_ahead_sets_each_knob_only_where_the_operator_did_not():
    environ = {"POLARS_CSV_CHUNK_SIZE": "4000000", "OTHER": "x"}
    bound_read_ahead(environ)
    assert environ["POLARS_CSV_CHUNK_SIZE"] == "4000000"
    assert environ["OTHER"] == "x"
    for name, value in READ_AHEAD.items():
        if name != "POLARS_CSV_CHUNK_SIZE":
            assert environ[name] == value
