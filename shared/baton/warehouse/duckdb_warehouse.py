"""The local warehouse: one DuckDB file; a partition is replaced by delete+insert in one
transaction, so readers see the old partition or the new one, never a mix."""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
from tenacity import retry, retry_if_exception, stop_after_delay, wait_random_exponential

from baton.config import Settings
from baton.contract import Column
from baton.errors import ConfigError, DataError, TransientError, first_line
from baton.storage import NO_SPACE, Storage, no_space_error, os_error_code
from baton.warehouse import TableSpec


def duckdb_type(dtype: pl.DataType) -> str:
    """The DuckDB column type for a polars type."""
    if isinstance(dtype, pl.Datetime):
        return "TIMESTAMPTZ" if dtype.time_zone else "TIMESTAMP"
    simple = {
        pl.Boolean: "BOOLEAN", pl.Int8: "TINYINT", pl.Int16: "SMALLINT", pl.Int32: "INTEGER",
        pl.Int64: "BIGINT", pl.UInt8: "UTINYINT", pl.UInt16: "USMALLINT", pl.UInt32: "UINTEGER",
        pl.UInt64: "UBIGINT", pl.Float32: "FLOAT", pl.Float64: "DOUBLE", pl.String: "VARCHAR",
        pl.Date: "DATE",
    }  # fmt: skip
    for polars_type, name in simple.items():
        if isinstance(dtype, polars_type):
            return name
    raise ValueError(f"no DuckDB type for polars {dtype}")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    """A SQL string literal (ATTACH takes no parameters)."""
    return "'" + text.replace("'", "''") + "'"


def create_table_sql(table: TableSpec) -> str:
    """`CREATE TABLE IF NOT EXISTS` for `table`: its contract columns, types and nullability."""
    cols = ", ".join(
        f"{_quote(c.name)} {duckdb_type(c.dtype)}{'' if c.nullable else ' NOT NULL'}"
        for c in table.columns
    )
    return f"CREATE TABLE IF NOT EXISTS {_quote(table.name)} ({cols})"


DEFAULT_MEMORY_LIMIT: str = Settings.duckdb_memory  # BATON_DUCKDB_MEMORY's default


def start_instance(database: str, memory_limit: str) -> duckdb.DuckDBPyConnection:
    """A DuckDB instance on `database` set up for loading partitions.

    - A table's rows have no order (BigQuery keeps none either), so DuckDB may insert them in
      the order its threads finish: a partition's insert takes about 35% less time
      (https://duckdb.org/docs/2.0/guides/performance/how_to_tune_workloads).
    - A load writes its own partition's rows and no others. With deletes to commit, DuckDB's
      checkpoint (at every detach) merges neighbouring row groups that would fit in fewer,
      rewriting other partitions' rows: replacing a 650k-row day beside others cost 0.3 s
      more, and 72 replacements of 12 days of 1k-650k rows took 13.7 s instead of 4.0 (in a
      larger file). `max_vacuum_tasks = 0` schedules no such merge; a row group whose rows
      are all deleted is still dropped, so a replaced partition's space is reused. (The
      setting as `duckdb_settings()` describes it: "the maximum number of vacuum tasks to
      schedule during a checkpoint"; `test_duckdb_warehouse.py` holds DuckDB to it.)
    - DuckDB's default memory limit is 80% of the machine's, and it keeps a partition's
      inserted rows in its buffer pool: with a limit the pool stays flat as partitions grow
      (the rows are written to the file, and DuckDB evicts them).
    """
    instance = duckdb.connect(database)
    instance.execute("SET preserve_insertion_order = false")
    instance.execute("SET max_vacuum_tasks = 0")
    try:
        instance.execute(f"SET memory_limit = {_literal(memory_limit)}")
    except duckdb.Error as err:
        instance.close()
        raise ConfigError(
            f"BATON_DUCKDB_MEMORY={memory_limit!r} is not a memory size DuckDB takes "
            f"({first_line(err)}); give one such as 160MB or 1GB",
            reason="invalid_setting",
        ) from err
    return instance


