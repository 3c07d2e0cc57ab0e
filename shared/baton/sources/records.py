"""Decoders from a byte stream to batches of text rows: JSON Lines, a JSON array, CSV chunks.

Each yields polars frames of at most `BATCH_ROWS` rows with every value as text (numbers and
booleans as JSON writes them, nested values as JSON), so extract types them like CSV. A JSON
Lines record that does not decode becomes a row carrying only why (`_malformed`); a broken JSON
array cannot be resynchronised, so it fails the file, naming where.
"""

from __future__ import annotations

import codecs
import io
import json
from collections.abc import Iterable, Iterator
from typing import IO, Any

import polars as pl

from baton.errors import DataError
from baton.sources.landing import BATCH_ROWS, MALFORMED, text_schema

CHUNK_BYTES = 1 << 20
NDJSON_CHUNK_BYTES = 8 << 20
"""Bytes of JSON Lines decoded per polars call: one call per line-batch of 50k rows cost ~3x
the whole-file decode on a 650k-row day; 8 MiB chunks keep memory bounded and the speed."""


def records_frame(records: list[dict[str, Any]], columns: list[str]) -> pl.DataFrame:
    """Decoded JSON objects -> text columns (fields not in `columns` are ignored)."""
    schema = text_schema(columns, malformed=False)
    try:
        return pl.from_dicts(records, schema=schema, strict=False)
    except pl.exceptions.PolarsError:  # nested values: carry them as JSON text
        flat = [
            {c: json.dumps(v) if isinstance(v, (dict, list)) else v for c, v in r.items()}
            for r in records
        ]
        return pl.from_dicts(flat, schema=schema, strict=False)


def _lines_frame(chunk: bytes, first: int, columns: list[str]) -> pl.DataFrame:
    """One chunk of whole JSON Lines; its first line is number `first` (for the reasons)."""
    try:
        return pl.read_ndjson(io.BytesIO(chunk), schema=text_schema(columns, False))
    except pl.exceptions.PolarsError:
        pass  # some line is broken: decode one by one to keep the others
    good: list[dict[str, Any]] = []
    bad: list[str] = []
    for number, line in enumerate(chunk.splitlines(), first):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            bad.append(f"line {number}: {_why(err)}")
            continue
        if isinstance(value, dict):
            good.append(value)
        else:
            bad.append(f"line {number}: a JSON {type(value).__name__}, not an object")
    frames = [records_frame(good, columns)] if good else []
    if bad:
        frames.append(pl.DataFrame({MALFORMED: bad}, schema={MALFORMED: pl.String()}))
    return pl.concat(frames, how="diagonal_relaxed") if frames else pl.DataFrame()


def _why(err: Exception) -> str:
    """A decoder's diagnosis without the text it choked on."""
    if isinstance(err, json.JSONDecodeError):
        return f"{err.msg} at column {err.colno}"
    return "not valid UTF-8"


def ndjson_batches(stream: IO[bytes], columns: list[str]) -> Iterator[pl.DataFrame]:
    """JSON Lines (blank lines skipped) in chunks of whole lines (`NDJSON_CHUNK_BYTES` each,
    ~25k flights rows), each decoded by polars at once; only a chunk with a broken line is
    decoded line by line."""
    first = 1
    while True:
        chunk = stream.read(NDJSON_CHUNK_BYTES)
        if not chunk:
            return
        if not chunk.endswith(b"\n"):
            chunk += stream.readline()  # finish the line the chunk cut
        frame = _lines_frame(chunk, first, columns)
        first += chunk.count(b"\n")
        if frame.height:
            yield frame


