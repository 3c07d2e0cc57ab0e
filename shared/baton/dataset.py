"""What a dataset is: its source, transform, key, contract and destination, in one definition.

The four step containers are generic; a dataset plugs in by registering one `Dataset`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal, Protocol

import polars as pl

from baton.contract import Column, Contract, PartitionContext
from baton.lake import LANDING, check_name
from baton.manifest import InputRef
from baton.sources.files import FileSource
from baton.sources.landing import Landing, ReadContext
from baton.storage import Storage

Transform = Callable[[pl.LazyFrame, PartitionContext], pl.LazyFrame]


class Source(Protocol):
    """How extract finds and reads one partition's data: landing files (`FileSource`,
    `CsvSource`), an HTTP API (`HttpSource`) or a SQL database (`SqlSource`); see
    docs/datasets.md. A source that must ask the live system what a partition holds (an
    incremental database read) may also define `snapshot(ctx: ReadContext) -> list[InputRef]`,
    which extract's plan then calls instead of `inputs`."""

    schema: Mapping[str, pl.DataType]
    """The raw schema: every source column, in order, with the type it is parsed to."""
    allow_empty: bool
    """Whether a partition with no rows is legitimate (otherwise it fails with exit 4)."""

    def landing_keys(self, dataset: str, day: date) -> list[str]:
        """The landing object patterns of partition `day` (none for a source that lands
        nothing, e.g. an API); event triggers watch their prefixes."""
        ...

    def inputs(self, storage: Storage, dataset: str, day: date) -> list[InputRef]:
        """What partition `day` reads, with digests: unchanged inputs skip a committed
        partition. Fails early (exit 4) when the partition's data is missing."""
        ...

    def open(self, ctx: ReadContext, inputs: list[InputRef]) -> Landing:
        """The partition's rows as text columns (extract types them), or typed ones."""
        ...

    def parse_options(self, column: str) -> dict[str, Any]:
        """Extra options for parsing `column` from text (e.g. a datetime format)."""
        ...


@dataclass(frozen=True)
class CsvSource:
    """One CSV file per partition, at `landing/<dataset>/<YYYY-MM-DD>.csv` by default."""

    schema: Mapping[str, pl.DataType]
    path: str = "{dataset}/{date}.csv"
    separator: str = ","
    null_values: tuple[str, ...] = ("", "NA")
    datetime_formats: Mapping[str, str] = field(default_factory=dict)
    allow_empty: bool = False

    def landing_keys(self, dataset: str, day: date) -> list[str]:
        return [f"{LANDING}/{self.path.format(dataset=dataset, date=day.isoformat())}"]

    def read(self, storage: Storage, key: str) -> pl.LazyFrame:
        return storage.scan_csv(
            key,
            separator=self.separator,
            infer_schema=False,  # every column is text; extract parses and quarantines
            null_values=list(self.null_values),
            encoding="utf8",
            raise_if_empty=True,
        )

    def parse_options(self, column: str) -> dict[str, Any]:
        fmt = self.datetime_formats.get(column)
        return {"format": fmt} if fmt else {}

    def as_files(self) -> FileSource:
        """The same source as a general `FileSource` (format csv)."""
        return FileSource(
            schema=self.schema,
            format="csv",
            path=self.path,
            compression="infer",
            separator=self.separator,
            null_values=self.null_values,
            datetime_formats=self.datetime_formats,
            allow_empty=self.allow_empty,
        )

    def inputs(self, storage: Storage, dataset: str, day: date) -> list[InputRef]:
        return self.as_files().inputs(storage, dataset, day)

    def open(self, ctx: ReadContext, inputs: list[InputRef]) -> Landing:
        return self.as_files().open(ctx, inputs)


@dataclass(frozen=True)
class Reference:
    """A small reference table read whole (e.g. airports), with rows that patch known gaps."""

    path: str
    schema: Mapping[str, pl.DataType]
    supplement: tuple[Mapping[str, Any], ...] = ()
    """Rows added to the upstream table on purpose; each should say why in the definition."""
    null_values: tuple[str, ...] = ("", "NA")


@dataclass(frozen=True)
class Destination:
    """Where validated rows land: a warehouse table replaced one partition at a time."""

    table: str
    partition_column: str
    clustering: tuple[str, ...] = ()
    write_mode: Literal["replace_partition"] = "replace_partition"


@dataclass(frozen=True)
class Mart:
    """A small derived table rebuilt per partition from the validated rows at load time."""

    destination: Destination
    columns: tuple[Column, ...]
    build: Callable[[pl.LazyFrame], pl.LazyFrame]


@dataclass(frozen=True)
class Dataset:
    """One dataset: everything the generic steps need to carry it from landing to warehouse."""

    name: str
    description: str
    source: Source
    transform: Transform
    key: tuple[str, ...]
    contract: Contract
    destination: Destination
    references: Mapping[str, Reference] = field(default_factory=dict)
    marts: tuple[Mart, ...] = ()
    quarantine_tolerance: float = 0.01
    """Largest share of a partition's rows a step may quarantine before it fails (exit 4)."""

    def __post_init__(self) -> None:
        check_name("dataset", self.name)
        names = set(self.contract.names)
        _require_columns(self.name, "key", self.key, names)
        _check_destination(self.name, self.destination, self.contract.columns)
        for mart in self.marts:
            _check_destination(self.name, mart.destination, mart.columns)
        if not 0.0 <= self.quarantine_tolerance <= 1.0:
            raise ValueError(f"dataset {self.name}: quarantine_tolerance must be within 0..1")


def _require_columns(dataset: str, what: str, wanted: Sequence[str], names: set[str]) -> None:
    missing = [c for c in wanted if c not in names]
    if missing:
        raise ValueError(f"dataset {dataset}: {what} names unknown column(s) {missing}")


def _check_destination(dataset: str, dest: Destination, columns: Sequence[Column]) -> None:
    check_name("table", dest.table)
    by_name = {c.name: c for c in columns}
    _require_columns(
        dataset, f"table {dest.table}", [dest.partition_column, *dest.clustering], set(by_name)
    )
    part = by_name[dest.partition_column]
    if part.dtype != pl.Date() or part.nullable:
        raise ValueError(
            f"dataset {dataset}: partition column {part.name} must be a non-nullable Date"
        )
    if len(dest.clustering) > 4:
        raise ValueError(f"dataset {dataset}: BigQuery clusters on at most 4 columns")
