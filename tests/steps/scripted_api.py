"""A loopback JSON API that misbehaves on purpose, one scenario per bad-source case: it
serves the six flights of tests/corpus/bom_crlf.csv as three cursor pages of two rows, with a
bearer token, and breaks in the way its scenario says."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import polars as pl
from loopback import LoopbackServer

from baton.datasets import flights

TOKEN = "test-token-s3cr3t"
CORPUS = Path(__file__).resolve().parents[1] / "corpus"
PAGES = 3


def corpus_rows() -> list[dict]:
    """The six good flights of the corpus as an API sends them (numbers as numbers)."""
    text = (CORPUS / "bom_crlf.csv").read_text(encoding="utf-8-sig").replace("\r\n", "\n")
    frame = pl.read_csv(io.StringIO(text), infer_schema=False, null_values=["NA"])
    ints = [c for c, t in flights.SOURCE.schema.items() if t.is_integer()]
    return frame.with_columns(pl.col(c).cast(pl.Int64) for c in ints).to_dicts()


Reply = tuple[int, dict[str, str], bytes]


class ScriptedApi(LoopbackServer):
    """`GET /v1/flights?date=...&cursor=pN`: page N of the corpus rows, as the scenario allows."""

    def __init__(self, scenario: str) -> None:
        self.scenario = scenario
        self.rows = corpus_rows()
        self.requests: list[str] = []
        self.headers_seen: list[str] = []
        super().__init__(_handler(self))

    @property
    def url(self) -> str:
        return f"{self.base_url}/v1/flights"

    def page(self, number: int, cursor_field: str = "next_cursor") -> dict:
        body: dict = {"data": self.rows[2 * (number - 1) : 2 * number], "total": len(self.rows)}
        body[cursor_field] = f"p{number + 1}" if number < PAGES else None
        return body

    def reply(self, query: dict[str, list[str]], auth: str) -> Reply | None:
        """(status, headers, body), or None to cut the connection mid-body."""
        number = int(query.get("cursor", ["p1"])[0].removeprefix("p"))
        attempt = self.requests.count(f"p{number}")
        self.requests.append(f"p{number}")
        scripted = SCENARIOS.get(self.scenario)
        if scripted is not None:
            reply = scripted(self, number, attempt)
            if reply != "ok":
                return reply
        if auth != f"Bearer {TOKEN}":
            return 401, {}, b'{"error": "unauthorised"}'
        return _json(self.page(number))


def _json(body: object, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
    return (
        status,
        {"Content-Type": "application/json", **(headers or {})},
        json.dumps(body).encode(),
    )


def _status(status: int, headers: dict[str, str] | None = None) -> Callable:
    return lambda api, number, attempt: _json({"error": "scripted"}, status, headers)


def _on_page(page: int, reply: Callable, *, times: int | None = None) -> Callable:
    def scripted(api: ScriptedApi, number: int, attempt: int):
        if number == page and (times is None or attempt < times):
            return reply(api, number)
        return "ok"

    return scripted


SCENARIOS: dict[str, Callable] = {
    "ok": lambda api, number, attempt: "ok",
    "denied-401": _status(401),
    "denied-403": _status(403),
    "not-found": _status(404),
    "bad-request": _status(422),
    "error-500-forever": _status(500),
    "throttled-forever": _status(429, {"Retry-After": "0"}),
    "throttled-for-an-hour": _status(429, {"Retry-After": "3600"}),
    "unavailable-twice": _on_page(2, lambda api, n: _json({}, 503, {"Retry-After": "0"}), times=2),
    "not-json": _on_page(
        2, lambda api, n: (200, {"Content-Type": "text/html"}, b"<html>oops</html>")
    ),
    "no-cursor-field": _on_page(2, lambda api, n: _json({"data": api.rows[2:4], "total": 6})),
    "cursor-loop": _on_page(3, lambda api, n: _json({**api.page(3), "next_cursor": "p2"})),
    "reset-mid-page-forever": _on_page(2, lambda api, n: None),
    "reset-mid-page-once": _on_page(2, lambda api, n: None, times=1),
    "larger-than-declared": _on_page(
        1, lambda api, n: _json({**api.page(1), "pad": "x" * 200_000})
    ),
    "empty-day": lambda api, number, attempt: _json({"data": [], "next_cursor": None, "total": 0}),
    "fewer-rows-than-declared": _on_page(3, lambda api, n: _json({**api.page(3), "data": []})),
}


def _handler(api: ScriptedApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            api.headers_seen.append(str(self.headers))
            reply = api.reply(
                parse_qs(urlsplit(self.path).query), self.headers.get("Authorization", "")
            )
            if reply is None:  # promise a body, send half of it, hang up
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "4096")
                self.end_headers()
                self.wfile.write(b'{"data": [{"year": 20')
                self.wfile.flush()
                self.close_connection = True
                return
            status, headers, body = reply
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler
