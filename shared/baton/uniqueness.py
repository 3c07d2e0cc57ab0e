"""Finding rows whose key repeats an earlier row, in bounded memory (pure polars).

Pass 1 streams only a 64-bit hash of the key per row and finds the hash values that repeat
by sorting a copy of the hashes (~16 bytes per row; a hash table, as `is_duplicated` builds,
costs ~90); pass 2 compares the real keys of just the rows carrying those values, so hash
collisions cannot drop a row. Memory stays far below the whole partition: sorting the rows
themselves is what breaks flat-memory targets (see DESIGN.md's measurements).
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

ROW = "__baton_row"


def key_hash(key: Sequence[str]) -> pl.Expr:
    """A 64-bit hash of each row's key: equal keys hash equal (the converse needs checking)."""
    return pl.struct(list(key)).hash(seed=0x5EED).alias("h")


def repeated_hashes(hashes: pl.Series) -> pl.Series:
    """The hash values that occur more than once in `hashes` (sorted, each once)."""
    ordered = hashes.sort()
    later = ordered.slice(1)
    return later.filter(later == ordered.slice(0, len(later))).unique()


def repeated_rows(frame: pl.LazyFrame, key: Sequence[str]) -> pl.Series:
    """Row positions (in scan order) of rows whose key equals an earlier row's key.

    `frame` is evaluated twice, so it must yield its rows in the same order every time (a
    Parquet scan does; a plan with unordered joins may not).
    """
    hashes = frame.select(key_hash(key)).collect(engine="streaming").to_series()
    suspects = repeated_hashes(hashes)
    if suspects.is_empty():
        return pl.Series(ROW, [], dtype=pl.UInt32)
    candidates = hashes.is_in(suspects.implode()).arg_true()
    del hashes
    keyed = (
        frame.with_row_index(ROW)
        .filter(pl.col(ROW).is_in(candidates.implode()))
        .select(ROW, *key)
        .collect(engine="streaming")
        .sort(ROW)
    )
    return keyed.filter(~pl.struct(list(key)).is_first_distinct())[ROW]


def is_repeat(repeats: pl.Series) -> pl.Expr:
    """True for the rows `repeated_rows` found, on a frame numbered by `with_row_index(ROW)`.

    With no repeats it is a literal False that needs no numbering: a numbered streaming
    scan holds more in memory, so callers number a frame only when an expression uses ROW.
    """
    if repeats.is_empty():
        return pl.lit(False)
    return pl.col(ROW).is_in(repeats.implode())
