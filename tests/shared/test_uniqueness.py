"""Finding repeated keys in bounded memory gives exactly what a naive scan gives."""

from __future__ import annotations

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from baton.uniqueness import ROW, is_repeat, repeated_rows

keys = st.lists(
    st.tuples(st.sampled_from(["AA", "B6", None]), st.integers(min_value=0, max_value=4)),
    max_size=40,
)


def _naive(rows: list[tuple]) -> list[int]:
    seen, repeats = set(), []
    for i, row in enumerate(rows):
        if row in seen:
            repeats.append(i)
        seen.add(row)
    return repeats


@given(keys)
def test_repeated_rows_are_the_later_rows_of_every_repeated_key(rows):
    frame = pl.LazyFrame(rows, schema={"carrier": pl.String(), "flight": pl.Int32()}, orient="row")
    assert repeated_rows(frame, ["carrier", "flight"]).to_list() == _naive(rows)


def test_is_repeat_marks_those_rows_on_a_numbered_frame():
    frame = pl.LazyFrame({"k": [1, 2, 1, 1, 3]})
    repeats = repeated_rows(frame, ["k"])
    marked = frame.with_row_index(ROW).select(is_repeat(repeats)).collect().to_series()
    assert marked.to_list() == [False, False, True, True, False]


def test_no_repeats_is_an_empty_series():
    assert repeated_rows(pl.LazyFrame({"k": [1, 2, 3]}), ["k"]).is_empty()
