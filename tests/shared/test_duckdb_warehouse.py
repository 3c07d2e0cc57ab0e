"""The DuckDB warehouse replaces one partition atomically and refuses loads that do not add up."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest

from baton.contract import Column
from baton.dataset import Destination
from baton.errors import ConfigError, DataError
from baton.storage import LocalStorage
from baton.warehouse import TableSpec
from baton.warehouse.duckdb_warehouse import DuckDBWarehouse, duckdb_type

D1, D2 = date(2013, 1, 1), date(2013, 1, 2)
TABLE = TableSpec(
    Destination("sales", "day", clustering=("shop",)),
    (Column("day", pl.Date(), nullable=False), Column("shop", pl.String(), nullable=False)),
)


@pytest.fixture
def storage(tmp_path: Path) -> LocalStorage:
    (tmp_path / "lake").mkdir()
    return LocalStorage(tmp_path / "lake")


@pytest.fixture
def warehouse(tmp_path: Path, storage: LocalStorage) -> DuckDBWarehouse:
    return DuckDBWarehouse(tmp_path / "warehouse.duckdb", storage)


def _put(storage: LocalStorage, key: str, frame: pl.DataFrame) -> str:
    with storage.sink_targets([key]) as (target,):
        frame.write_parquet(target)
    return key


def _rows(warehouse: DuckDBWarehouse, table: str = "sales") -> list[tuple]:
    with duckdb.connect(str(warehouse.path), read_only=True) as con:
        return con.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall()


def _day(day: date, *shops: str) -> pl.DataFrame:
    return pl.DataFrame({"day": [day] * len(shops), "shop": list(shops)})


def test_replacing_a_partition_touches_no_other_partition(storage, warehouse):
    warehouse.replace_partition(TABLE, D1, [_put(storage, "a.parquet", _day(D1, "x", "y"))], 2)
    warehouse.replace_partition(TABLE, D2, [_put(storage, "b.parquet", _day(D2, "z"))], 1)
    assert (
        warehouse.replace_partition(TABLE, D1, [_put(storage, "c.parquet", _day(D1, "w"))], 1) == 1
    )
    assert _rows(warehouse) == [(D1, "w"), (D2, "z")]


def test_loading_the_same_files_twice_leaves_the_same_rows(storage, warehouse):
    key = _put(storage, "a.parquet", _day(D1, "x", "y"))
    warehouse.replace_partition(TABLE, D1, [key], 2)
    warehouse.replace_partition(TABLE, D1, [key], 2)
    assert _rows(warehouse) == [(D1, "x"), (D1, "y")]


def test_rows_outside_the_partition_roll_the_whole_load_back(storage, warehouse):
    warehouse.replace_partition(TABLE, D1, [_put(storage, "a.parquet", _day(D1, "x"))], 1)
    bad = _put(storage, "b.parquet", pl.concat([_day(D1, "y"), _day(D2, "z")]))
    with pytest.raises(DataError, match="1 outside the partition; rolled back") as caught:
        warehouse.replace_partition(TABLE, D1, [bad], 2)
    assert caught.value.reason == "load_mismatch"
    assert _rows(warehouse) == [(D1, "x")]


def test_a_row_count_that_differs_from_the_manifest_rolls_back(storage, warehouse):
    key = _put(storage, "a.parquet", _day(D1, "x"))
    with pytest.raises(DataError, match="1 rows loaded, 5 expected"):
        warehouse.replace_partition(TABLE, D1, [key], 5)
    with duckdb.connect(str(warehouse.path), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM information_schema.tables").fetchone() == (0,)


def test_after_a_rolled_back_partition_the_same_warehouse_loads_the_next(storage, warehouse):
    with pytest.raises(DataError, match="rolled back"):
        warehouse.replace_partition(TABLE, D1, [_put(storage, "a.parquet", _day(D1, "x"))], 5)
    assert warehouse.replace_partition(TABLE, D2, [_put(storage, "b.parquet", _day(D2, "z"))], 1)
    assert _rows(warehouse) == [(D2, "z")]


def test_between_partitions_the_file_is_free_for_another_process(storage, warehouse):
    # One DuckDB instance serves the warehouse's partitions, but the file (and its
    # single-writer lock, which is per process) is held only during each replacement.
    warehouse.replace_partition(TABLE, D1, [_put(storage, "a.parquet", _day(D1, "x"))], 1)
    writer = f"import duckdb; duckdb.connect({str(warehouse.path)!r}).close()"
    assert subprocess.run([sys.executable, "-c", writer], check=False).returncode == 0
    assert warehouse.replace_partition(TABLE, D2, [_put(storage, "b.parquet", _day(D2, "z"))], 1)
    warehouse.close()
    assert _rows(warehouse) == [(D1, "x"), (D2, "z")]


def test_no_files_empties_the_partition(storage, warehouse):
    warehouse.replace_partition(TABLE, D1, [_put(storage, "a.parquet", _day(D1, "x"))], 1)
    assert warehouse.replace_partition(TABLE, D1, [], 0) == 0
    assert _rows(warehouse) == []


def test_a_new_nullable_contract_column_is_added_to_the_table(storage, warehouse):
    warehouse.replace_partition(TABLE, D1, [_put(storage, "a.parquet", _day(D1, "x"))], 1)
    wider = TableSpec(TABLE.destination, (*TABLE.columns, Column("note", pl.String())))
    frame = _day(D2, "z").with_columns(note=pl.lit("hi"))
    warehouse.replace_partition(wider, D2, [_put(storage, "b.parquet", frame)], 1)
    assert _rows(warehouse) == [(D1, "x", None), (D2, "z", "hi")]


def test_a_retyped_column_is_refused_with_what_to_do(storage, warehouse):
    warehouse.replace_partition(TABLE, D1, [_put(storage, "a.parquet", _day(D1, "x"))], 1)
    retyped = TableSpec(
        TABLE.destination, (TABLE.columns[0], Column("shop", pl.Int64(), nullable=False))
    )
    with pytest.raises(ConfigError, match="column shop is VARCHAR in the warehouse but BIGINT"):
        warehouse.replace_partition(retyped, D1, [], 0)


def test_a_gs_lake_needs_the_bigquery_warehouse(tmp_path):
    # A lake with no local paths, as GcsStorage is; the real one is tested against the GCS
    # emulator in tests/steps/test_gcs_bigquery_path.py, this only needs `local_path`.
    class _Remote(LocalStorage):
        def local_path(self, key: str) -> None:
            return None

    (tmp_path / "lake").mkdir()
    remote = DuckDBWarehouse(tmp_path / "w.duckdb", _Remote(tmp_path / "lake"))
    with pytest.raises(ConfigError, match="BATON_WAREHOUSE=bigquery"):
        remote.replace_partition(TABLE, D1, ["a.parquet"], 1)


@pytest.mark.parametrize(
    ("dtype", "expected"),
    [
        (pl.Datetime("us", "UTC"), "TIMESTAMPTZ"),
        (pl.Datetime("us"), "TIMESTAMP"),
        (pl.UInt32(), "UINTEGER"),
        (pl.Date(), "DATE"),
        (pl.String(), "VARCHAR"),
    ],
)
def test_duckdb_types_follow_the_contract(dtype, expected):
    assert duckdb_type(dtype) == expected


def test_a_memory_limit_duckdb_does_not_take_is_a_configuration_error(tmp_path, storage):
    warehouse = DuckDBWarehouse(tmp_path / "w.duckdb", storage, memory_limit="lots")
    key = _put(storage, "a.parquet", _day(D1, "x"))
    with pytest.raises(ConfigError, match="BATON_DUCKDB_MEMORY='lots' is not a memory size") as e:
        warehouse.replace_partition(TABLE, D1, [key], 1)
    assert e.value.reason == "invalid_setting"


def test_a_partition_larger_than_the_memory_limit_rolls_back_naming_the_setting(
    tmp_path, storage
):
    roomy = DuckDBWarehouse(tmp_path / "w.duckdb", storage)
    roomy.replace_partition(TABLE, D1, [_put(storage, "a.parquet", _day(D1, "x"))], 1)
    roomy.close()
    shops = [f"shop number {i:09d} with a long name to fill memory" for i in range(400_000)]
    key = _put(storage, "big.parquet", _day(D1, *shops))
    tight = DuckDBWarehouse(tmp_path / "w.duckdb", storage, memory_limit="2MB")
    with pytest.raises(ConfigError, match="needs more than BATON_DUCKDB_MEMORY=2MB") as caught:
        tight.replace_partition(TABLE, D1, [key], len(shops))
    assert caught.value.reason == "warehouse_memory"
    tight.close()
    assert _rows(roomy) == [(D1, "x")]


def test_the_memory_limit_is_what_the_instance_runs_with(tmp_path, storage):
    warehouse = DuckDBWarehouse(tmp_path / "w.duckdb", storage, memory_limit="96MB")
    warehouse.replace_partition(TABLE, D1, [_put(storage, "a.parquet", _day(D1, "x"))], 1)
    con = warehouse._instance
    assert con is not None
    (limit,) = con.execute("SELECT current_setting('memory_limit')").fetchone()
    (ordered,) = con.execute("SELECT current_setting('preserve_insertion_order')").fetchone()
    assert (limit, ordered) == ("91.5 MiB", False)


def _many(day: date, n: int, prefix: str) -> pl.DataFrame:
    """`n` rows of `day` over 977 shops."""
    shop = pl.lit(prefix) + (pl.int_range(n) % 977).cast(pl.String)
    return pl.select(day=pl.repeat(day, n), shop=shop)


def _stored(warehouse: DuckDBWarehouse) -> dict[date, list[tuple]]:
    """Where each partition's rows are stored: per day held alone by a row group, the
    (row group size, block, offset) of its `shop` segments."""
    with duckdb.connect(str(warehouse.path), read_only=True) as con:
        segments = con.execute(
            "SELECT row_group_id, column_name, count, block_id, block_offset, stats "
            "FROM pragma_storage_info('sales') WHERE segment_type <> 'VALIDITY'"
        ).fetchall()
    days = {g: s["min"] for g, col, *_, s in segments if col == "day" and s["min"] == s["max"]}
    stored: dict[date, list[tuple]] = {}
    for group, col, count, block, offset, _ in segments:
        if col == "shop" and group in days:
            stored.setdefault(days[group], []).append((count, block, offset))
    return {day: sorted(places) for day, places in stored.items()}


def test_replacing_a_partition_rewrites_no_other_partitions_rows(storage, warehouse):
    # Replacing a large partition between others leaves its neighbours' partial row groups
    # side by side; DuckDB's checkpoint would merge them, rewriting rows of other partitions
    # on every load (0.3 s for a 650k-row day's neighbours). Load turns that off
    # (max_vacuum_tasks = 0): a load writes its own partition's rows and no others.
    days = [date(2013, 1, d) for d in range(1, 6)]
    sizes = [1_000, 130_000, 1_000, 1_000, 130_000]
    for day, n in zip(days, sizes, strict=True):
        key = _put(storage, f"{day}.parquet", _many(day, n, "s"))
        warehouse.replace_partition(TABLE, day, [key], n)
    before = _stored(warehouse)
    assert set(before) == set(days)  # every partition in row groups of its own
    key = _put(storage, "again.parquet", _many(days[1], sizes[1], "t"))
    warehouse.replace_partition(TABLE, days[1], [key], sizes[1])
    after = _stored(warehouse)
    assert {d: after.get(d) for d in days if d != days[1]} == {
        d: before[d] for d in days if d != days[1]
    }
    assert sum(count for count, *_ in after[days[1]]) == sizes[1]
