"""Load's pure half: a mart is built in its declared column order and types."""

from __future__ import annotations

from datetime import date

import polars as pl
from polars.testing import assert_frame_equal

from baton.contract import Column
from baton.dataset import Destination, Mart
from baton_load.core import build_mart

D = date(2013, 1, 1)
MART = Mart(
    Destination("totals", "day"),
    (
        Column("day", pl.Date(), nullable=False),
        Column("n", pl.UInt32()),
        Column("shop", pl.String()),
    ),
    # the build yields Int64 counts and its own column order; the mart declares otherwise
    lambda rows: rows.group_by("shop", "day").agg(n=pl.len().cast(pl.Int64())).sort("shop"),
)


def test_a_mart_has_its_declared_columns_in_order_and_type():
    rows = pl.LazyFrame({"day": [D, D, D], "shop": ["b", "a", "b"]})
    assert_frame_equal(
        build_mart(MART, rows).collect(),
        pl.DataFrame(
            {"day": [D, D], "n": [1, 2], "shop": ["a", "b"]},
            schema={"day": pl.Date(), "n": pl.UInt32(), "shop": pl.String()},
        ),
    )
