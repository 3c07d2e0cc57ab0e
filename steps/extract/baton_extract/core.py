"""Pure polars: landing text columns -> typed raw rows, and the rows whose values do not parse.

A source may hand over some columns already of their declared type (a database's integers,
read straight as integers: they cannot fail to parse); those, like text columns declared as
text, pass through unchecked."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import polars as pl

from baton.contract import REASONS, any_failed, failed_rules
from baton.sources.landing import MALFORMED

_TYPED = "__typed_"


def header_problems(found: list[str], expected: list[str]) -> list[str]:
    """What is wrong with a landing file's header (empty: nothing)."""
    problems = []
    missing = [c for c in expected if c not in found]
    extra = [c for c in found if c not in expected]
    if missing:
        problems.append(f"missing column(s) {missing}")
    if extra:
        problems.append(f"unexpected column(s) {extra}")
    if len(found) == 1 and len(expected) > 1:
        for sep in (";", "\t", "|"):
            if sep in found[0]:
                problems.append(f"the header looks {sep!r}-separated, not the expected separator")
    return problems


def parse_expr(column: str, dtype: pl.DataType, options: Mapping[str, Any]) -> pl.Expr:
    """Text column -> `dtype`; a value that does not parse becomes null."""
    text = pl.col(column).str.strip_chars()
    if isinstance(dtype, pl.Datetime):
        return text.str.to_datetime(
            options.get("format"),
            time_unit=dtype.time_unit,
            time_zone=dtype.time_zone,
            strict=False,
        )
    if isinstance(dtype, pl.Date):
        return text.str.to_date(options.get("format"), strict=False)
    if isinstance(dtype, pl.Boolean):
        lowered = text.str.to_lowercase()
        return (
            pl.when(lowered.is_in(["true", "1"]))
            .then(True)
            .when(lowered.is_in(["false", "0"]))
            .then(False)
        )
    if dtype == pl.String():
        return pl.col(column)
    return text.cast(dtype, strict=False)


def parse(
    text: pl.LazyFrame,
    schema: Mapping[str, pl.DataType],
    options: Callable[[str], Mapping[str, Any]],
) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """Split text rows into (typed rows, rejected text rows with `_reasons`).

    A row is rejected when any non-null text value fails to parse; its reasons name the
    columns (`unparsable:<column>`), never the values. A record the source could not decode
    (a `_malformed` column, set) is rejected as `malformed_record`, keeping why.
    """
    columns = list(schema)
    given = text.clone().collect_schema()
    malformed = MALFORMED in given.names()
    # Text for a text column, or a column the source read as its type: nothing to parse.
    ready = {c for c, dtype in schema.items() if given.get(c) == dtype}
    typed = text.with_columns(
        [
            parse_expr(c, dtype, options(c)).alias(_TYPED + c)
            for c, dtype in schema.items()
            if c not in ready
        ]
    )
    checks = [
        (f"unparsable:{c}", pl.col(_TYPED + c).is_not_null() | pl.col(c).is_null())
        for c in columns
        if c not in ready
    ]
    if malformed:
        checks.append(("malformed_record", pl.col(MALFORMED).is_null()))
    broken = any_failed(checks)
    good = typed.filter(~broken).select(
        [pl.col(c) if c in ready else pl.col(_TYPED + c).alias(c) for c in columns]
    )
    # Reasons are built for rejected rows only: a list per row costs ~1 s per 650k rows.
    # A rejected row keeps its text: a column that came typed goes back to text.
    kept = [pl.col(c).cast(pl.String) if c in ready else pl.col(c) for c in columns]
    if malformed:
        kept.append(pl.col(MALFORMED))
    bad = typed.filter(broken).select(*kept, failed_rules(checks).alias(REASONS))
    return good, bad
