"""http.* calls against a real HTTP server on loopback, started and stopped by the test."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from loopback import LoopbackServer

from baton_engine import DefinitionError, Engine, ExecutionStore, VirtualClock


class _Handler(BaseHTTPRequestHandler):
    hits: dict[str, int] = {}

    def log_message(self, *args: Any) -> None:
        return None

    def _reply(self, code: int, body: bytes, content_type: str) -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        _Handler.hits[self.path] = _Handler.hits.get(self.path, 0) + 1
        if self.path.startswith("/json"):
            payload = {"path": self.path, "agent": self.headers.get("X-Test", "")}
            self._reply(200, json.dumps(payload).encode(), "application/json")
        elif self.path == "/text":
            self._reply(200, b"plain", "text/plain; charset=utf-8")
        elif self.path == "/busy":
            self._reply(503, b'{"error": "busy"}', "application/json")
        else:
            self._reply(404, b"not here", "text/plain")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(length)
        body = raw.decode() if self.path == "/raw" else json.loads(raw)
        reply = {"got": body, "type": self.headers.get("Content-Type")}
        self._reply(201, json.dumps(reply).encode(), "application/json")


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with LoopbackServer(_Handler) as httpd:
        yield httpd.base_url


def call(tmp_path: Path, function: str, args: dict[str, Any], retry: str | None = None) -> Any:
    step: dict[str, Any] = {"call": function, "args": args, "result": "response"}
    if retry:
        step = {"try": step, "retry": retry}
    source = {"main": {"steps": [{"c": step}, {"r": {"return": "${response}"}}]}}
    record = Engine(ExecutionStore(tmp_path), clock=VirtualClock()).run(json.dumps(source))
    return record.result if record.state == "SUCCEEDED" else record.error


def test_get_decodes_a_json_body_and_sends_query_and_headers(tmp_path: Path, server: str) -> None:
    response = call(
        tmp_path,
        "http.get",
        {"url": server + "/json", "query": {"q": "a b"}, "headers": {"X-Test": "yes"}},
    )
    assert response["code"] == 200
    assert response["body"] == {"path": "/json?q=a+b", "agent": "yes"}
    assert response["headers"]["Content-Type"] == "application/json"


def test_a_text_body_is_a_string(tmp_path: Path, server: str) -> None:
    assert call(tmp_path, "http.get", {"url": server + "/text"})["body"] == "plain"


def test_post_sends_a_map_as_json(tmp_path: Path, server: str) -> None:
    response = call(tmp_path, "http.post", {"url": server + "/post", "body": {"k": [1, 2]}})
    assert response["code"] == 201
    assert response["body"] == {"got": {"k": [1, 2]}, "type": "application/json; charset=utf-8"}


# https://cloud.google.com/workflows/docs/reference/stdlib/http/request, body: "If a
# Content-Type header is not specified and if the body value is bytes, the header is set to
# Content-Type: application/octet-stream"; headers: "If a Content-Type header is specified, the
# request body is encoded as prescribed. For example, it might be JSON or URL-encoded."
def test_post_sends_bytes_as_octet_stream(tmp_path: Path, server: str) -> None:
    response = call(tmp_path, "http.post", {"url": server + "/raw", "body": '${text.encode("hi")}'})
    assert response["body"] == {"got": "hi", "type": "application/octet-stream"}


def test_post_url_encodes_a_map_under_the_form_content_type(tmp_path: Path, server: str) -> None:
    form = "application/x-www-form-urlencoded"
    args = {
        "url": server + "/raw",
        "headers": {"Content-Type": form},
        "body": {"a": 1, "b": "x y", "c": [True, "z"]},
    }
    response = call(tmp_path, "http.post", args)
    assert response["body"] == {"got": "a=1&b=x+y&c=true&c=z", "type": form}


def test_post_sends_a_string_as_its_text_under_a_given_content_type(
    tmp_path: Path, server: str
) -> None:
    args = {"url": server + "/raw", "headers": {"Content-Type": "text/csv"}, "body": "a,b\n1,2"}
    response = call(tmp_path, "http.post", args)
    assert response["body"] == {"got": "a,b\n1,2", "type": "text/csv"}


def test_http_request_takes_a_method(tmp_path: Path, server: str) -> None:
    response = call(tmp_path, "http.request", {"method": "GET", "url": server + "/json"})
    assert response["code"] == 200


def test_an_error_status_raises_http_error_with_code_and_body(tmp_path: Path, server: str) -> None:
    error = call(tmp_path, "http.get", {"url": server + "/missing"})
    assert error["tags"] == ["HttpError"]
    assert (error["code"], error["body"]) == (404, "not here")


def test_default_retry_retries_a_503(tmp_path: Path, server: str) -> None:
    _Handler.hits = {}
    error = call(tmp_path, "http.get", {"url": server + "/busy"}, retry="${http.default_retry}")
    assert error["code"] == 503
    assert _Handler.hits["/busy"] == 6  # 1 + max_retries 5


def test_a_refused_connection_is_connection_failed_error(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    error = call(tmp_path, "http.get", {"url": f"http://127.0.0.1:{port}/"})
    assert error["tags"] == ["ConnectionFailedError"]


def test_http_calls_are_not_allowed_in_expressions(tmp_path: Path) -> None:
    source = {"main": {"steps": [{"r": {"return": '${http.get("http://127.0.0.1:1/")}'}}]}}
    with pytest.raises(DefinitionError, match=r"http\.get blocks"):
        Engine(ExecutionStore(tmp_path)).start(json.dumps(source))
