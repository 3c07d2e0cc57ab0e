"""Landing files of one partition: CSV, JSON Lines, a JSON array or Parquet, each optionally
gzip-compressed, one file or several (a glob or a list of paths under `landing/`).

Plain CSV and Parquet are scanned by polars directly (streaming). Compressed files and JSON are
decoded in Python in bounded batches and spooled to the lake as text Parquet parts, so memory
stays flat whatever the file's size; extract then types the text like CSV.
"""

from __future__ import annotations

import contextlib
import fnmatch
import gzip
import io
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import IO, Any, Literal

import polars as pl

from baton.errors import DataError
from baton.errors import first_line as error_line
from baton.lake import LANDING
from baton.manifest import InputRef
from baton.parquet import ROW_GROUP_ROWS
from baton.sources.landing import Landing, LandingPart, ReadContext, Spool, open_object
from baton.sources.records import csv_batches, json_array_batches, ndjson_batches
from baton.storage import Storage

Format = Literal["csv", "ndjson", "json", "parquet"]
Compression = Literal["infer", "gzip", "none"]
EXTENSIONS = {"csv": "csv", "ndjson": "ndjson", "json": "json", "parquet": "parquet"}
_GLOB = set("*?[")
SLICE_ROWS = 100_000
"""Rows of a landing Parquet file decoded at a time when it is re-spooled (see `_parquet`)."""


