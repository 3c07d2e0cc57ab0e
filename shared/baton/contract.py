"""Data contracts: the columns a table must have and the row rules it must satisfy.

A contract is pure polars expressions, evaluated lazily and streamed; it is the one source of
the warehouse schema (DuckDB DDL and BigQuery fields are derived from it, never written twice).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

import polars as pl

from baton.errors import DataError

AUDIT_PREFIX = "_"
REASONS = "_reasons"
"""The column of a quarantine file listing the checks each rejected row failed."""


@dataclass(frozen=True)
class PartitionContext:
    """What a transform or rule may depend on besides the rows: the partition date and the
    reference tables."""

    day: date
    refs: Mapping[str, pl.DataFrame] = field(default_factory=dict)


@dataclass(frozen=True)
class Column:
    """One column: name, polars type, whether nulls are allowed, and what it means."""

    name: str
    dtype: pl.DataType
    nullable: bool = True
    description: str = ""


@dataclass(frozen=True)
class Rule:
    """A named row rule. `check` returns an expression that is true for rows that pass;
    a null result passes (nullability is its own rule)."""

    name: str
    check: Callable[[PartitionContext], pl.Expr]
    description: str = ""


def rule(
    name: str, description: str = ""
) -> Callable[[Callable[[PartitionContext], pl.Expr]], Rule]:
    """Decorator form: `@rule("distance_positive")` over `def _(ctx): return pl.col(...) > 0`."""

    def wrap(fn: Callable[[PartitionContext], pl.Expr]) -> Rule:
        return Rule(name, fn, description or (fn.__doc__ or "").strip())

    return wrap


AUDIT_COLUMNS = (
    Column(
        "_run_id", pl.String(), nullable=False, description="the validate run that admitted the row"
    ),
    Column(
        "_validated_at",
        pl.Datetime("us", "UTC"),
        nullable=False,
        description="when the row passed its contract",
    ),
)


@dataclass(frozen=True)
class Contract:
    """Columns (in order) and the rules every row must satisfy."""

    columns: tuple[Column, ...]
    rules: tuple[Rule, ...] = ()

    @property
    def names(self) -> list[str]:
        """Column names in contract order."""
        return [c.name for c in self.columns]

    def schema(self) -> pl.Schema:
        """The polars schema the contract prescribes."""
        return pl.Schema([(c.name, c.dtype) for c in self.columns])

    def warehouse_columns(self) -> tuple[Column, ...]:
        """The warehouse table's columns: the contract plus baton's audit columns."""
        return self.columns + AUDIT_COLUMNS

    def schema_problems(self, actual: pl.Schema) -> list[str]:
        """What keeps a frame with schema `actual` from matching the contract (empty: none)."""
        problems = []
        for col in self.columns:
            if col.name not in actual:
                problems.append(f"column {col.name!r} is missing")
            elif actual[col.name] != col.dtype:
                problems.append(
                    f"column {col.name!r} is {actual[col.name]}, contract says {col.dtype}"
                )
        extra = [name for name in actual if name not in self.names]
        problems.extend(f"column {name!r} is not in the contract" for name in extra)
        return problems

    def require_schema(self, actual: pl.Schema, where: str) -> None:
        """Raise a DataError naming `where` and every column problem."""
        problems = self.schema_problems(actual)
        if problems:
            raise DataError(f"{where}: {'; '.join(problems)}", reason="schema_mismatch")

    def checks(self, ctx: PartitionContext) -> list[tuple[str, pl.Expr]]:
        """Every row check as (rule name, passes-expression): nullability first, then rules."""
        out = [
            (f"not_null:{c.name}", pl.col(c.name).is_not_null())
            for c in self.columns
            if not c.nullable
        ]
        out.extend((r.name, r.check(ctx).fill_null(True)) for r in self.rules)
        return out


def failed_rules(checks: Sequence[tuple[str, pl.Expr]]) -> pl.Expr:
    """A list[str] expression: the names of the checks a row fails (empty list: valid)."""
    if not checks:
        return pl.lit([], dtype=pl.List(pl.String()))
    flags = [pl.when(~passes).then(pl.lit(name)) for name, passes in checks]
    return pl.concat_list(flags).list.drop_nulls()


def any_failed(checks: Sequence[tuple[str, pl.Expr]]) -> pl.Expr:
    """True for a row that fails any check: exactly the rows `failed_rules` gives a reason
    (a null check result is no failure there, so it is none here). A cheap flag to split on,
    so reasons need building for rejected rows only."""
    if not checks:
        return pl.lit(False)
    return pl.any_horizontal([(~passes).fill_null(False) for _, passes in checks])


_BIGQUERY_TYPES: tuple[tuple[type[pl.DataType], str], ...] = (
    (pl.Boolean, "BOOLEAN"),
    (pl.Int8, "INTEGER"),
    (pl.Int16, "INTEGER"),
    (pl.Int32, "INTEGER"),
    (pl.Int64, "INTEGER"),
    (pl.UInt8, "INTEGER"),
    (pl.UInt16, "INTEGER"),
    (pl.UInt32, "INTEGER"),
    (pl.Float32, "FLOAT"),
    (pl.Float64, "FLOAT"),
    (pl.String, "STRING"),
    (pl.Date, "DATE"),
)


def bigquery_type(dtype: pl.DataType) -> str:
    """The BigQuery standard type a polars type loads into from Parquet."""
    if isinstance(dtype, pl.Datetime):
        return "TIMESTAMP" if dtype.time_zone else "DATETIME"
    for polars_type, bq in _BIGQUERY_TYPES:
        if isinstance(dtype, polars_type):
            return bq
    raise ValueError(f"no BigQuery type for polars {dtype}")


def bigquery_fields(columns: Sequence[Column]) -> list[dict[str, str]]:
    """BigQuery schema JSON (as `bq` and pulumi-gcp take it) for `columns`."""
    return [
        {
            "name": c.name,
            "type": bigquery_type(c.dtype),
            "mode": "NULLABLE" if c.nullable else "REQUIRED",
            "description": c.description,
        }
        for c in columns
    ]
