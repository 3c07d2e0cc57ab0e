"""Pure polars: conform a transformed frame to its contract's columns and split off repeats."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from baton.contract import REASONS, Contract
from baton.uniqueness import ROW, is_repeat, repeated_rows

DUPLICATE_KEY = "duplicate_key"


def conform(
    frame: pl.LazyFrame, contract: Contract
) -> tuple[pl.LazyFrame, pl.Schema, list[str]]:
    """The frame in contract column order, its schema, and what keeps it from the contract's.

    The schema is returned so callers need not resolve the plan again: resolving a dataset
    transform's plan costs milliseconds (flights: ~5-10 ms, its time-zone expressions), as
    much as transforming a small day's rows.
    """
    # Resolved on a clone: a LazyFrame whose schema was collected streams its input later
    # with far more in flight (see baton.parquet.peek_schema).
    resolved = frame.clone().collect_schema()
    schema = pl.Schema([(n, resolved[n]) for n in contract.names if n in resolved])
    return frame.select(list(schema)), schema, contract.schema_problems(schema)


def split_repeats(
    frame: pl.LazyFrame, key: Sequence[str]
) -> tuple[pl.LazyFrame, pl.LazyFrame | None]:
    """(first row of every key, later rows with the same key tagged `duplicate_key`).

    The second frame is None when no key repeats, so the common case is one pass.
    """
    repeats = repeated_rows(frame, key)
    if repeats.is_empty():
        return frame, None
    numbered = frame.with_row_index(ROW)
    first = numbered.filter(~is_repeat(repeats)).drop(ROW)
    later = (
        numbered.filter(is_repeat(repeats))
        .drop(ROW)
        .with_columns(pl.lit([DUPLICATE_KEY], dtype=pl.List(pl.String())).alias(REASONS))
    )
    return first, later