@dataclass(frozen=True)
class FileSource:
    """Landing files under `landing/`, one or several per partition.

    `path` is a pattern (or a tuple of them) relative to `landing/`, with `{dataset}` and
    `{date}` (YYYY-MM-DD) filled in; `*`, `?` and `[...]` glob within the lake. The format is
    the file's content; `compression="infer"` takes gzip for names ending in `.gz`.
    """

    schema: Mapping[str, pl.DataType]
    format: Format = "csv"
    path: str | tuple[str, ...] = ""
    """Default `{dataset}/{date}.<format extension>`."""
    compression: Compression = "infer"
    separator: str = ","
    null_values: tuple[str, ...] = ("", "NA")
    datetime_formats: Mapping[str, str] = field(default_factory=dict)
    allow_empty: bool = False

    def __post_init__(self) -> None:
        if self.format not in EXTENSIONS:
            raise ValueError(f"file source format {self.format!r}: use one of {sorted(EXTENSIONS)}")
        if self.format == "parquet" and self.compression == "gzip":
            raise ValueError(
                "a Parquet landing file cannot be gzip-compressed (Parquet needs random access "
                "and compresses its own pages): land the .parquet file as is"
            )

    @property
    def patterns(self) -> tuple[str, ...]:
        """The path patterns relative to `landing/`."""
        if not self.path:
            return (f"{{dataset}}/{{date}}.{EXTENSIONS[self.format]}",)
        return (self.path,) if isinstance(self.path, str) else tuple(self.path)

    def landing_keys(self, dataset: str, day: date) -> list[str]:
        """The partition's landing key patterns (globs unexpanded)."""
        return [
            f"{LANDING}/{p.format(dataset=dataset, date=day.isoformat())}" for p in self.patterns
        ]

    def inputs(self, storage: Storage, dataset: str, day: date) -> list[InputRef]:
        """Every landing object of the partition with its digest; a pattern that matches
        nothing fails with exit 4."""
        refs: list[InputRef] = []
        for pattern in self.landing_keys(dataset, day):
            keys = _expand(storage, pattern)
            if not keys:
                raise DataError(
                    f"no landing file for {dataset} {day}: {storage.uri(pattern)} "
                    f"{'matches nothing' if _GLOB & set(pattern) else 'does not exist'}; land it, "
                    "or check the date",
                    reason="missing_input",
                )
            for key in keys:
                info = storage.stat(key)
                if info is None:
                    raise DataError(
                        f"landing file {storage.uri(key)} vanished while planning",
                        reason="missing_input",
                    )
                refs.append(InputRef(key=key, digest=info.digest))
        return refs

    def gzipped(self, key: str) -> bool:
        """Whether `key` is read through gzip."""
        if self.compression == "infer":
            return key.endswith(".gz")
        return self.compression == "gzip"

    def open(self, ctx: ReadContext, inputs: list[InputRef]) -> Landing:
        """The partition's landing files, as lazily read text (or typed Parquet) parts."""
        keys = [i.key for i in inputs]
        describe = ", ".join(ctx.storage.uri(k) for k in keys)
        if self.format == "parquet":
            parts, spooled = [], []
            try:
                for n, key in enumerate(keys):
                    part, written = self._parquet(ctx, key, f"{ctx.spool_prefix}/file-{n:04d}")
                    parts.append(part)
                    spooled += written
            except BaseException:
                _delete(ctx.storage, spooled)
                raise
            return Landing(parts, typed=True, spooled=spooled, describe=describe)
        if self.format == "csv" and not any(self.gzipped(k) for k in keys):
            return Landing([self._csv(ctx.storage, k) for k in keys], describe=describe)
        columns = list(self.schema)
        parts, spooled = [], []
        for n, key in enumerate(keys):
            spool = Spool(ctx.storage, f"{ctx.spool_prefix}/file-{n:04d}", columns)
            try:
                found = self._decode(ctx.storage, key, spool)
            except BaseException:
                spool.discard()
                raise
            frame = spool.frame()  # flushes the last batch: its keys are complete after this
            spooled += spool.keys
            parts.append(LandingPart(ctx.storage.uri(key), frame, found))
        return Landing(parts, spooled=spooled, describe=describe)

    def parse_options(self, column: str) -> dict[str, Any]:
        fmt = self.datetime_formats.get(column)
        return {"format": fmt} if fmt else {}

    def _csv(self, storage: Storage, key: str) -> LandingPart:
        uri = storage.uri(key)
        if storage.size(key) == 0:
            raise DataError(
                f"landing file {uri} is empty (not even a header)", reason="empty_input"
            )
        try:
            frame = storage.scan_csv(
                key,
                separator=self.separator,
                infer_schema=False,  # every column is text; extract parses and quarantines
                null_values=list(self.null_values),
                encoding="utf8",
                raise_if_empty=True,
            )
            found = list(frame.collect_schema())
        except pl.exceptions.PolarsError as err:
            raise DataError(
                f"landing file {uri} cannot be read as CSV: {first_line(err)}",
                reason="unreadable_input",
            ) from err
        return LandingPart(uri, frame, found)

    def _parquet(self, ctx: ReadContext, key: str, prefix: str) -> tuple[LandingPart, list[str]]:
        """One landing Parquet file, its schema checked; a file of more than SLICE_ROWS rows
        is re-spooled in slices (typed, small row groups), since polars' reader holds more of a
        big file's row groups as the file grows (+36% peak at twice the rows, whatever the
        writer's row-group size) while it reads small-grouped parts flat."""
        storage = ctx.storage
        uri = storage.uri(key)
        try:
            frame = storage.scan_parquet([key])
            found = frame.collect_schema()
            rows = int(frame.select(pl.len()).collect().item())  # from the footer
        except pl.exceptions.PolarsError as err:
            raise DataError(
                f"landing file {uri} cannot be read as Parquet: {first_line(err)}",
                reason="unreadable_input",
            ) from err
        wrong = [
            f"column {c} is {found[c]}, declared {t}"
            for c, t in self.schema.items()
            if c in found and found[c] != t
        ]
        if wrong:
            raise DataError(
                f"landing file {uri}: schema other than declared: {'; '.join(wrong)}; write the "
                "declared types upstream, or change the dataset's raw schema",
                reason="bad_schema",
            )
        if rows <= SLICE_ROWS:
            return LandingPart(uri, frame, list(found)), []
        written: list[str] = []
        try:
            for n, start in enumerate(range(0, rows, SLICE_ROWS)):
                part = f"{prefix}/part-{n:05d}.parquet"
                buffer = io.BytesIO()
                storage.scan_parquet([key]).slice(start, SLICE_ROWS).collect().write_parquet(
                    buffer, compression="lz4", row_group_size=ROW_GROUP_ROWS, statistics=False
                )
                storage.write_bytes(part, buffer.getvalue())
                written.append(part)
        except pl.exceptions.PolarsError as err:
            _delete(storage, written)
            raise DataError(
                f"landing file {uri} cannot be read as Parquet: {first_line(err)}",
                reason="unreadable_input",
            ) from err
        except BaseException:
            _delete(storage, written)
            raise
        return LandingPart(uri, storage.scan_parquet(written), list(found)), written

    def _decode(self, storage: Storage, key: str, spool: Spool) -> list[str] | None:
        """Decode one file into `spool`; the CSV header found (None for JSON)."""
        uri = storage.uri(key)
        found: list[str] | None = None
        with open_object(storage, key) as raw:
            stream: IO[bytes] = gzip.GzipFile(fileobj=raw) if self.gzipped(key) else raw
            try:
                for header, batch in self._batches(stream, uri):
                    if header is not None and found is None:
                        found = header
                        if sorted(header) != sorted(self.schema):
                            return header  # extract names what is wrong with the header
                    spool.add(batch)
            except (EOFError, gzip.BadGzipFile, zlib.error) as err:
                raise DataError(
                    f"landing file {uri} is not a complete gzip stream ({first_line(err)}): "
                    "it is truncated or not gzip; land it again whole",
                    reason="unreadable_input",
                ) from err
            except pl.exceptions.PolarsError as err:
                raise DataError(
                    f"landing file {uri} cannot be parsed: {first_line(err)}",
                    reason="unreadable_input",
                ) from err
        if self.format == "csv" and found is None:
            raise DataError(
                f"landing file {uri} is empty (not even a header)", reason="empty_input"
            )
        return found

    def _batches(
        self, stream: IO[bytes], uri: str
    ) -> Iterator[tuple[list[str] | None, pl.DataFrame]]:
        columns = list(self.schema)
        if self.format == "ndjson":
            for batch in ndjson_batches(stream, columns):
                yield None, batch
        elif self.format == "json":
            for batch in json_array_batches(stream, columns, uri):
                yield None, batch
        else:
            yield from csv_batches(stream, separator=self.separator, null_values=self.null_values)


def _delete(storage: Storage, keys: list[str]) -> None:
    for key in keys:
        with contextlib.suppress(Exception):
            storage.delete(key)


def _expand(storage: Storage, pattern: str) -> list[str]:
    if not _GLOB & set(pattern):
        return [pattern] if storage.size(pattern) is not None else []
    fixed = pattern.split("/")
    prefix = "/".join(p for p in _fixed_head(fixed))
    return sorted(k for k in storage.list(prefix) if fnmatch.fnmatchcase(k, pattern))


def _fixed_head(parts: list[str]) -> Iterator[str]:
    for part in parts[:-1]:
        if _GLOB & set(part):
            return
        yield part


def first_line(err: BaseException) -> str:
    """A reader's own diagnosis (its first line: later ones may quote the data), with what
    to do about it where we know."""
    line = error_line(err)
    if "utf-8" in line.lower() or "utf8" in line.lower():
        return (
            f"{line}; the file must be UTF-8: re-export it as UTF-8 (or convert it, e.g. with "
            "iconv) and land it again"
        )
    return line
