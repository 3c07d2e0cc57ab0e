"""The bounded-memory parts of key uniqueness: repeated hash values found by sorting, and a
repeat test that needs no row numbers when nothing repeats."""

from __future__ import annotations

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from baton.uniqueness import ROW, is_repeat, repeated_hashes, repeated_rows

hashes = st.lists(st.integers(min_value=0, max_value=2**64 - 1), max_size=60)


@given(hashes)
def test_repeated_hashes_are_exactly_the_values_seen_more_than_once(values):
    series = pl.Series("h", values, dtype=pl.UInt64)
    expected = sorted({v for v in values if values.count(v) > 1})
    assert repeated_hashes(series).to_list() == expected


@given(st.lists(st.integers(min_value=0, max_value=5), max_size=60))
def test_repeated_hashes_find_repeats_among_few_distinct_values(values):
    series = pl.Series("h", values, dtype=pl.UInt64)
    assert repeated_hashes(series).to_list() == sorted({v for v in values if values.count(v) > 1})


def test_no_repeats_is_a_literal_that_needs_no_row_numbers():
    frame = pl.LazyFrame({"k": [1, 2, 3]})
    flags = frame.select(is_repeat(repeated_rows(frame, ["k"]))).collect().to_series()
    assert flags.to_list() == [False]  # a literal: broadcast wherever it is used
    assert ROW not in is_repeat(pl.Series(ROW, [], dtype=pl.UInt32)).meta.root_names()


def test_repeats_are_marked_on_a_numbered_frame_in_scan_order():
    frame = pl.LazyFrame({"k": ["a", "b", "a", "c", "b", "a"]})
    repeats = repeated_rows(frame, ["k"])
    marked = frame.with_row_index(ROW).select(is_repeat(repeats)).collect().to_series()
    assert marked.to_list() == [False, False, True, False, True, True]
