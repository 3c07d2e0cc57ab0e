"""Repeated keys: transform stages every row in one write, and validate's key_unique rule
quarantines the later rows of a key, from the staged file's fixed order, so the dedupe is
right even for a transform whose row order changes from run to run."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl

from baton.config import Settings
from baton.contract import REASONS, Column, Contract, PartitionContext
from baton.dataset import CsvSource, Dataset, Destination
from baton.lake import step_prefix
from baton.manifest import Manifest
from baton.step import Partition, run_partition
from baton.storage import LocalStorage
from baton.task import TaskContext
from baton_extract.job import STEP as EXTRACT
from baton_transform.job import STEP as TRANSFORM
from baton_validate.core import KEY_UNIQUE
from baton_validate.job import STEP as VALIDATE

DAY = date(2013, 1, 2)
CONTRACT = Contract(
    columns=(
        Column("day", pl.Date(), nullable=False),
        Column("k", pl.Int32(), nullable=False),
        Column("v", pl.String()),
    )
)


def _shuffled(raw: pl.LazyFrame, ctx: PartitionContext) -> pl.LazyFrame:
    """A legitimate transform that promises no row order: a new order on every evaluation."""
    return raw.with_columns(day=pl.lit(ctx.day)).sort(pl.int_range(pl.len()).shuffle())


def _dataset(transform=_shuffled) -> Dataset:
    return Dataset(
        name="orders",
        description="test data",
        source=CsvSource(schema={"k": pl.Int32(), "v": pl.String()}),
        transform=transform,
        key=("k",),
        contract=CONTRACT,
        destination=Destination("orders", partition_column="day"),
        quarantine_tolerance=0.5,
    )


def _run(root: Path, dataset: Dataset, keys: list[int]) -> None:
    storage = LocalStorage(root)
    path = root / "landing" / "orders" / f"{DAY.isoformat()}.csv"
    path.parent.mkdir(parents=True)
    pl.DataFrame({"k": keys, "v": [f"value {k}" for k in keys]}).write_csv(path)
    settings = Settings(home=root)
    for step in (EXTRACT, TRANSFORM, VALIDATE):
        part = Partition(
            step.name, dataset, DAY, storage, settings, TaskContext(), f"r-{step.name}"
        )
        assert run_partition(step, part).outcome == "committed"


def _manifest(root: Path, step: str) -> Manifest:
    return Manifest.from_bytes(
        (root / step_prefix(step, "orders", DAY) / "_manifest.json").read_bytes()
    )


def _rows(root: Path, step: str) -> pl.DataFrame:
    return pl.read_parquet(list((root / step_prefix(step, "orders", DAY)).glob("*.parquet")))


def test_every_key_is_validated_once_and_every_repeat_quarantined(tmp_path: Path):
    keys = list(range(4000)) + list(range(0, 4000, 4))  # 1000 re-delivered rows at the end
    _run(tmp_path, _dataset(), keys)
    assert _rows(tmp_path, "transform").height == 5000
    quarantined = pl.read_parquet(list((tmp_path / "quarantine").rglob("validate-*.parquet")))
    assert sorted(_rows(tmp_path, "validate")["k"].to_list()) == list(range(4000))
    assert sorted(quarantined["k"].to_list()) == list(range(0, 4000, 4))
    assert quarantined[REASONS].to_list() == [[KEY_UNIQUE]] * 1000


def test_the_first_row_of_a_key_in_the_staged_order_is_the_one_kept(tmp_path: Path):
    _run(tmp_path, _dataset(lambda raw, ctx: raw.with_columns(day=pl.lit(ctx.day))), [1, 2, 1])
    assert _rows(tmp_path, "validate")["v"].to_list() == ["value 1", "value 2"]


def test_the_manifests_count_the_repeats_where_they_are_quarantined(tmp_path: Path):
    _run(tmp_path, _dataset(), [1, 2, 3, 2, 1])
    staged, validated = _manifest(tmp_path, "transform"), _manifest(tmp_path, "validate")
    assert (staged.rows_in, staged.rows_out, staged.rows_quarantined) == (5, 5, 0)
    assert (validated.rows_in, validated.rows_out, validated.rows_quarantined) == (5, 3, 2)
    assert validated.quarantine_reasons == {KEY_UNIQUE: 2}


def test_transform_writes_its_partition_once_and_quarantines_nothing(tmp_path: Path):
    _run(tmp_path, _dataset(), [3, 1, 2, 1])
    prefix = tmp_path / step_prefix("transform", "orders", DAY)
    (only,) = prefix.glob("*.parquet")
    assert only.name.endswith("-0000.parquet")
    assert [f.key.rsplit("/", 1)[1] for f in _manifest(tmp_path, "transform").files] == [only.name]
    assert not list((tmp_path / "quarantine").rglob("transform-*.parquet"))


def test_the_manifest_schema_is_the_staged_files_in_contract_order(tmp_path: Path):
    # The transform's output columns in another order, plus a helper the contract drops.
    def reordered(raw: pl.LazyFrame, ctx: PartitionContext) -> pl.LazyFrame:
        return raw.select("v", "k", helper=pl.lit(1), day=pl.lit(ctx.day))

    _run(tmp_path, _dataset(reordered), [3, 1, 2])
    (only,) = (tmp_path / step_prefix("transform", "orders", DAY)).glob("*.parquet")
    written = {name: str(dtype) for name, dtype in pl.read_parquet_schema(only).items()}
    assert list(_manifest(tmp_path, "transform").schema.items()) == list(written.items())
    assert list(written) == ["day", "k", "v"]
