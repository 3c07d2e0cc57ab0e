"""Transform's pure half: conform to the contract and split repeated keys off to quarantine."""

from __future__ import annotations

import polars as pl
from polars.testing import assert_frame_equal

from baton.contract import Column, Contract
from baton_transform.core import DUPLICATE_KEY, REASONS, conform, split_repeats

CONTRACT = Contract(
    columns=(Column("carrier", pl.String()), Column("flight", pl.Int32()), Column("n", pl.Int64()))
)


def test_conform_orders_columns_as_the_contract_and_drops_helpers():
    frame = pl.LazyFrame(
        {"n": [1], "helper": ["x"], "flight": [5], "carrier": ["AA"]},
        schema={
            "n": pl.Int64(),
            "helper": pl.String(),
            "flight": pl.Int32(),
            "carrier": pl.String(),
        },
    )
    conformed, schema, problems = conform(frame, CONTRACT)
    assert problems == []
    assert conformed.collect_schema().names() == ["carrier", "flight", "n"]
    assert schema == conformed.collect_schema()


def test_conform_reports_missing_and_mistyped_columns():
    frame = pl.LazyFrame(
        {"carrier": ["AA"], "flight": [5]}, schema={"carrier": pl.String(), "flight": pl.Int64()}
    )
    _, _, problems = conform(frame, CONTRACT)
    assert problems == ["column 'flight' is Int64, contract says Int32", "column 'n' is missing"]


def test_the_first_row_of_a_key_stays_and_later_ones_go_to_quarantine_tagged():
    frame = pl.LazyFrame(
        {
            "carrier": ["AA", "B6", "AA", "AA", "B6"],
            "flight": [1, 1, 1, 2, 1],
            "n": [1, 2, 3, 4, 5],
        },
        schema=CONTRACT.schema(),
    )
    first, later = split_repeats(frame, ["carrier", "flight"])
    assert_frame_equal(
        first.collect(),
        pl.DataFrame(
            {"carrier": ["AA", "B6", "AA"], "flight": [1, 1, 2], "n": [1, 2, 4]},
            schema=CONTRACT.schema(),
        ),
    )
    assert_frame_equal(
        later.collect(),
        pl.DataFrame(
            {
                "carrier": ["AA", "B6"],
                "flight": [1, 1],
                "n": [3, 5],
                REASONS: [[DUPLICATE_KEY]] * 2,
            },
            schema={**CONTRACT.schema(), REASONS: pl.List(pl.String())},
        ),
    )


def test_no_repeats_means_no_quarantine_frame():
    frame = pl.LazyFrame({"carrier": ["AA"], "flight": [1], "n": [1]}, schema=CONTRACT.schema())
    first, later = split_repeats(frame, ["carrier", "flight"])
    assert later is None
    assert first.collect().height == 1
