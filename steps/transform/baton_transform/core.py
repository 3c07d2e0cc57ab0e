"""Pure polars: conform a transformed frame to its contract's columns."""

from __future__ import annotations

import polars as pl

from baton.contract import Contract


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
