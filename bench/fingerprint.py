"""A fingerprint of what a pipeline produced for some days: warehouse rows, lake files, counts.

Used two ways: to prove a performance change left outputs identical (compare fingerprints
taken before and after, `python -m bench.fingerprint HOME DAY...`), and to prove the
benchmark's three implementations did the same work (compare their warehouse tables).
Run-specific values (run ids, timestamps, file names) are left out; rows are compared as
sorted sets, with their types.
"""

from __future__ import annotations

import hashlib
import json
import sys
import tempfile
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from baton import typed_record
from baton.lake import OUTPUT_ZONE, STEPS, manifest_key
from baton.manifest import Manifest

AUDIT = ("_run_id", "_validated_at")
MANIFEST_FIELDS = ("rows_in", "rows_out", "rows_quarantined", "quarantine_reasons")


def frame_digest(frame: pl.DataFrame) -> dict[str, object]:
    """Rows (as a sorted set), column types and row count of `frame`, order-independent."""
    frame = frame.drop([c for c in AUDIT if c in frame.columns])
    text = frame.with_columns(
        pl.col(c).list.join("|") for c, t in frame.schema.items() if isinstance(t, pl.List)
    )
    ordered = text.sort(text.columns, nulls_last=True) if text.height else text
    return {
        "rows": frame.height,
        "schema": [[c, str(t)] for c, t in frame.schema.items()],
        "sha256": hashlib.sha256(ordered.write_csv().encode()).hexdigest(),
    }


def table_digest(database: Path, table: str, column: str, day: date) -> dict[str, object]:
    """The digest of one partition of a DuckDB table (audit columns excluded)."""
    with tempfile.TemporaryDirectory() as tmp, duckdb.connect(str(database), read_only=True) as con:
        out = Path(tmp) / "partition.parquet"
        con.execute(
            f'COPY (SELECT * FROM "{table}" WHERE "{column}" = DATE \'{day.isoformat()}\') '
            f"TO '{out}' (FORMAT parquet)"
        )
        return frame_digest(pl.read_parquet(out))


def _files(lake: Path, keys: Sequence[str]) -> pl.DataFrame:
    return pl.read_parquet([str(lake / k) for k in keys]) if keys else pl.DataFrame()


def step_digest(lake: Path, step: str, dataset: str, day: date) -> dict[str, object]:
    """A step's manifest counts plus digests of the data and quarantine files it names."""
    path = lake / manifest_key(step, dataset, day)
    manifest = Manifest.from_bytes(path.read_bytes())
    record = typed_record.plain(manifest)
    summary = {k: v for k, v in record.items() if k in MANIFEST_FIELDS}
    summary["schema"] = list(manifest.schema.items())  # keep column order
    data_keys = [f.key for f in manifest.files]
    quarantine_keys = [f.key for f in manifest.quarantine]
    return {
        **summary,
        "data": frame_digest(_files(lake, data_keys)),
        "quarantine": frame_digest(_files(lake, quarantine_keys)),
    }


def fingerprint(home: Path, days: Sequence[date], dataset: str = "flights") -> dict[str, object]:
    """Everything a run of the chain produced for `days` under BATON_HOME `home`."""
    lake, database = home / "lake", home / "warehouse.duckdb"
    out: dict[str, object] = {}
    for day in days:
        entry: dict[str, object] = {
            step: step_digest(lake, step, dataset, day) for step in STEPS if step in OUTPUT_ZONE
        }
        for table in ("flights", "carrier_daily_performance"):
            entry[f"table:{table}"] = table_digest(database, table, "flight_date", day)
        out[day.isoformat()] = entry
    return out


def main(argv: Sequence[str]) -> int:
    """`python -m bench.fingerprint BATON_HOME DAY...`: print the fingerprint as JSON."""
    if len(argv) < 2:
        print("usage: python -m bench.fingerprint BATON_HOME YYYY-MM-DD...", file=sys.stderr)
        return 2
    days = [date.fromisoformat(d) for d in argv[1:]]
    print(json.dumps(fingerprint(Path(argv[0]), days), indent=1, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
