"""Data contracts: schema checks, row checks that name every broken rule, BigQuery fields."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from baton.contract import (
    AUDIT_COLUMNS,
    Column,
    Contract,
    PartitionContext,
    bigquery_fields,
    bigquery_type,
    failed_rules,
    rule,
)
from baton.datasets import flights, weather
from baton.errors import DataError

CONTRACT = Contract(
    columns=(
        Column("id", pl.Int32(), nullable=False, description="row id"),
        Column("qty", pl.Int32()),
        Column("code", pl.String()),
    ),
    rules=(
        rule("qty_positive")(lambda ctx: pl.col("qty") > 0),
        rule("code_known", "code is in the codes table")(
            lambda ctx: pl.col("code").is_in(ctx.refs["codes"]["code"].implode())
        ),
    ),
)
CTX = PartitionContext(date(2013, 1, 2), {"codes": pl.DataFrame({"code": ["a", "b"]})})


def _judge(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select("id", failed_rules(CONTRACT.checks(CTX)).alias("broken"))


def test_a_row_lists_every_rule_it_breaks_in_contract_order():
    frame = pl.DataFrame(
        {"id": [1, None, 3, 4], "qty": [5, -1, None, 0], "code": ["a", "z", None, "z"]},
        schema=CONTRACT.schema(),
    )
    assert_frame_equal(
        _judge(frame),
        pl.DataFrame(
            {
                "id": [1, None, 3, 4],
                "broken": [
                    [],
                    ["not_null:id", "qty_positive", "code_known"],
                    [],
                    ["qty_positive", "code_known"],
                ],
            },
            schema={"id": pl.Int32(), "broken": pl.List(pl.String())},
        ),
    )


def test_a_null_passes_every_rule_but_nullability():
    frame = pl.DataFrame({"id": [7], "qty": [None], "code": [None]}, schema=CONTRACT.schema())
    assert _judge(frame)["broken"].to_list() == [[]]


def test_no_checks_means_every_row_breaks_no_rule():
    frame = pl.DataFrame({"x": [1, 2]})
    assert frame.with_columns(failed_rules([]).alias("b"))["b"].to_list() == [[], []]


def test_schema_problems_name_missing_retyped_and_extra_columns():
    actual = pl.Schema({"id": pl.Int64(), "code": pl.String(), "extra": pl.Int8()})
    assert CONTRACT.schema_problems(actual) == [
        "column 'id' is Int64, contract says Int32",
        "column 'qty' is missing",
        "column 'extra' is not in the contract",
    ]
    assert CONTRACT.schema_problems(CONTRACT.schema()) == []


def test_require_schema_raises_a_data_error_naming_the_place():
    with pytest.raises(DataError, match=r"^staged/x\.parquet: column 'qty' is missing"):
        CONTRACT.require_schema(
            pl.Schema({"id": pl.Int32(), "code": pl.String()}), "staged/x.parquet"
        )


def test_warehouse_columns_are_the_contract_plus_underscore_audit_columns():
    names = [c.name for c in CONTRACT.warehouse_columns()]
    assert names == ["id", "qty", "code", "_run_id", "_validated_at"]
    assert all(c.name.startswith("_") for c in AUDIT_COLUMNS)


def test_bigquery_fields_carry_type_mode_and_description():
    assert bigquery_fields(CONTRACT.columns) == [
        {"name": "id", "type": "INTEGER", "mode": "REQUIRED", "description": "row id"},
        {"name": "qty", "type": "INTEGER", "mode": "NULLABLE", "description": ""},
        {"name": "code", "type": "STRING", "mode": "NULLABLE", "description": ""},
    ]


@pytest.mark.parametrize(
    ("dtype", "expected"),
    [
        (pl.Boolean(), "BOOLEAN"),
        (pl.Int8(), "INTEGER"),
        (pl.UInt32(), "INTEGER"),
        (pl.Int64(), "INTEGER"),
        (pl.Float32(), "FLOAT"),
        (pl.Float64(), "FLOAT"),
        (pl.String(), "STRING"),
        (pl.Date(), "DATE"),
        (pl.Datetime("us", "UTC"), "TIMESTAMP"),
        (pl.Datetime("us"), "DATETIME"),
    ],
)
def test_bigquery_type_of_each_supported_polars_type(dtype, expected):
    assert bigquery_type(dtype) == expected


@pytest.mark.parametrize("dtype", [pl.UInt64(), pl.List(pl.Int32()), pl.Decimal(10, 2)])
def test_types_bigquery_cannot_load_from_parquet_are_refused(dtype):
    with pytest.raises(ValueError, match="no BigQuery type"):
        bigquery_type(dtype)


@pytest.mark.parametrize("dataset", [flights.DATASET, weather.DATASET], ids=lambda d: d.name)
def test_every_builtin_table_and_mart_has_a_bigquery_schema(dataset):
    fields = bigquery_fields(dataset.contract.warehouse_columns())
    assert [f["name"] for f in fields] == [c.name for c in dataset.contract.warehouse_columns()]
    for mart in dataset.marts:
        assert len(bigquery_fields(mart.columns)) == len(mart.columns)
