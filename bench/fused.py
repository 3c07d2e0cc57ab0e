"""The lower bound for a multi-process chain: extract, transform, validate and load fused into
one polars process, with no Parquet between them.

It reuses the steps' own pure functions (parse, the dataset transform, conform, the contract
checks with their uniqueness pass, the mart) on the same landing file, holds the staged
partition in memory once, writes the two quarantine files, and inserts the valid rows and the
mart straight from memory into a DuckDB table declared exactly as load declares it, in a
DuckDB instance set up as load's. Run as
`python -m bench.fused BATON_HOME YYYY-MM-DD DATABASE`.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from baton.contract import PartitionContext
from baton.datasets import flights
from baton.references import load_references
from baton.storage import LocalStorage
from baton.uniqueness import repeated_rows
from baton.warehouse import TableSpec
from baton.warehouse.duckdb_warehouse import DEFAULT_MEMORY_LIMIT, create_table_sql, start_instance
from baton_extract.core import parse
from baton_load.core import build_mart
from baton_transform.core import conform
from baton_validate.core import checks, split

RUN_ID = "fused"


class ArrowStream:
    """A frame offered to DuckDB through the Arrow PyCapsule interface (no pyarrow here)."""

    def __init__(self, frame: pl.DataFrame) -> None:
        self.frame = frame

    def __arrow_c_stream__(self, requested_schema: Any = None) -> Any:
        return self.frame.__arrow_c_stream__(requested_schema)


def replace_partition(
    con: duckdb.DuckDBPyConnection, table: TableSpec, day: date, rows: pl.DataFrame
) -> int:
    """Declare `table` as load does, replace partition `day` with `rows`, return its count."""
    names = ", ".join(f'"{c.name}"' for c in table.columns)
    part = table.destination.partition_column
    source = ArrowStream(rows)  # noqa: F841 -- DuckDB finds it by name in this frame
    con.execute(create_table_sql(table))
    con.execute(f'DELETE FROM "{table.name}" WHERE "{part}" = ?', [day])
    con.execute(f'INSERT INTO "{table.name}" ({names}) SELECT {names} FROM source')
    (count,) = con.execute(
        f'SELECT count(*) FROM "{table.name}" WHERE "{part}" = ?', [day]
    ).fetchone()
    return int(count)


def run(home: Path, day: date, database: Path) -> dict[str, int]:
    """The whole chain for one flights partition in one process; returns its row counts."""
    dataset = flights.DATASET
    storage = LocalStorage(home / "lake")
    refs, _ = load_references(storage, dataset)
    ctx = PartitionContext(day, refs)
    source = dataset.source
    (landing,) = source.landing_keys(dataset.name, day)
    text = source.read(storage, landing).select(list(source.schema))
    good, unparsable = parse(text, source.schema, source.parse_options)
    staged, _, problems = conform(dataset.transform(good, ctx), dataset.contract)
    assert not problems, problems
    # The one materialisation: every staged row in memory, the landing file parsed once.
    staged_rows, unparsable_rows = pl.collect_all([staged, unparsable], engine="streaming")
    rules = checks(
        dataset.contract,
        ctx,
        dataset.destination.partition_column,
        repeated_rows(staged_rows.lazy(), dataset.key),
    )
    valid, rejected = split(staged_rows.lazy(), dataset.contract, rules, RUN_ID, datetime.now(UTC))
    valid_rows, rejected_rows = pl.collect_all([valid, rejected])
    out = home / "fused"
    out.mkdir(parents=True, exist_ok=True)
    for name, rows in (("extract", unparsable_rows), ("validate", rejected_rows)):
        rows.write_parquet(out / f"quarantine-{name}.parquet")
    (mart,) = dataset.marts
    with start_instance(str(database), DEFAULT_MEMORY_LIMIT) as con:
        loaded = replace_partition(
            con,
            TableSpec.of_dataset(dataset),
            day,
            valid_rows,
        )
        replace_partition(
            con,
            TableSpec.of_mart(mart),
            day,
            build_mart(mart, valid_rows.lazy()).collect(),
        )
    return {
        "landed": staged_rows.height + unparsable_rows.height,
        "loaded": loaded,
        "quarantined": unparsable_rows.height + rejected_rows.height,
    }


def main(argv: Sequence[str]) -> int:
    """`python -m bench.fused BATON_HOME YYYY-MM-DD DATABASE`."""
    if len(argv) != 3:
        print("usage: python -m bench.fused BATON_HOME YYYY-MM-DD DATABASE", file=sys.stderr)
        return 2
    print(run(Path(argv[0]), date.fromisoformat(argv[1]), Path(argv[2])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