class _Text:
    """A UTF-8 text buffer filled from a byte stream on demand (for the array decoder)."""

    def __init__(self, stream: IO[bytes], uri: str) -> None:
        self.stream, self.uri = stream, uri
        self.decoder = codecs.getincrementaldecoder("utf-8")()
        self.buf, self.pos, self.eof, self.consumed = "", 0, False, 0

    def more(self) -> bool:
        """Read another chunk; False at the end of the stream."""
        if self.eof:
            return False
        chunk = self.stream.read(CHUNK_BYTES)
        try:
            text = self.decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError as err:
            raise DataError(
                f"landing file {self.uri} is not valid UTF-8 near character "
                f"{self.consumed + len(self.buf)}; re-export it as UTF-8",
                reason="unreadable_input",
            ) from err
        self.consumed += self.pos
        self.buf, self.pos = self.buf[self.pos :] + text, 0
        self.eof = not chunk
        return True

    def peek(self) -> str:
        """The next non-blank character ('' at the end), without consuming it."""
        while True:
            while self.pos < len(self.buf) and self.buf[self.pos] in " \t\r\n\ufeff":
                self.pos += 1
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self.more():
                return ""

    def where(self) -> int:
        return self.consumed + self.pos


_TRUNCATED = object()


def _next_item(text: _Text, decoder: json.JSONDecoder) -> Any:
    """Decode the element at the cursor, reading more as needed; `_TRUNCATED` when the file
    ends inside it."""
    while True:
        try:
            value, end = decoder.raw_decode(text.buf, text.pos)
        except json.JSONDecodeError as err:
            if text.more():
                continue  # the element runs past what is buffered
            if "]" not in text.buf[text.pos :]:
                return _TRUNCATED
            raise DataError(
                f"landing file {text.uri}: broken JSON at character {text.where()}: "
                f"{err.msg}; fix the file upstream and land it again",
                reason="unreadable_input",
            ) from err
        text.pos = end
        return value


def _array_items(text: _Text) -> Iterator[Any]:
    decoder = json.JSONDecoder()
    if text.peek() != "[":
        raise DataError(
            f"landing file {text.uri} is not a JSON array (it must start with '[')",
            reason="unreadable_input",
        )
    text.pos += 1
    following = text.peek()
    while following not in ("]", ""):
        value = _next_item(text, decoder)
        if value is _TRUNCATED:
            break
        yield value
        following = text.peek()
        if following == ",":
            text.pos += 1
            following = text.peek() or ","  # a trailing comma at the end: truncated
        elif following not in ("]", ""):
            raise DataError(
                f"landing file {text.uri}: expected ',' or ']' at character {text.where()}",
                reason="unreadable_input",
            )
    if following == "]":
        return
    raise DataError(
        f"landing file {text.uri}: the JSON array never closes (no ']' before the end of the "
        "file): the file is truncated; land it again whole",
        reason="unreadable_input",
    )


def json_array_batches(stream: IO[bytes], columns: list[str], uri: str) -> Iterator[pl.DataFrame]:
    """A JSON array of objects, decoded incrementally, in batches of text rows."""
    batch: list[dict[str, Any]] = []
    for index, item in enumerate(_array_items(_Text(stream, uri))):
        if not isinstance(item, dict):
            raise DataError(
                f"landing file {uri}: element {index} is a JSON {type(item).__name__}, "
                "not an object",
                reason="unreadable_input",
            )
        batch.append(item)
        if len(batch) >= BATCH_ROWS:
            yield records_frame(batch, columns)
            batch = []
    if batch:
        yield records_frame(batch, columns)


def csv_batches(
    stream: IO[bytes], *, separator: str, null_values: Iterable[str]
) -> Iterator[tuple[list[str], pl.DataFrame]]:
    """A CSV byte stream (e.g. decompressed on the fly) in chunks of whole lines, each parsed
    as text with the file's header; yields (header, rows). A quoted value spanning lines must
    not straddle a chunk boundary: compressed CSV with embedded newlines is not supported."""
    header = stream.readline()
    if not header:
        return
    columns = next(
        iter(
            pl.read_csv(
                io.BytesIO(header), separator=separator, has_header=False, infer_schema=False
            ).rows()
        ),
        (),
    )
    names = [str(c).lstrip("\ufeff") for c in columns]
    while True:
        chunk = stream.read(CHUNK_BYTES * 4)
        if not chunk:
            return
        chunk += stream.readline()  # finish the line the chunk cut
        rows = pl.read_csv(
            io.BytesIO(chunk),
            has_header=False,
            new_columns=names,
            separator=separator,
            infer_schema=False,
            null_values=list(null_values),
            encoding="utf8",
        )
        yield names, rows
