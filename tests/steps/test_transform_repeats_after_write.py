"""Transform writes every staged row in one pass and splits repeated keys off the written file,
so the dedupe is right even for a transform whose row order changes from run to run."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl

from baton.config import Settings
from baton.contract import Column, Contract, PartitionContext
from baton.dataset import CsvSource, Dataset, Destination
from baton.lake import step_prefix
from baton.manifest import Manifest
from baton.step import Partition, run_partition
from baton.storage import LocalStorage
from baton.task import TaskContext
from baton_extract.job import STEP as EXTRACT
from baton_transform.core import DUPLICATE_KEY, REASONS
from baton_transform.job import STEP as TRANSFORM

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


def _run(root: Path, dataset: Dataset, keys: list[int]) -> Partition:
    storage = LocalStorage(root)
    path = root / "landing" / "orders" / f"{DAY.isoformat()}.csv"
    path.parent.mkdir(parents=True)
    pl.DataFrame({"k": keys, "v": [f"value {k}" for k in keys]}).write_csv(path)
    settings = Settings(home=root)
    for step in (EXTRACT, TRANSFORM):
        part = Partition(
            step.name, dataset, DAY, storage, settings, TaskContext(), f"r-{step.name}"
        )
        assert run_partition(step, part).outcome == "committed"
    return part


def test_every_key_is_staged_once_and_every_repeat_quarantined(tmp_path: Path):
    keys = list(range(4000)) + list(range(0, 4000, 4))  # 1000 re-delivered rows at the end
    part = _run(tmp_path, _dataset(), keys)
    prefix = tmp_path / step_prefix("transform", "orders", DAY)
    staged = pl.read_parquet(list(prefix.glob("*.parquet")))
    quarantined = pl.read_parquet(list((tmp_path / "quarantine").rglob("transform-*.parquet")))
    assert sorted(staged["k"].to_list()) == list(range(4000))
    assert sorted(quarantined["k"].to_list()) == list(range(0, 4000, 4))
    assert quarantined[REASONS].to_list() == [[DUPLICATE_KEY]] * 1000
    assert part.storage.stat(f"{step_prefix('transform', 'orders', DAY)}/_manifest.json")


def test_the_manifest_names_the_only_staged_file_and_counts_the_repeats(tmp_path: Path):
    _run(tmp_path, _dataset(), [1, 2, 3, 2, 1])
    prefix = tmp_path / step_prefix("transform", "orders", DAY)
    manifest = Manifest.from_bytes((prefix / "_manifest.json").read_bytes())
    assert [f.key.rsplit("/", 1)[1] for f in manifest.files] == [
        p.name for p in prefix.glob("*.parquet")
    ]
    assert (manifest.rows_in, manifest.rows_out, manifest.rows_quarantined) == (5, 3, 2)
    assert manifest.quarantine_reasons == {DUPLICATE_KEY: 2}


def test_a_partition_without_repeats_is_written_once(tmp_path: Path):
    _run(tmp_path, _dataset(lambda raw, ctx: raw.with_columns(day=pl.lit(ctx.day))), [3, 1, 2])
    prefix = tmp_path / step_prefix("transform", "orders", DAY)
    (only,) = prefix.glob("*.parquet")
    assert only.name.endswith("-0000.parquet")  # the first write, not a rewrite
    assert pl.read_parquet(only)["k"].to_list() == [3, 1, 2]
    assert not list((tmp_path / "quarantine").rglob("transform-*.parquet"))


def test_the_manifest_schema_is_the_staged_files_in_contract_order(tmp_path: Path):
    # The transform's output columns in another order, plus a helper the contract drops.
    def reordered(raw: pl.LazyFrame, ctx: PartitionContext) -> pl.LazyFrame:
        return raw.select("v", "k", helper=pl.lit(1), day=pl.lit(ctx.day))

    _run(tmp_path, _dataset(reordered), [3, 1, 2])
    prefix = tmp_path / step_prefix("transform", "orders", DAY)
    manifest = Manifest.from_bytes((prefix / "_manifest.json").read_bytes())
    (only,) = prefix.glob("*.parquet")
    written = {name: str(dtype) for name, dtype in pl.read_parquet_schema(only).items()}
    assert list(manifest.schema.items()) == list(written.items())
    assert list(written) == ["day", "k", "v"]
