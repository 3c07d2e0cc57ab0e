"""Transform's pure half: conform to the contract."""

from __future__ import annotations

import polars as pl

from baton.contract import Column, Contract
from baton_transform.core import conform

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
