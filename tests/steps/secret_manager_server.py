"""A loopback stand-in for the Secret Manager REST API v1, just what baton calls:
`GET /v1/{name=projects/*/secrets/*/versions/*}:access` answering
`{"name": ..., "payload": {"data": <base64>, "dataCrc32c": <int64 as string>}}`
(https://cloud.google.com/secret-manager/docs/reference/rest/v1/projects.secrets.versions/access).
The official client reaches it with `api_endpoint`, anonymous credentials and transport="rest"."""

from __future__ import annotations

import base64
import json
import re
from http.server import BaseHTTPRequestHandler

import google_crc32c
from loopback import LoopbackServer

_ACCESS = re.compile(r"/v1/(projects/[^/]+/secrets/([^/]+)/versions/([^/:]+)):access")


class SecretManagerStandIn(LoopbackServer):
    """Secrets by id (their latest version); `denied` ids answer 403 like a missing grant."""

    def __init__(self, secrets: dict[str, str], denied: frozenset[str] = frozenset()) -> None:
        self.secrets, self.denied = secrets, denied
        self.accessed: list[str] = []
        super().__init__(_handler(self))

    @property
    def endpoint(self) -> str:
        return self.base_url

    def answer(self, path: str) -> tuple[int, dict]:
        match = _ACCESS.fullmatch(path)
        if not match:
            return 404, _error(404, "NOT_FOUND", f"no route {path}")
        name, secret, _version = match.groups()
        self.accessed.append(name)
        if secret in self.denied:
            return 403, _error(
                403, "PERMISSION_DENIED", "Permission 'secretmanager.versions.access' denied"
            )
        if secret not in self.secrets:
            return 404, _error(404, "NOT_FOUND", f"Secret [{name}] not found or has no versions.")
        data = self.secrets[secret].encode()
        payload = {
            "data": base64.b64encode(data).decode(),
            "dataCrc32c": str(google_crc32c.value(data)),
        }
        return 200, {"name": name, "payload": payload}


def _error(code: int, status: str, message: str) -> dict:
    return {"error": {"code": code, "status": status, "message": message}}


def _handler(stand_in: SecretManagerStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, body = stand_in.answer(self.path.split("?", 1)[0])
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler
