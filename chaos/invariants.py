"""What must hold after every scenario, against a clean reference run: the same rows per
partition (an order-independent digest, audit columns aside), every manifest readable and naming
files of the listed size, landed == loaded (or validated) + quarantined, every cell committed."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

import duckdb
import polars as pl

from baton import datasets
from baton.errors import DataError
from baton.lake import STEPS, manifest_key
from baton.manifest import Manifest, damage, read_manifest
from baton_cli.status import State, status_grid
from chaos.lab import Lab

DATASET = "flights"
TABLES = {"flights": "flight_date", "carrier_daily_performance": "flight_date"}
Rows = dict[tuple[str, str], Counter[str]]  # (table, date) -> row digest -> count


@dataclass
class Figures:
    """One scenario's outcome, printed as one line."""

    scenario: str
    faults: int = 0
    attempts: int = 0
    dates_differing: int = 0
    rows_lost: int = 0
    rows_duplicated: int = 0
    violations: list[str] = field(default_factory=list)
    crashes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No loss, duplicate, violation or crash."""
        return not (self.rows_lost or self.rows_duplicated or self.violations or self.crashes)

    def line(self) -> str:
        """The one line of figures."""
        return (
            f"{self.scenario:<24} faults={self.faults:<5} attempts={self.attempts} "
            f"dates_differing={self.dates_differing} rows_lost={self.rows_lost} "
            f"rows_duplicated={self.rows_duplicated} violations={len(self.violations)} "
            f"crashes={len(self.crashes)} {'ok' if self.ok else 'FAIL'}"
        )


def warehouse_rows(lab: Lab) -> Rows:
    """Row digests of every warehouse table, per partition, audit (`_`) columns aside."""
    rows: Rows = {}
    path = lab.home / "warehouse.duckdb"
    if not path.exists():
        return rows
    with duckdb.connect(str(path), read_only=True) as con:
        for table, part in TABLES.items():
            columns = [
                c
                for (c,) in con.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
                    "ORDER BY ordinal_position",
                    [table],
                ).fetchall()
                if not c.startswith("_")
            ]
            if not columns:
                continue
            packed = ", ".join(f'"{c}"' for c in columns)
            for day, digest in con.execute(
                f'SELECT CAST("{part}" AS VARCHAR), md5(CAST(ROW({packed}) AS VARCHAR)) '
                f'FROM "{table}"'
            ).fetchall():
                rows.setdefault((table, day), Counter())[digest] += 1
    return rows


def validated_rows(lab: Lab, days: Sequence[date]) -> Rows:
    """Row digests of each partition's committed validated files (the gs:// lake's result)."""
    rows: Rows = {}
    storage = lab.storage
    for day in days:
        found = read_manifest(storage, manifest_key("validate", DATASET, day))
        if found is None or not found[0].files:
            continue
        frame = storage.scan_parquet([f.key for f in found[0].files]).collect()
        hashes = frame.select(pl.exclude("^_.*$")).hash_rows(seed=0).to_list()
        rows[("validated", day.isoformat())] = Counter(str(h) for h in hashes)
    return rows


def compare(reference: Rows, got: Rows, figures: Figures) -> None:
    """Rows lost, duplicated and the dates differing, from the digests."""
    differing = set()
    for key in set(reference) | set(got):
        want, have = reference.get(key, Counter()), got.get(key, Counter())
        lost, extra = sum((want - have).values()), sum((have - want).values())
        figures.rows_lost += lost
        figures.rows_duplicated += extra
        if lost or extra:
            differing.add(key[1])
    figures.dates_differing = len(differing)


def _manifests(lab: Lab, day: date, steps: Sequence[str], figures: Figures) -> dict[str, Manifest]:
    found = {}
    for step in steps:
        key = manifest_key(step, DATASET, day)
        try:
            hit = read_manifest(lab.storage, key)
        except DataError as err:
            figures.violations.append(f"{day} {step}: {err.message}")
            continue
        if hit is None:
            figures.violations.append(f"{day} {step}: no manifest")
            continue
        problems = damage(lab.storage, hit[0])
        if problems:
            figures.violations.append(f"{day} {step}: {'; '.join(problems)}")
        found[step] = hit[0]
    return found


def check_lake(lab: Lab, days: Sequence[date], figures: Figures) -> None:
    """Manifests, accounting and status of every partition."""
    steps = STEPS[:3] if lab.gcs else STEPS
    for day in days:
        m = _manifests(lab, day, steps, figures)
        if len(m) != len(steps):
            continue
        quarantined = sum(m[s].rows_quarantined for s in ("extract", "transform", "validate"))
        landed, out = m["extract"].rows_in, m[steps[-1]].rows_out
        if landed != out + quarantined:
            figures.violations.append(
                f"{day}: landed {landed} != {out} {steps[-1]}ed + {quarantined} quarantined"
            )
    for row in status_grid(lab.storage, datasets.get(DATASET), days):
        bad = [c for c in row.cells if c.step in steps and c.state is not State.COMMITTED]
        for cell in bad:
            figures.violations.append(f"{row.day} {cell.step}: status {cell.state.value}")
