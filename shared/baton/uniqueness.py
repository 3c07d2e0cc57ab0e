"""Finding rows whose key repeats an earlier row, in bounded memory (pure polars).

Pass 1 streams only a 64-bit hash of the key per row and keeps the rows whose hash repeats;
pass 2 compares the real keys of just those candidates, so hash collisions cannot drop a row.
Memory is ~12 bytes per row, not the whole partition: sort-based dedupe is what breaks
flat-memory targets (see DESIGN.md's measurements).
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

ROW = "__baton_row"


def key_hash(key: Sequence[str]) -> pl.Expr:
    """A 64-bit hash of each row's key: equal keys hash equal (the converse needs checking)."""
    return pl.struct(list(key)).hash(seed=0x5EED).alias("h")


def may_repeat(hashes: pl.Series) -> bool:
    """Whether any key can repeat, given every row's `key_hash`: False proves none does."""
    return hashes.len() != hashes.n_unique()


def repeated_rows(frame: pl.LazyFrame, key: Sequence[str]) -> pl.Series:
    """Row positions (in scan order) of rows whose key equals an earlier row's key.

    `frame` is evaluated twice, so it must yield its rows in the same order every time (a
    Parquet scan does; a plan with unordered joins may not).
    """
    candidates = (
        frame.select(key_hash(key))
        .with_row_index(ROW)
        .filter(pl.col("h").is_duplicated())
        .select(ROW)
        .collect()
        .to_series()
    )
    if candidates.is_empty():
        return pl.Series(ROW, [], dtype=pl.UInt32)
    keyed = (
        frame.with_row_index(ROW)
        .filter(pl.col(ROW).is_in(candidates.implode()))
        .select(ROW, *key)
        .collect()
        .sort(ROW)
    )
    return keyed.filter(~pl.struct(list(key)).is_first_distinct())[ROW]


def is_repeat(repeats: pl.Series) -> pl.Expr:
    """True for the rows `repeated_rows` found, on a frame numbered by `with_row_index(ROW)`."""
    return pl.col(ROW).is_in(repeats.implode())
