"""http.get/post/put/patch/delete/request: real HTTP requests (for local services).

Responses are maps {code, headers, body}; a JSON body is decoded, text stays a string, anything
else is bytes. Status >= 400 raises HttpError (with code, headers, body); a refused or
unresolvable connection raises ConnectionFailedError, a broken one ConnectionError, a slow one
TimeoutError. `auth` is accepted and ignored locally (there is no Google identity to attach).
"""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.parse
import urllib.request
from email.message import Message
from typing import Any

from baton_engine.errors import WorkflowError, fail
from baton_engine.expr.values import from_json, to_json_text, type_name
from baton_engine.stdlib.registry import Table
from baton_limits import WORKFLOW_HTTP_DEFAULT_TIMEOUT_S, WORKFLOW_HTTP_TIMEOUT_S

TABLE = Table()
builtin = TABLE.function
DEFAULT_TIMEOUT = WORKFLOW_HTTP_DEFAULT_TIMEOUT_S
MAX_TIMEOUT = WORKFLOW_HTTP_TIMEOUT_S
METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS")
_PARAMS = (
    "url",
    ("timeout", None),
    ("body", None),
    ("headers", None),
    ("query", None),
    ("auth", None),
)


def _encode_body(body: Any, headers: dict[str, str]) -> bytes | None:
    if body is None:
        return None
    lower = {k.lower() for k in headers}
    if isinstance(body, bytes):
        headers.setdefault("Content-Type", "application/octet-stream")
        return body
    if isinstance(body, str) and "content-type" in lower:
        return body.encode()
    if "content-type" not in lower:
        headers["Content-Type"] = "application/json; charset=utf-8"
    return to_json_text(body).encode()


def _decode_body(raw: bytes, content_type: str) -> Any:
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind == "application/json" or kind.endswith("+json"):
        try:
            return from_json(json.loads(raw))
        except (json.JSONDecodeError, UnicodeDecodeError):
            return raw.decode(errors="replace")
    if kind.startswith("text/") or kind in ("application/xml", "application/javascript"):
        return raw.decode(errors="replace")
    return raw if raw else None


def _headers(message: Message) -> dict[str, str]:
    return {k: v for k, v in message.items()}


def _url(url: Any, query: Any) -> str:
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise fail("ValueError", f"http: url must be an http(s) URL, not {url!r}")
    if query is None:
        return url
    if not isinstance(query, dict):
        raise fail("TypeError", f"http: query must be a map, not {type_name(query)}")
    pairs = []
    for key, value in query.items():
        for item in value if isinstance(value, list) else [value]:
            pairs.append((key, item if isinstance(item, str) else to_json_text(item)))
    sep = "&" if urllib.parse.urlsplit(url).query else "?"
    return url + sep + urllib.parse.urlencode(pairs)


def request(
    method: Any,
    url: Any,
    timeout: Any = None,
    body: Any = None,
    headers: Any = None,
    query: Any = None,
    auth: Any = None,
) -> dict[str, Any]:
    """One HTTP request; the response map or a documented error."""
    if not isinstance(method, str) or method.upper() not in METHODS:
        raise fail("ValueError", f"http.request: method must be one of {', '.join(METHODS)}")
    if headers is not None and not isinstance(headers, dict):
        raise fail("TypeError", "http: headers must be a map")
    seconds = DEFAULT_TIMEOUT if timeout is None else timeout
    if type_name(seconds) not in ("integer", "double") or not 0 < seconds <= MAX_TIMEOUT:
        raise fail("ValueError", f"http: timeout must be a number of seconds in (0, {MAX_TIMEOUT}]")
    sent = {str(k): str(v) for k, v in (headers or {}).items()}
    data = _encode_body(body, sent)
    req = urllib.request.Request(_url(url, query), data=data, headers=sent, method=method.upper())
    try:
        with urllib.request.urlopen(req, timeout=seconds) as resp:
            raw = resp.read()
            return {
                "code": resp.status,
                "headers": _headers(resp.headers),
                "body": _decode_body(raw, resp.headers.get("Content-Type", "")),
            }
    except urllib.error.HTTPError as err:
        raw = err.read()
        hdrs = _headers(err.headers) if err.headers else {}
        raise WorkflowError(
            {
                "message": f"HTTP server responded with error code {err.code}",
                "code": err.code,
                "headers": hdrs,
                "body": _decode_body(raw, hdrs.get("Content-Type", "")),
                "tags": ["HttpError"],
            }
        ) from None
    except TimeoutError:
        raise fail("TimeoutError", f"http: {method} {url} timed out after {seconds} s") from None
    except urllib.error.URLError as err:
        reason = err.reason
        if isinstance(reason, TimeoutError | socket.timeout):
            raise fail(
                "TimeoutError", f"http: {method} {url} timed out after {seconds} s"
            ) from None
        if isinstance(reason, ConnectionRefusedError | socket.gaierror | OSError):
            raise fail(
                "ConnectionFailedError", f"http: cannot connect to {url}: {reason}"
            ) from None
        raise fail("ConnectionError", f"http: {method} {url} failed: {reason}") from None
    except (ConnectionError, OSError) as err:
        raise fail("ConnectionError", f"http: {method} {url} failed: {err}") from None


def _register() -> None:
    for method in ("get", "post", "put", "patch", "delete"):

        def call(*args: Any, _method: str = method.upper()) -> dict[str, Any]:
            return request(_method, *args)

        builtin(f"http.{method}", *_PARAMS, call_only=True)(call)
    builtin("http.request", "method", *_PARAMS, call_only=True)(request)


_register()
