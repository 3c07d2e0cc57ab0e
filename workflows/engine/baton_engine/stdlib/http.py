"""http.get/post/put/patch/delete/request: real HTTP requests (for local services).

Responses are maps {code, headers, body}; a JSON body is decoded, text stays a string, anything
else is bytes. Status >= 400 raises HttpError (with code, headers, body); a refused or
unresolvable connection raises ConnectionFailedError, a broken one ConnectionError, a slow one
TimeoutError. `auth` is checked and then ignored locally (there is no Google identity to attach).

What the arguments must be is read from https://cloud.google.com/workflows/docs/reference/stdlib/
http/request (and http/get): "headers ... If present, must be a map of strings. If a
Content-Type header is specified, the request body is encoded as prescribed. For example, it
might be JSON or URL-encoded."; "query ... The map values must be strings, ints, floats,
booleans, or lists of those."; "auth ... must be a map with type attribute in ["OIDC",
"OAuth2"]. A scopes key is also supported."; "timeout ... (default: 300.0) ... The maximum
allowed timeout is 1800 seconds."; "ValueError If timeout is > 1800. If the URL is invalid". The
pages name no error for a wrong header, query or auth value: TypeError for a wrong type and
ValueError for a wrong auth type here. `private_service_name` and `ca_certificate` (Service
Directory, a private CA) cannot be honoured locally: giving one is a SystemError.
"""

from __future__ import annotations

import json
import socket
import urllib.parse
from typing import TYPE_CHECKING, Any

from baton_engine.errors import WorkflowError, fail
from baton_engine.expr.values import from_json, to_json_text, type_name
from baton_engine.stdlib.registry import Table
from baton_limits import WORKFLOW_HTTP_DEFAULT_TIMEOUT_S, WORKFLOW_HTTP_TIMEOUT_S

if TYPE_CHECKING:
    from email.message import Message

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
    ("private_service_name", None),
    ("ca_certificate", None),
)
AUTH_TYPES = ("OIDC", "OAuth2")
_FORM = "application/x-www-form-urlencoded"
_QUERY_SCALARS = ("string", "integer", "double", "bool")


def _encode_body(body: Any, headers: dict[str, str]) -> bytes | None:
    """The body as the page says: bytes as they are, otherwise as the Content-Type prescribes
    (a string as its text, a map under the form type URL-encoded), JSON by default."""
    if body is None:
        return None
    content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), None)
    if isinstance(body, bytes):
        headers.setdefault("Content-Type", "application/octet-stream")
        return body
    if content_type is None:
        headers["Content-Type"] = "application/json; charset=utf-8"
        return to_json_text(body).encode()
    kind = content_type.split(";", 1)[0].strip().lower()
    if isinstance(body, str):
        return body.encode()
    if kind == _FORM and isinstance(body, dict):
        return urllib.parse.urlencode(_pairs("body", body)).encode()
    return to_json_text(body).encode()


def _pairs(what: str, values: dict[str, Any]) -> list[tuple[str, str]]:
    """Query (or form) pairs from a map of strings, ints, floats, booleans or lists of those."""
    pairs = []
    for key, value in values.items():
        for item in value if isinstance(value, list) else [value]:
            if type_name(item) not in _QUERY_SCALARS:
                raise fail(
                    "TypeError",
                    f"http: {what} value {key} must be a string, int, float, boolean or a list "
                    f"of those, not {type_name(item)}",
                )
            pairs.append((key, item if isinstance(item, str) else to_json_text(item)))
    return pairs


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
    sep = "&" if urllib.parse.urlsplit(url).query else "?"
    return url + sep + urllib.parse.urlencode(_pairs("query", query))


def _check_headers(headers: Any) -> dict[str, str]:
    if headers is None:
        return {}
    if not isinstance(headers, dict):
        raise fail("TypeError", f"http: headers must be a map of strings, not {type_name(headers)}")
    for key, value in headers.items():
        if not isinstance(value, str):
            raise fail("TypeError", f"http: header {key} must be a string, not {type_name(value)}")
    return dict(headers)


def _check_auth(auth: Any) -> None:
    if auth is None:
        return
    if not isinstance(auth, dict):
        raise fail("TypeError", f"http: auth must be a map, not {type_name(auth)}")
    if auth.get("type") not in AUTH_TYPES:
        raise fail(
            "ValueError",
            f"http: auth type must be one of {', '.join(AUTH_TYPES)}, not {auth.get('type')!r}",
        )


def _checked(
    method: Any, headers: Any, auth: Any, timeout: Any, service: Any, ca: Any
) -> tuple[dict[str, str], float]:
    """The headers to send and the timeout, once every argument is as the page requires."""
    if not isinstance(method, str) or method not in METHODS:
        raise fail("ValueError", f"http.request: method must be one of {', '.join(METHODS)}")
    for name, given in (
        ("private_service_name", service),
        ("ca_certificate", ca),
    ):
        if given is not None:
            raise fail("SystemError", f"http: {name} is not available in the local engine")
    sent = _check_headers(headers)
    _check_auth(auth)
    seconds = DEFAULT_TIMEOUT if timeout is None else timeout
    if type_name(seconds) not in ("integer", "double") or not 0 < seconds <= MAX_TIMEOUT:
        raise fail("ValueError", f"http: timeout must be a number of seconds in (0, {MAX_TIMEOUT}]")
    return sent, seconds


def request(
    method: Any,
    url: Any,
    timeout: Any = None,
    body: Any = None,
    headers: Any = None,
    query: Any = None,
    auth: Any = None,
    private_service_name: Any = None,
    ca_certificate: Any = None,
) -> dict[str, Any]:
    """One HTTP request; the response map or a documented error."""
    # Imported here (with ssl and http.client): checking a workflow needs no HTTP client.
    import urllib.error
    import urllib.request

    sent, seconds = _checked(method, headers, auth, timeout, private_service_name, ca_certificate)
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
