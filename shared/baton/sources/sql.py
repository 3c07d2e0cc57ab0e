"""A SQL database source (PostgreSQL): one partition read by a parameterised query, either
whole (the partition's date window) or incrementally, the rows changed since the partition's
committed high-water mark merged into the rows it committed.

The driver is psycopg 3 streaming `COPY (<query>) TO STDOUT (FORMAT csv)`: chosen by measurement
(docs/datasets.md: the least CPU and memory of psycopg, ADBC and connectorx on a 650k-row day,
and no pyarrow in the extract image). The CSV bytes are spooled to the lake as they arrive, in
parts of whole rows, unparsed; extract scans them as CSV and types them like any text
source, after the source has checked the query's column types against the declared schema.
(Parsing each chunk here and spooling it as Parquet cost a second decode and encode: ~1 CPU s
per 650k rows.) An integer column the database holds in a type that fits the declared one
(`_EXACT`) is scanned as that integer type at once, since its text cannot fail to parse: read
as text and then cast, the 15 integer columns of a 650k-row flights day cost ~0.4 CPU s and
~0.2 s of wall more (docs/datasets.md, "Speed and memory"); every other column is read as text
and parsed by extract, an unparsable value quarantining its row.

The password comes from a `Secret` (Secret Manager, or locally an environment variable or file)
and never reaches a message: DSNs are shown as `postgresql://user@host:port/db`, and any error
text is scrubbed of the value.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import queue
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import polars as pl
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from baton import log
from baton.errors import BatonError, DataError, TransientError, UnavailableError, first_line
from baton.manifest import InputRef, Manifest
from baton.sources.landing import Base, Landing, LandingPart, ReadContext, text_schema
from baton.sources.secret import Secret, SecretValue
from baton.storage import Storage

CHUNK_BYTES = 8 * 1024 * 1024
"""COPY output gathered into one spool part: whole rows, ~80k flights (bounded memory)."""

# The PostgreSQL types each declared polars type may be read from; anything else is "a column
# whose type changed upstream" (exit 4). Names are pg_type.typname.
_READABLE: dict[type[pl.DataType], frozenset[str]] = {
    pl.Int8: frozenset({"int2"}),
    pl.Int16: frozenset({"int2"}),
    pl.Int32: frozenset({"int2", "int4"}),
    pl.Int64: frozenset({"int2", "int4", "int8"}),
    pl.Float32: frozenset({"float4"}),
    pl.Float64: frozenset({"float4", "float8", "numeric", "int2", "int4"}),
    pl.String: frozenset({"text", "varchar", "bpchar", "name", "uuid", "citext"}),
    pl.Boolean: frozenset({"bool"}),
    pl.Date: frozenset({"date"}),
}
_KEY_TYPES = (pl.Int8, pl.Int16, pl.Int32, pl.Int64, pl.String)

# The PostgreSQL types whose every value's text parses as the declared polars integer type (a
# narrower or equal range): such a column is read from COPY's CSV as that type directly. int2
# into Int8 is not among them (it may overflow: read as text, and quarantined if it does).
_EXACT: dict[type[pl.DataType], frozenset[str]] = {
    pl.Int16: frozenset({"int2"}),
    pl.Int32: frozenset({"int2", "int4"}),
    pl.Int64: frozenset({"int2", "int4", "int8"}),
}


@dataclass(frozen=True)
class Watermark:
    """Incremental reads: `column` (a timestamp that upstream sets on every insert and update)
    is the high-water mark; `key` names the columns identifying a row, so a changed row replaces
    the one committed before."""

    column: str
    key: tuple[str, ...]


@dataclass(frozen=True)
class SqlRetry:
    """In-process retries of connecting (the database restarting, a failover)."""

    attempts: int = 4
    initial_wait_s: float = 1.0
    max_wait_s: float = 15.0


@dataclass(frozen=True)
class SqlSource:
    """One partition from a PostgreSQL query.

    `query` is one SELECT whose result has every column of `schema`; it may use `%(date)s`,
    `%(start)s`, `%(end)s` (the window [date, date + 1 day) as dates) and `%(year)s`,
    `%(month)s`, `%(day)s` (integers); a literal `%` is written `%%`. `dsn` is a libpq URI
    without the password (`postgresql://user@host:5432/db`); `dsn_env` names an environment
    variable that, when set, replaces it (another host, a local server); `password`, when set,
    is sent as the password.
    """

    schema: Mapping[str, pl.DataType]
    query: str
    dsn: str
    dsn_env: str | None = None
    password: Secret | None = None
    watermark: Watermark | None = None
    connect_timeout_s: int = 10
    statement_timeout_s: int = 900
    retry: SqlRetry = field(default_factory=SqlRetry)
    allow_empty: bool = False

    def __post_init__(self) -> None:
        if not self.dsn.startswith(("postgresql://", "postgres://")):
            raise ValueError(f"SQL source dsn {describe_dsn(self.dsn)!r}: use postgresql://...")
        if urlsplit(self.dsn).password:
            raise ValueError(
                "SQL source dsn: keep the password out of the definition; name a Secret in "
                "`password` instead"
            )
        for column, dtype in self.schema.items():
            if not _readable(dtype):
                raise ValueError(f"SQL source column {column}: type {dtype} is not supported")
        if self.watermark is not None:
            self._check_watermark(self.watermark)

    def _check_watermark(self, mark: Watermark) -> None:
        dtype = self.schema.get(mark.column)
        if not isinstance(dtype, pl.Datetime):
            raise ValueError(f"SQL source watermark {mark.column}: must be a Datetime column")
        if not mark.key:
            raise ValueError("SQL source watermark: name the key columns of a row")
        for column in mark.key:
            if not isinstance(self.schema.get(column), _KEY_TYPES):
                raise ValueError(f"SQL source watermark key {column}: an integer or text column")

    # -- the Source protocol -----------------------------------------------------------------

    def landing_keys(self, dataset: str, day: date) -> list[str]:
        return []  # nothing is landed: the database is read directly

    def inputs(self, storage: Storage, dataset: str, day: date) -> list[InputRef]:
        """Without the live database: the query's fingerprint (a window query skips a committed
        partition unless forced, like an API; an incremental one asks the database, see
        `snapshot`)."""
        return [InputRef(key=f"{describe_dsn(self.dsn)}#{dataset}#{day}", digest=self._digest())]

    def snapshot(self, ctx: ReadContext) -> list[InputRef]:
        """What partition `ctx.day` reads now: for an incremental source, the window's row count
        and high-water mark, read from the database (unchanged upstream: the partition skips;
        the mark read here bounds what `open` reads, so a commit's mark is exactly this one)."""
        if self.watermark is None:
            return self.inputs(ctx.storage, ctx.dataset, ctx.day)
        with self._session(ctx.environ) as db:
            rows, mark = db.stats(self, ctx.day)
        state = json.dumps({"rows": rows, "to": mark}, sort_keys=True)
        key = f"{describe_dsn(db.dsn)}#{ctx.dataset}#{ctx.day}"
        return [InputRef(key=key, digest=f"{self._digest()}|watermark:{state}")]

    def parse_options(self, column: str) -> dict[str, Any]:
        dtype = self.schema[column]
        if isinstance(dtype, pl.Datetime):
            # PostgreSQL's ISO output (the session runs in UTC): 2013-01-01 05:00:00[.ffffff]+00
            zone = "%#z" if dtype.time_zone else ""
            return {"format": f"%Y-%m-%d %H:%M:%S%.f{zone}"}
        return {}

    def open(self, ctx: ReadContext, inputs: list[InputRef]) -> Landing:
        """Stream the partition's rows (all, or those changed since the committed mark)."""
        plan = _Plan.of(self, ctx, inputs)
        spool = CopySpool(
            ctx.storage, f"{ctx.spool_prefix}/sql", text_schema(list(self.schema), malformed=False)
        )
        try:
            with self._session(ctx.environ) as db:
                spool.types = read_types(self.schema, db.check_columns(self, ctx.day))
                fetched = db.copy(self, ctx.day, plan, spool)
                if plan.base is not None and self._merged_rows(plan, spool) != plan.rows:
                    # Rows were deleted upstream (changes cannot show it): read it whole again.
                    spool.discard()
                    plan = _Plan(mark=plan.mark, rows=plan.rows)
                    spool = CopySpool(ctx.storage, f"{ctx.spool_prefix}/sql-whole", spool.types)
                    fetched = db.copy(self, ctx.day, plan, spool)
        except BaseException:
            spool.discard()
            raise
        where = describe_dsn(db.dsn)
        frame = spool.frame()
        log.get().info("rows read from the database", source=where, rows=fetched, mode=plan.mode)
        return Landing(
            [LandingPart(where, frame)],
            spooled=spool.keys,
            expected_rows=fetched,
            describe=where,
            base=plan.base,
            extra={"watermark": plan.record(fetched)} if self.watermark else {},
        )

    # -- helpers -----------------------------------------------------------------------------

    def _merged_rows(self, plan: _Plan, spool: CopySpool) -> int:
        """Rows the partition would hold once the changes are merged into the commit."""
        assert plan.base is not None
        return plan.base.rows_after(spool.frame())

    def _digest(self) -> str:
        what = {
            "query": self.query,
            "schema": {c: str(t) for c, t in self.schema.items()},
            "watermark": repr(self.watermark),
        }
        return "sql:" + hashlib.sha256(json.dumps(what, sort_keys=True).encode()).hexdigest()

    def _session(self, environ: Mapping[str, str]) -> Session:
        dsn = (environ.get(self.dsn_env, "") if self.dsn_env else "") or self.dsn
        secret = self.password.resolve(environ) if self.password else None
        return Session(dsn, secret, self)

    def params(self, day: date) -> dict[str, Any]:
        """The query parameters of partition `day`."""
        return {
            "date": day,
            "start": day,
            "end": day + timedelta(days=1),
            "year": day.year,
            "month": day.month,
            "day": day.day,
        }


def _readable(dtype: pl.DataType) -> frozenset[str] | None:
    if isinstance(dtype, pl.Datetime):
        return frozenset({"timestamptz"} if dtype.time_zone else {"timestamp"})
    return _READABLE.get(type(dtype))


def read_types(
    schema: Mapping[str, pl.DataType], found: Mapping[str, str]
) -> dict[str, pl.DataType]:
    """The type each column of COPY's CSV is scanned as: the declared integer type where the
    database's type (`found`, pg_type names) always fits it, else text (parsed by extract)."""
    return {
        column: dtype if found.get(column) in _EXACT.get(type(dtype), ()) else pl.String()
        for column, dtype in schema.items()
    }


def describe_dsn(dsn: str) -> str:
    """A DSN for messages: scheme, user, host, port and database, never the password or
    options."""
    try:
        parts = urlsplit(dsn)
        host = parts.hostname or "localhost"
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "postgresql://<unparsable dsn>"
    user = f"{parts.username}@" if parts.username else ""
    return f"{parts.scheme}://{user}{host}{port}{parts.path}"


@dataclass
class _Plan:
    """What one read fetches: the whole window, or the changes after the committed mark."""

    mark: str | None
    """The high-water mark this read is bounded by (from `snapshot`); None: no watermark."""
    rows: int | None = None
    """The window's rows at the snapshot."""
    since: str | None = None
    base: Base | None = None
    mode: str = "full"

    @classmethod
    def of(cls, source: SqlSource, ctx: ReadContext, inputs: list[InputRef]) -> _Plan:
        if source.watermark is None:
            return cls(mark=None)
        state = json.loads(inputs[0].digest.split("|watermark:", 1)[1])
        plan = cls(mark=state["to"], rows=state["rows"])
        committed = _committed_mark(ctx.committed)
        if committed is None or plan.mark is None:
            return plan
        base = _base(ctx.storage, ctx.committed, source)
        if base is not None:
            plan.since, plan.base, plan.mode = committed, base, "changes"
        return plan

    def record(self, fetched: int) -> dict[str, object]:
        """The manifest's account of the read (a rerun starts from `from`)."""
        return {"from": self.since, "to": self.mark, "mode": self.mode, "fetched": fetched}


def _committed_mark(committed: Manifest | None) -> str | None:
    mark = (committed.extra.get("watermark") if committed else None) or {}
    return mark.get("to") if isinstance(mark, dict) and committed and committed.files else None


def _base(storage: Storage, committed: Manifest | None, source: SqlSource) -> Base | None:
    """The committed rows, to merge the changes into (None when they are not readable, or were
    committed with other columns: then the partition is read whole again)."""
    if committed is None or source.watermark is None:
        return None
    if list(committed.schema) != list(source.schema):
        return None
    keys = [f.key for f in committed.files]
    rejected = [q.key for q in committed.quarantine if q.rows]
    if any(storage.size(k) is None for k in [*keys, *rejected]):
        return None
    key = source.watermark.key
    return Base(
        frame=storage.scan_parquet(keys) if keys else None,
        key=key,
        quarantine=tuple(committed.quarantine),
        rows=committed.rows_out,
        key_types={c: source.schema[c] for c in key},
        rejected=storage.scan_parquet(rejected) if rejected else None,
    )


_DENIED_STATES = {"28P01", "28000", "42501", "3D000"}
_PASSWORD_FAILED = "password authentication failed"


class Session:
    """One connection to the source database (read-only, repeatable-read, in UTC)."""

    def __init__(self, dsn: str, password: SecretValue | None, source: SqlSource) -> None:
        self.dsn, self._password, self.source = dsn, password, source
        self.where = describe_dsn(dsn)
        self.conn: Any = None

    def __enter__(self) -> Session:
        self.conn = _retrying(self._connect, self.source.retry)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.conn is not None:
            self.conn.close()

    def _scrub(self, text: str) -> str:
        secret = self._password.reveal() if self._password else ""
        return text.replace(secret, "****") if secret else text

    def _connect(self) -> Any:
        import psycopg

        options = (
            f"-c TimeZone=UTC -c DateStyle=ISO "
            f"-c statement_timeout={int(self.source.statement_timeout_s * 1000)} "
            "-c default_transaction_read_only=on"
        )
        extra = {"password": self._password.reveal()} if self._password else {}
        try:
            conn = psycopg.connect(
                self.dsn,
                connect_timeout=self.source.connect_timeout_s,
                options=options,
                application_name="baton-extract",
                **extra,
            )
        except psycopg.OperationalError as err:
            raise self._connect_error(err) from None  # the cause may quote the DSN
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        return conn

    def _connect_error(self, err: Exception) -> BatonError:
        text = self._scrub(first_line(err))
        state = getattr(err, "sqlstate", None)
        if state in _DENIED_STATES or _PASSWORD_FAILED in text or "does not exist" in text:
            secret = self.source.password.name if self.source.password else None
            return UnavailableError(
                f"database {self.where} refused the connection: {text}; "
                + (f"check secret {secret} and the user" if secret else "check the user and dsn"),
                reason="source_denied",
            )
        return _UnreachableError(
            f"database {self.where} is unreachable: {text}; the step is worth retrying once it "
            "is up (check the host, port and network path)"
        )

    def fail(self, err: Exception, what: str) -> BatonError:
        """A query error as a baton error naming the database (and never the password)."""
        state = getattr(err, "sqlstate", None) or ""
        text = self._scrub(first_line(err))
        if state.startswith(("08", "40", "53", "57")):  # connection, rollback, resources, cancel
            return TransientError(
                f"database {self.where}: {what} failed ({state}: {text}); retry the step",
                reason="source_transient",
            )
        if state in _DENIED_STATES:
            return UnavailableError(
                f"database {self.where}: {what}: {text}; grant the extract user SELECT on it",
                reason="source_denied",
            )
        return DataError(
            f"database {self.where}: {what} failed ({state or type(err).__name__}: {text}); fix "
            "the dataset's query or the table upstream",
            reason="source_query_failed",
        )

    def _sql(self, text: str) -> Any:
        from psycopg import sql

        return sql.SQL(text)  # type: ignore[arg-type]  # the dataset's own query, not input

    def _inner(self) -> Any:
        from psycopg import sql

        return sql.SQL("({}) AS baton_q").format(self._sql(self.source.query))

    def stats(self, source: SqlSource, day: date) -> tuple[int, str | None]:
        """(rows in the window, max of the watermark column); nulls in it fail (exit 4): such a
        row could never be picked up by "changed since"."""
        import psycopg
        from psycopg import sql

        assert source.watermark is not None
        mark = sql.Identifier(source.watermark.column)
        query = sql.SQL(
            "SELECT count(*), max({m}), count(*) FILTER (WHERE {m} IS NULL) FROM {q}"
        ).format(m=mark, q=self._inner())
        try:
            rows, high, nulls = self.conn.execute(query, source.params(day)).fetchone()
        except psycopg.Error as err:
            raise self.fail(err, "the watermark query") from None
        if nulls:
            raise DataError(
                f"database {self.where}: watermark column {source.watermark.column} is null in "
                f"{nulls} of {rows} rows for {day}; every row needs it (set it on insert and "
                "update upstream), or declare the source without a watermark",
                reason="watermark_null",
            )
        return int(rows), high.isoformat() if high is not None else None

    def check_columns(self, source: SqlSource, day: date) -> dict[str, str]:
        """The query's result columns against the declared schema (exit 4 naming the column);
        each column's type in the database (pg_type name)."""
        import psycopg
        from psycopg import sql

        query = sql.SQL("SELECT * FROM {q} LIMIT 0").format(q=self._inner())
        try:
            cursor = self.conn.execute(query, source.params(day))
        except psycopg.Error as err:
            raise self.fail(err, "the query") from None
        types = self.conn.adapters.types
        found = {}
        for column in cursor.description or []:
            info = types.get(column.type_code)
            found[column.name] = info.name if info is not None else f"oid {column.type_code}"
        _compare(self.where, found, source.schema)
        return found

    def copy(self, source: SqlSource, day: date, plan: _Plan, spool: CopySpool) -> int:
        """Stream the rows into `spool`; how many rows the server sent (COPY's own count, which
        extract checks against the rows it parses from the spool)."""
        import psycopg

        query, params = self._copy_query(source, day, plan)
        try:
            with self.conn.cursor() as cur:
                with cur.copy(query, params) as copy:
                    for chunk in _whole_rows(copy):
                        spool.add(chunk)
                sent = cur.rowcount
            spool.close()
        except psycopg.Error as err:
            raise self.fail(err, "reading the rows") from None
        if sent < 0:  # every server since 8.2 reports it ("COPY n")
            raise DataError(
                f"database {self.where}: COPY did not report how many rows it sent, so what was "
                "read cannot be checked; report it with the server's version",
                reason="source_count_mismatch",
            )
        return int(sent)

    def _copy_query(self, source: SqlSource, day: date, plan: _Plan) -> tuple[Any, dict]:
        from psycopg import sql

        params = source.params(day)
        shown = []
        for column, dtype in source.schema.items():
            ident = sql.Identifier(column)
            # booleans as true/false (CSV says t/f), the rest in PostgreSQL's ISO text
            shown.append(sql.SQL("{}::text").format(ident) if dtype == pl.Boolean() else ident)
        where = []
        if source.watermark is not None and plan.mark is not None:
            mark = sql.Identifier(source.watermark.column)
            where.append(sql.SQL("{} <= %(baton_to)s").format(mark))
            params["baton_to"] = datetime.fromisoformat(plan.mark)
            if plan.since is not None:
                where.append(sql.SQL("{} > %(baton_from)s").format(mark))
                params["baton_from"] = datetime.fromisoformat(plan.since)
        query = sql.SQL("COPY (SELECT {cols} FROM {q}{where}) TO STDOUT WITH (FORMAT csv)").format(
            cols=sql.SQL(", ").join(shown),
            q=self._inner(),
            where=sql.SQL(" WHERE ") + sql.SQL(" AND ").join(where) if where else sql.SQL(""),
        )
        return query, params


def _compare(where: str, found: Mapping[str, str], schema: Mapping[str, pl.DataType]) -> None:
    missing = [c for c in schema if c not in found]
    if missing:
        raise DataError(
            f"database {where}: the query returns no column(s) {missing}; select them, or "
            "change the dataset's schema",
            reason="bad_header",
        )
    wrong = []
    for column, dtype in schema.items():
        allowed = _readable(dtype) or frozenset()
        if found[column] not in allowed:
            wrong.append(
                f"column {column} is {found[column]}, declared {dtype} "
                f"(readable from {', '.join(sorted(allowed))})"
            )
    if wrong:
        raise DataError(
            f"database {where}: a column's type changed upstream: {'; '.join(wrong)}; cast it "
            "in the query, or change the dataset's schema",
            reason="bad_schema",
        )


def _whole_rows(copy: Any) -> Iterator[bytes]:
    """COPY's output regrouped into chunks of about CHUNK_BYTES that end at a row boundary (a
    newline outside quotes: PostgreSQL doubles a quote inside a quoted value, so an even count of
    quotes before it)."""
    buf = bytearray()
    for data in copy:
        buf += data
        if len(buf) >= CHUNK_BYTES:
            cut = _row_boundary(buf)
            if cut:
                with memoryview(buf) as view:
                    chunk = bytes(view[:cut])  # one copy (a bytearray slice would be a second)
                del buf[:cut]
                yield chunk
    if buf:
        yield bytes(buf)


def _row_boundary(buf: bytearray) -> int:
    end = len(buf)
    while True:
        cut = buf.rfind(b"\n", 0, end)
        if cut < 0:
            return 0
        if buf.count(b'"', 0, cut) % 2 == 0:
            return cut + 1
        end = cut


class CopySpool:
    """COPY's CSV output written to the lake as it arrives, one part per chunk of whole rows
    (never held whole, never parsed here). `types`: the type each column is scanned as (text,
    or an integer type its values always fit: `read_types`).

    A writer thread writes each part while the next chunk arrives, so the COPY never waits on
    the store (a GCS upload per part, a local write); at most one chunk waits for it, so memory
    stays bounded (~3 chunks: the one gathered, the one queued, the one written). A part is
    scratch (`Storage.write_scratch`: read back by this process and deleted after the run), so
    on a local lake it is written without the fsync of a commit, which cost ~0.4 CPU s and
    ~0.3 s for a 650k-row day's ~80 MiB (docs/datasets.md)."""

    def __init__(self, storage: Storage, prefix: str, types: Mapping[str, pl.DataType]) -> None:
        self.storage, self.prefix, self.types = storage, prefix, dict(types)
        self.keys: list[str] = []
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=1)
        self._writer: threading.Thread | None = None
        self._error: BaseException | None = None

    def add(self, chunk: bytes) -> None:
        """Queue one chunk of whole CSV rows, to be written as the next part (blocks while the
        previous chunk still waits); raises the error the writer met, if it met one."""
        if self._error is not None:
            raise self._error
        if self._writer is None:
            self._writer = threading.Thread(
                target=self._write_parts, name="copy-spool", daemon=True
            )
            self._writer.start()
        self._queue.put(chunk)

    def close(self) -> None:
        """Wait until every queued chunk is written; raise the writer's error, if any."""
        self._stop()
        if self._error is not None:
            raise self._error

    def _stop(self) -> None:
        if self._writer is not None:
            self._queue.put(None)
            self._writer.join()
            self._writer = None

    def _write_parts(self) -> None:
        while (chunk := self._queue.get()) is not None:
            if self._error is not None:
                continue  # after a failure, drain what comes until the end
            key = f"{self.prefix}/part-{len(self.keys):05d}.csv"
            try:
                self.storage.write_scratch(key, chunk)
            except BaseException as err:  # handed to the COPY's thread by add or close
                self._error = err
            self.keys.append(key)  # even a failed write: `discard` deletes what it left

    def frame(self) -> pl.LazyFrame:
        """Every part, as one lazy frame of `types` (PostgreSQL's CSV: an unquoted empty value
        is NULL, a quoted one the empty string; empty, with the schema, when nothing came)."""
        schema = self.types
        if not self.keys:
            return pl.LazyFrame(schema=schema)
        return pl.concat(
            [
                self.storage.scan_csv(
                    key,
                    has_header=False,
                    schema=schema,
                    encoding="utf8",
                )
                for key in self.keys
            ]
        )

    def discard(self) -> None:
        """Stop the writer and delete every part written so far."""
        self._stop()
        for key in self.keys:
            with contextlib.suppress(Exception):
                self.storage.delete(key)


class _UnreachableError(TransientError):
    def __init__(self, message: str) -> None:
        super().__init__(message, reason="source_transient")


def _retrying(connect: Callable[[], Any], policy: SqlRetry) -> Any:
    """Connect, retrying an unreachable server with exponential backoff (bounded)."""
    retrying = Retrying(
        retry=retry_if_exception_type(_UnreachableError),
        stop=stop_after_attempt(policy.attempts),
        wait=wait_exponential(multiplier=policy.initial_wait_s, max=policy.max_wait_s),
        sleep=time.sleep,
        before_sleep=lambda state: log.get().warning(
            "database unreachable: retrying", attempt=state.attempt_number
        ),
        reraise=True,
    )
    try:
        return retrying(connect)
    except _UnreachableError as err:
        raise TransientError(
            f"{err.message} (still after {policy.attempts} tries)", reason="source_transient"
        ) from None