def _close_quietly(instance: duckdb.DuckDBPyConnection) -> None:
    with contextlib.suppress(duckdb.Error):
        instance.close()


def _is_lock_conflict(err: BaseException) -> bool:
    return isinstance(err, duckdb.IOException) and "lock" in str(err).lower()


class DuckDBWarehouse:
    """DuckDB file at `path`, reading Parquet straight from a local lake.

    One in-process DuckDB instance serves every partition this object loads (starting one
    costs about 40 ms, more than loading a day); the file is attached for one partition's
    transaction and detached after it, so its single-writer lock is held only that long and
    parallel tasks and readers take turns per partition, not per task. `close` ends it.
    """

    ALIAS = "baton_warehouse"

    def __init__(
        self, path: Path, storage: Storage, memory_limit: str = DEFAULT_MEMORY_LIMIT
    ) -> None:
        self.path = path
        self.storage = storage
        self.memory_limit = memory_limit
        self._instance: duckdb.DuckDBPyConnection | None = None
        self._checked: set[tuple[str, tuple[Column, ...]]] = set()

    def describe(self) -> str:
        return f"duckdb:{self.path}"

    def close(self) -> None:
        """End the in-process DuckDB instance (the file is already detached)."""
        if self._instance is not None:
            self._closer()
        self._instance = None

    def _start(self) -> duckdb.DuckDBPyConnection:
        instance = start_instance(":memory:", self.memory_limit)
        # Closed at the latest when this object goes or the interpreter exits (a step used
        # as a library, as tests do, never calls `close`).
        self._closer = weakref.finalize(self, _close_quietly, instance)
        return instance

    def _files(self, keys: Sequence[str]) -> list[str]:
        paths = [self.storage.local_path(k) for k in keys]
        if any(p is None for p in paths):
            raise ConfigError(
                "the DuckDB warehouse reads Parquet from a local lake; with a gs:// lake set "
                "BATON_WAREHOUSE=bigquery",
                reason="warehouse_needs_local_lake",
            )
        return [str(p) for p in paths]

    @retry(
        retry=retry_if_exception(_is_lock_conflict),
        stop=stop_after_delay(120),
        wait=wait_random_exponential(multiplier=0.05, max=2),
        reraise=True,
    )
    def _attach(self) -> duckdb.DuckDBPyConnection:
        # One writer process at a time: parallel partitions wait for the file lock.
        if self._instance is None:
            self._instance = self._start()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        con = self._instance
        con.execute(f"ATTACH {_literal(str(self.path))} AS {self.ALIAS}")
        con.execute(f"USE {self.ALIAS}")
        return con

    def _detach(self, con: duckdb.DuckDBPyConnection) -> None:
        """Release the file (and its lock); an instance that cannot is replaced next time."""
        try:
            con.execute("USE memory")
            con.execute(f"DETACH {self.ALIAS}")
        except duckdb.Error:
            self.close()

    def _ensure_table(self, con: duckdb.DuckDBPyConnection, table: TableSpec) -> None:
        """Create the table if missing; evolve it once per columns seen by this process."""
        con.execute(create_table_sql(table))
        if (table.name, table.columns) not in self._checked:
            self._evolve(con, table)
            self._checked.add((table.name, table.columns))

    def _evolve(self, con: duckdb.DuckDBPyConnection, table: TableSpec) -> None:
        """Add new nullable columns (as BigQuery's ALLOW_FIELD_ADDITION); refuse type changes."""
        existing = dict(
            con.execute(
                "SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = ? "
                "AND schema_name = 'main' AND table_name = ?",
                [self.ALIAS, table.name],
            ).fetchall()
        )
        for col in table.columns:
            wanted = duckdb_type(col.dtype)
            if col.name not in existing:
                if not col.nullable:
                    raise ConfigError(
                        f"table {table.name}: new column {col.name} must be nullable to be added",
                        reason="schema_evolution",
                    )
                con.execute(
                    f"ALTER TABLE {_quote(table.name)} ADD COLUMN {_quote(col.name)} {wanted}"
                )
            elif existing[col.name] != wanted.replace("TIMESTAMPTZ", "TIMESTAMP WITH TIME ZONE"):
                raise ConfigError(
                    f"table {table.name}: column {col.name} is {existing[col.name]} in the warehouse "
                    f"but {wanted} in the contract; migrate the table first",
                    reason="schema_evolution",
                )

    def _replace(
        self,
        con: duckdb.DuckDBPyConnection,
        table: TableSpec,
        day: date,
        files: list[str],
        expected_rows: int,
    ) -> int:
        """Delete the partition and insert the files' rows of `day`, in the open transaction.

        The insert reads the files once; only when the count is off are they read again, to
        say how many rows lay outside the partition."""
        names = ", ".join(_quote(c.name) for c in table.columns)
        part = _quote(table.destination.partition_column)
        con.execute(f"DELETE FROM {_quote(table.name)} WHERE {part} = ?", [day])
        if not files:
            loaded = 0
        else:
            (loaded,) = con.execute(
                f"INSERT INTO {_quote(table.name)} ({names}) SELECT {names} "
                f"FROM read_parquet(?) WHERE {part} = ?",
                [files, day],
            ).fetchone()
        if loaded != expected_rows:
            (outside,) = (
                con.execute(
                    f"SELECT count(*) FROM read_parquet(?) WHERE {part} IS DISTINCT FROM ?",
                    [files, day],
                ).fetchone()
                if files
                else (0,)
            )
            raise DataError(
                f"table {table.name} partition {day}: {loaded} rows loaded, {expected_rows} "
                f"expected, {outside} outside the partition; rolled back",
                reason="load_mismatch",
            )
        return int(loaded)

    def replace_partition(
        self, table: TableSpec, day: date, keys: Sequence[str], expected_rows: int
    ) -> int:
        files = self._files(keys)
        try:
            con = self._attach()
        except duckdb.IOException as err:
            self._raise_if_full(err)
            raise TransientError(
                f"warehouse {self.path} is locked by another writer: {err}",
                reason="warehouse_locked",
            ) from err
        try:
            con.execute("BEGIN TRANSACTION")
            self._ensure_table(con, table)
            loaded = self._replace(con, table, day, files, expected_rows)
            con.execute("COMMIT")
            return loaded
        except BaseException as err:
            with contextlib.suppress(duckdb.Error):
                con.execute("ROLLBACK")
            if isinstance(err, duckdb.Error):
                self._raise_if_full(err)
            if isinstance(err, duckdb.OutOfMemoryException):
                raise ConfigError(
                    f"warehouse {self.path}: loading {table.name} partition {day} needs more "
                    f"than BATON_DUCKDB_MEMORY={self.memory_limit} ({first_line(err)}); raise "
                    "it; the partition was rolled back",
                    reason="warehouse_memory",
                ) from err
            raise
        finally:
            self._detach(con)

    def _exists(self, con: duckdb.DuckDBPyConnection, name: str) -> bool:
        found = con.execute(
            "SELECT count(*) FROM information_schema.tables"
            " WHERE table_catalog = ? AND table_name = ?",
            [self.ALIAS, name],
        ).fetchone()
        return bool(found and found[0])

    def partition_rows(self, table: TableSpec, day: date) -> int | None:
        if not self.path.is_file():
            return None
        con = self._attach()
        try:
            if not self._exists(con, table.name):
                return None
            part = _quote(table.destination.partition_column)
            (rows,) = con.execute(
                f"SELECT count(*) FROM {_quote(table.name)} WHERE {part} = ?", [day]
            ).fetchone() or (0,)
            return int(rows)
        finally:
            self._detach(con)

    def drop_table(self, name: str) -> bool:
        if not self.path.is_file():
            return False
        con = self._attach()
        try:
            existed = self._exists(con, name)
            con.execute(f"DROP TABLE IF EXISTS {_quote(name)}")
            return existed
        finally:
            self._detach(con)

    def _raise_if_full(self, err: duckdb.Error) -> None:
        """A full disk or quota under the warehouse is the sink's condition: unavailable, with
        the file and the free space (DuckDB rolled the partition back)."""
        code = os_error_code(err)
        if code in NO_SPACE:
            raise no_space_error(code, "write the warehouse", self.path) from err
