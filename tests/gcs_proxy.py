"""A loopback HTTP proxy in front of the gcp-storage-emulator that enforces what the emulator
does not: `ifGenerationMatch` on uploads (412 when the object is not at that generation; 0 means
it must not exist), checked and forwarded under one lock so two racing writers are decided as
GCS decides them. It can also inject faults (429/500/503 answers, connection resets, slow
answers) at a seeded rate.

https://cloud.google.com/storage/docs/request-preconditions
"""

from __future__ import annotations

import contextlib
import http.client
import json
import random
import re
import socket
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

RESET = -1  # a fault: close the connection without answering (a reset mid-request)
_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


@dataclass
class Faults:
    """Seeded fault injection: the share of requests answered with a retryable error, and
    of requests delayed."""

    error_rate: float = 0.0
    slow_rate: float = 0.0
    slow_s: float = 0.2
    seed: int = 0
    injected: int = 0
    _rng: random.Random = field(init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def draw(self) -> tuple[int | None, float]:
        """(status to answer instead, or None; seconds to wait first)."""
        with self._lock:
            status = None
            if self._rng.random() < self.error_rate:
                status = self._rng.choice((429, 500, 503, RESET))
                self.injected += 1
            delay = self.slow_s if self._rng.random() < self.slow_rate else 0.0
            return status, delay


def _object_name(path: str, query: dict[str, list[str]], body: bytes) -> str | None:
    if "name" in query:
        return query["name"][0]
    found = re.search(rb'"name"\s*:\s*"([^"]+)"', body)  # the multipart upload's metadata part
    return found.group(1).decode() if found else None


class _QuietServer(ThreadingHTTPServer):
    """A client that goes away mid-request (a killed step) is not an error of the proxy."""

    def handle_error(self, request: object, client_address: object) -> None:
        return


class PreconditionProxy:
    """Forwards every request to `upstream` (http://host:port); see the module docstring."""

    def __init__(self, upstream: str, faults: Faults | None = None) -> None:
        parsed = urllib.parse.urlparse(upstream)
        self.upstream = (parsed.hostname or "127.0.0.1", parsed.port or 80)
        self.faults = faults or Faults()
        self.refused = 0  # uploads refused with 412
        self._commit_lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                return

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                proxy.handle(self, body)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle  # noqa: N815

        self.server = _QuietServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> PreconditionProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _forward(self, method: str, path: str, headers: dict[str, str], body: bytes):
        conn = http.client.HTTPConnection(*self.upstream, timeout=30)
        try:
            conn.request(method, path, body=body or None, headers=headers)
            response = conn.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            conn.close()

    def _generation(self, bucket: str, name: str) -> int:
        quoted = urllib.parse.quote(name, safe="")
        status, _, data = self._forward("GET", f"/storage/v1/b/{bucket}/o/{quoted}", {}, b"")
        return int(json.loads(data)["generation"]) if status == 200 else 0

    def handle(self, handler: BaseHTTPRequestHandler, body: bytes) -> None:
        """Answer one request: maybe a fault, else forward (uploads with a precondition under
        the lock, after checking it)."""
        status, delay = self.faults.draw()
        if delay:
            time.sleep(delay)
        if status == RESET:
            handler.close_connection = True
            with contextlib.suppress(OSError):
                handler.connection.shutdown(socket.SHUT_RDWR)
            return
        if status is not None:
            self._reply(handler, status, [], json.dumps({"error": {"code": status}}).encode())
            return
        parsed = urllib.parse.urlparse(handler.path)
        query = urllib.parse.parse_qs(parsed.query)
        headers = {k: v for k, v in handler.headers.items() if k.lower() not in _HOP}
        headers["Content-Length"] = str(len(body))
        bucket = re.search(r"/b/([^/]+)/o", parsed.path)
        wanted = query.get("ifGenerationMatch")
        if handler.command == "POST" and wanted and bucket and "/upload/" in parsed.path:
            name = _object_name(parsed.path, query, body)
            with self._commit_lock:
                if name is not None and self._generation(bucket.group(1), name) != int(wanted[0]):
                    self.refused += 1
                    error = {"error": {"code": 412, "message": "conditionNotMet"}}
                    self._reply(handler, 412, [], json.dumps(error).encode())
                    return
                reply = self._forward(handler.command, handler.path, headers, body)
        else:
            reply = self._forward(handler.command, handler.path, headers, body)
        self._reply(handler, *reply)

    @staticmethod
    def _reply(handler: BaseHTTPRequestHandler, status: int, headers, data: bytes) -> None:
        handler.send_response(status)
        for key, value in headers:
            if key.lower() not in _HOP:
                handler.send_header(key, value)
        if not headers:  # an answer of our own
            handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)
