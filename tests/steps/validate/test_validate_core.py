"""Validate's pure half: every row judged by the contract, partition and key; split in order."""

from __future__ import annotations

from datetime import UTC, date, datetime

import polars as pl
from polars.testing import assert_frame_equal

from baton.contract import Column, Contract, PartitionContext, rule
from baton.uniqueness import repeated_rows
from baton_validate.core import IN_PARTITION, KEY_UNIQUE, REASONS, checks, split

DAY = date(2013, 1, 2)
CONTRACT = Contract(
    columns=(
        Column("day", pl.Date(), nullable=False),
        Column("id", pl.Int32(), nullable=False),
        Column("qty", pl.Int32()),
    ),
    rules=(rule("qty_positive")(lambda ctx: pl.col("qty") > 0),),
)
AT = datetime(2024, 5, 1, 12, tzinfo=UTC)


def _split(frame: pl.LazyFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    rules = checks(CONTRACT, PartitionContext(DAY), "day", repeated_rows(frame, ["id"]))
    valid, rejected = split(frame, CONTRACT, rules, "run-1", AT)
    return valid.collect(), rejected.collect()


def test_valid_rows_get_the_audit_columns_and_rejected_rows_every_broken_rule():
    frame = pl.LazyFrame(
        {
            "day": [DAY, DAY, date(2013, 1, 3), DAY, DAY],
            "id": [1, 2, 3, 1, None],
            "qty": [5, -1, 2, 7, 0],
        },
        schema=CONTRACT.schema(),
    )
    valid, rejected = _split(frame)
    assert_frame_equal(
        valid,
        pl.DataFrame(
            {"day": [DAY], "id": [1], "qty": [5], "_run_id": ["run-1"], "_validated_at": [AT]},
            schema={
                **CONTRACT.schema(),
                "_run_id": pl.String(),
                "_validated_at": pl.Datetime("us", "UTC"),
            },
        ),
    )
    assert rejected["id"].to_list() == [2, 3, 1, None]
    assert rejected[REASONS].to_list() == [
        ["qty_positive"],
        [IN_PARTITION],
        [KEY_UNIQUE],
        ["not_null:id", "qty_positive"],
    ]


def test_every_row_is_either_valid_or_rejected():
    frame = pl.LazyFrame(
        {"day": [DAY] * 6, "id": [1, 1, 2, 3, 3, 3], "qty": [1, -1, 1, 1, 1, None]},
        schema=CONTRACT.schema(),
    )
    valid, rejected = _split(frame)
    assert valid.height + rejected.height == 6
    assert valid["id"].to_list() == [1, 2, 3]
