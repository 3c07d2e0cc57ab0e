"""Extract's pure half: header checks and text -> typed rows, rejecting unparsable values."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
from polars.testing import assert_frame_equal

from baton_extract.core import REASONS, header_problems, parse

SCHEMA = {
    "flight": pl.Int32(),
    "carrier": pl.String(),
    "distance": pl.Float64(),
    "time_hour": pl.Datetime("us", "UTC"),
}
OPTIONS = {"time_hour": {"format": "%Y-%m-%dT%H:%M:%SZ"}}


def _text(rows: list[tuple]) -> pl.LazyFrame:
    return pl.LazyFrame(rows, schema=dict.fromkeys(SCHEMA, pl.String()), orient="row")


def test_a_matching_header_has_no_problems():
    assert header_problems(["a", "b"], ["a", "b"]) == []


def test_missing_and_unexpected_columns_are_both_named():
    assert header_problems(["a", "x", "c"], ["a", "b", "c"]) == [
        "missing column(s) ['b']",
        "unexpected column(s) ['x']",
    ]


def test_a_header_split_on_another_separator_is_recognised():
    problems = header_problems(["a;b;c"], ["a", "b", "c"])
    assert "the header looks ';'-separated, not the expected separator" in problems


def test_text_rows_parse_to_the_raw_schema():
    good, bad = parse(
        _text([("1545", "UA", " 1400.5 ", "2013-01-01T10:00:00Z"), ("7", None, None, None)]),
        SCHEMA,
        lambda c: OPTIONS.get(c, {}),
    )
    assert_frame_equal(
        good.collect(),
        pl.DataFrame(
            {
                "flight": [1545, 7],
                "carrier": ["UA", None],
                "distance": [1400.5, None],
                "time_hour": [datetime(2013, 1, 1, 10, tzinfo=UTC), None],
            },
            schema=SCHEMA,
        ),
    )
    assert bad.collect().height == 0


def test_a_value_that_does_not_parse_rejects_the_row_naming_each_column():
    good, bad = parse(
        _text(
            [
                ("1545", "UA", "1400", "2013-01-01T10:00:00Z"),
                ("15x", "UA", "far", "2013-01-01T10:00:00Z"),
                ("99", "AA", "10", "2013-02-30T25:00:00Z"),
            ]
        ),
        SCHEMA,
        lambda c: OPTIONS.get(c, {}),
    )
    assert good.collect()["flight"].to_list() == [1545]
    rejected = bad.collect()
    assert rejected.columns == [*SCHEMA, REASONS]
    assert rejected[REASONS].to_list() == [
        ["unparsable:flight", "unparsable:distance"],
        ["unparsable:time_hour"],
    ]
    # the rejected rows keep their original text for inspection
    assert rejected["flight"].to_list() == ["15x", "99"]


def test_a_column_handed_over_as_its_type_passes_through_and_is_text_in_a_rejected_row():
    text = pl.LazyFrame(
        {
            "flight": [1545, 99],
            "carrier": ["UA", "AA"],
            "distance": ["1400", "far"],
            "time_hour": ["2013-01-01T10:00:00Z", "2013-01-01T11:00:00Z"],
        },
        schema={**dict.fromkeys(SCHEMA, pl.String()), "flight": pl.Int32()},
    )

    good, bad = parse(text, SCHEMA, lambda c: OPTIONS.get(c, {}))

    assert good.collect()["flight"].to_list() == [1545]
    rejected = bad.collect()
    assert rejected[REASONS].to_list() == [["unparsable:distance"]]
    assert rejected.schema["flight"] == pl.String() and rejected["flight"].to_list() == ["99"]
