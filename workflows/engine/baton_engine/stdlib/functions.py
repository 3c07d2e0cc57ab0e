"""The standard library real workflows use: expression helpers and the sys, text, list, map,
json, base64, math, time, uuid, hash and retry modules, with http's retry predicates and
policies (the http requests themselves live in `http.py`).

Every function declares its parameter names, so a call step (named `args`) and an expression
(positional) reach the same code. Bad arguments raise TypeError/ValueError workflow errors.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import math
import re
import urllib.parse
import uuid
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from baton_engine.errors import fail
from baton_engine.expr.values import (
    FunctionRef,
    check_int,
    from_json,
    to_json_text,
    type_name,
)
from baton_engine.stdlib.registry import Runtime, Table

TABLE = Table()
builtin = TABLE.function
VALUES = TABLE.values
SEVERITIES = (
    "DEFAULT",
    "DEBUG",
    "INFO",
    "NOTICE",
    "WARNING",
    "ERROR",
    "CRITICAL",
    "ALERT",
    "EMERGENCY",
)

def _need(fn_name: str, arg: str, value: Any, *kinds: str) -> None:
    if type_name(value) not in kinds:
        raise fail(
            "TypeError",
            f"{fn_name}: argument {arg} must be {' or '.join(kinds)}, not {type_name(value)}",
        )


# ----------------------------------------------------------------------------- expression helpers


@builtin("default", "value", "default_value")
def _default(value: Any, default_value: Any) -> Any:
    return default_value if value is None else value


@builtin("double", "value")
def _double(value: Any) -> float:
    _need("double", "value", value, "integer", "double", "string")
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            raise fail("ValueError", f"double: {value!r} is not a number") from None
    return float(value)


@builtin("int", "value")
def _int(value: Any) -> int:
    _need("int", "value", value, "integer", "double", "string")
    if isinstance(value, str):
        text = value.strip()
        if not re.fullmatch(r"[+-]?\d+", text):
            raise fail("ValueError", f"int: {value!r} is not an integer")
        return check_int(int(text))
    if isinstance(value, float) and not math.isfinite(value):
        raise fail("ValueError", f"int: {value} has no integer value")
    return check_int(int(value))


def format_double(value: float) -> str:
    """A double as `string()` writes it: shortest round-trip digits (1.5, 2.0, 1e+21)."""
    if not math.isfinite(value):
        return {math.inf: "Infinity", -math.inf: "-Infinity"}.get(value, "NaN")
    return repr(value)


@builtin("string", "value")
def _string(value: Any) -> str:
    _need("string", "value", value, "integer", "double", "bool", "string")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return format_double(value)
    return str(value)


@builtin("keys", "map")
def _keys(mapping: Any) -> list[str]:
    _need("keys", "map", mapping, "map")
    return list(mapping)


@builtin("len", "value")
def _len(value: Any) -> int:
    _need("len", "value", value, "list", "map", "string", "bytes")
    return len(value)


@builtin("get_type", "value")
def _get_type(value: Any) -> str:
    return type_name(value)


# ---------------------------------------------------------------------------------------- sys


@builtin("sys.get_env", "name", ("default", None), runtime=True)
def _get_env(rt: Runtime, name: Any, default: Any) -> str:
    _need("sys.get_env", "name", name, "string")
    if default is not None:
        _need("sys.get_env", "default", default, "string")
    value = rt.get_env(name)
    if value is None:
        if default is None:
            raise fail("KeyError", f"environment variable {name} is not defined")
        return default
    return value


@builtin(
    "sys.log",
    ("data", None),
    ("severity", "DEFAULT"),
    ("text", None),
    ("json", None),
    ("timeout", None),
    runtime=True,
    call_only=True,
)
def _log(rt: Runtime, data: Any, severity: Any, text: Any, json_: Any, timeout: Any) -> None:
    given = [v for v in (data, text, json_) if v is not None]
    if len(given) != 1:
        raise fail("TypeError", "sys.log takes exactly one of data, text or json")
    if not isinstance(severity, str) or severity.upper() not in SEVERITIES:
        raise fail("ValueError", f"sys.log: severity must be one of {', '.join(SEVERITIES)}")
    if text is not None:
        _need("sys.log", "text", text, "string")
    if json_ is not None:
        _need("sys.log", "json", json_, "map", "list")
    rt.log(severity.upper(), given[0])


@builtin("sys.now", runtime=True)
def _now(rt: Runtime) -> float:
    return rt.now()


@builtin("sys.sleep", "seconds", runtime=True, call_only=True)
def _sleep(rt: Runtime, seconds: Any) -> None:
    _need("sys.sleep", "seconds", seconds, "integer", "double")
    if seconds < 0:
        raise fail("ValueError", "sys.sleep: seconds must not be negative")
    rt.sleep(float(seconds))


@builtin("sys.sleep_until", "time", runtime=True, call_only=True)
def _sleep_until(rt: Runtime, when: Any) -> None:
    target = _parse_time(when)
    rt.sleep(max(0.0, target - rt.now()))


# ---------------------------------------------------------------------------------------- text


def _regex(fn: str, pattern: Any) -> re.Pattern[str]:
    _need(fn, "regexp", pattern, "string")
    try:
        return re.compile(pattern)
    except re.error as err:
        raise fail("ValueError", f"{fn}: bad regular expression {pattern!r}: {err}") from None


@builtin("text.decode", "data", ("charset", "UTF-8"))
def _decode(data: Any, charset: Any) -> str:
    _need("text.decode", "data", data, "bytes")
    try:
        return data.decode(charset)
    except (LookupError, UnicodeDecodeError) as err:
        raise fail("ValueError", f"text.decode: {err}") from None


@builtin("text.encode", "text", ("charset", "UTF-8"))
def _encode(text: Any, charset: Any) -> bytes:
    _need("text.encode", "text", text, "string")
    try:
        return text.encode(charset)
    except (LookupError, UnicodeEncodeError) as err:
        raise fail("ValueError", f"text.encode: {err}") from None


@builtin("text.find_all", "source", "substr")
def _find_all(source: Any, substr: Any) -> list[dict[str, Any]]:
    _need("text.find_all", "source", source, "string")
    _need("text.find_all", "substr", substr, "string")
    if not substr:
        raise fail("ValueError", "text.find_all: substr must not be empty")
    found, i = [], source.find(substr)
    while i >= 0:
        found.append({"index": i, "match": substr})
        i = source.find(substr, i + len(substr))
    return found


@builtin("text.find_all_regex", "source", "regexp")
def _find_all_regex(source: Any, regexp: Any) -> list[dict[str, Any]]:
    _need("text.find_all_regex", "source", source, "string")
    pattern = _regex("text.find_all_regex", regexp)
    return [{"index": m.start(), "match": m.group(0)} for m in pattern.finditer(source)]


@builtin("text.match_regex", "source", "regexp")
def _match_regex(source: Any, regexp: Any) -> bool:
    _need("text.match_regex", "source", source, "string")
    return _regex("text.match_regex", regexp).search(source) is not None


@builtin("text.replace_all", "source", "substr", "repl")
def _replace_all(source: Any, substr: Any, repl: Any) -> str:
    for arg, value in (("source", source), ("substr", substr), ("repl", repl)):
        _need("text.replace_all", arg, value, "string")
    return source.replace(substr, repl) if substr else source


@builtin("text.replace_all_regex", "source", "regexp", "repl")
def _replace_all_regex(source: Any, regexp: Any, repl: Any) -> str:
    _need("text.replace_all_regex", "source", source, "string")
    _need("text.replace_all_regex", "repl", repl, "string")
    pattern = _regex("text.replace_all_regex", regexp)
    # RE2-style group references (\1) and Python's are the same; $1 is not supported.
    return pattern.sub(repl, source)


@builtin("text.split", "source", "separator")
def _split(source: Any, separator: Any) -> list[str]:
    _need("text.split", "source", source, "string")
    _need("text.split", "separator", separator, "string")
    return list(source) if separator == "" else source.split(separator)


@builtin("text.substring", "source", "start", "end")
def _substring(source: Any, start: Any, end: Any) -> str:
    _need("text.substring", "source", source, "string")
    _need("text.substring", "start", start, "integer")
    _need("text.substring", "end", end, "integer")
    size = len(source)
    start, end = min(max(start, 0), size), min(max(end, 0), size)
    return source[start:end] if start < end else ""


@builtin("text.to_lower", "source")
def _to_lower(source: Any) -> str:
    _need("text.to_lower", "source", source, "string")
    return source.lower()


@builtin("text.to_upper", "source")
def _to_upper(source: Any) -> str:
    _need("text.to_upper", "source", source, "string")
    return source.upper()


@builtin("text.url_decode", "source")
def _url_decode(source: Any) -> str:
    _need("text.url_decode", "source", source, "string")
    return urllib.parse.unquote(source)


@builtin("text.url_encode", "source")
def _url_encode(source: Any) -> str:
    _need("text.url_encode", "source", source, "string")
    return urllib.parse.quote(source, safe="-_.~")


@builtin("text.url_encode_plus", "source")
def _url_encode_plus(source: Any) -> str:
    _need("text.url_encode_plus", "source", source, "string")
    return urllib.parse.quote_plus(source, safe="-_.~")


# --------------------------------------------------------------------------------- list and map


@builtin("list.concat", "objs", "val")
def _concat(objs: Any, val: Any) -> list[Any]:
    _need("list.concat", "objs", objs, "list")
    return [*objs, val]


@builtin("list.prepend", "objs", "val")
def _prepend(objs: Any, val: Any) -> list[Any]:
    _need("list.prepend", "objs", objs, "list")
    return [val, *objs]


@builtin("map.get", "map", "keys")
def _map_get(mapping: Any, keys: Any) -> Any:
    path = keys if isinstance(keys, list) else [keys]
    for key in path:
        _need("map.get", "keys", key, "string")
    current = mapping
    for key in path:
        if not isinstance(current, dict) or key not in current:
            return None
        current = current[key]
    return current


@builtin("map.delete", "map", "key")
def _map_delete(mapping: Any, key: Any) -> dict[str, Any]:
    _need("map.delete", "map", mapping, "map")
    _need("map.delete", "key", key, "string")
    return {k: v for k, v in mapping.items() if k != key}


@builtin("map.merge", "first", "second")
def _merge(first: Any, second: Any) -> dict[str, Any]:
    _need("map.merge", "first", first, "map")
    _need("map.merge", "second", second, "map")
    return {**first, **second}


def merge_nested(first: dict[str, Any], second: dict[str, Any]) -> dict[str, Any]:
    """Deep merge: nested maps merge, anything else in `second` wins."""
    out = dict(first)
    for key, value in second.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge_nested(out[key], value)
        else:
            out[key] = value
    return out


@builtin("map.merge_nested", "first", "second")
def _merge_nested(first: Any, second: Any) -> dict[str, Any]:
    _need("map.merge_nested", "first", first, "map")
    _need("map.merge_nested", "second", second, "map")
    return merge_nested(first, second)


# ------------------------------------------------------------------------------ json and base64


@builtin("json.decode", "data")
def _json_decode(data: Any) -> Any:
    _need("json.decode", "data", data, "bytes", "string")
    try:
        return from_json(json.loads(data))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise fail("ValueError", f"json.decode: not valid JSON: {err}") from None


@builtin("json.encode", "data", ("indent", None))
def _json_encode(data: Any, indent: Any) -> bytes:
    return to_json_text(data, _indent(indent)).encode()


@builtin("json.encode_to_string", "data", ("indent", None))
def _json_encode_to_string(data: Any, indent: Any) -> str:
    return to_json_text(data, _indent(indent))


def _indent(indent: Any) -> int | None:
    if indent is None or indent is False:
        return None
    if indent is True:
        return 2
    if isinstance(indent, dict):
        return int(indent.get("spaces", 2))
    _need("json.encode", "indent", indent, "integer")
    return indent


@builtin("base64.decode", "data", ("padding", True))
def _b64decode(data: Any, padding: Any) -> bytes:
    _need("base64.decode", "data", data, "string")
    text = data if padding else data + "=" * (-len(data) % 4)
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as err:
        raise fail("ValueError", f"base64.decode: {err}") from None


@builtin("base64.encode", "data", ("padding", True))
def _b64encode(data: Any, padding: Any) -> str:
    _need("base64.encode", "data", data, "bytes")
    text = base64.b64encode(data).decode()
    return text if padding else text.rstrip("=")


# ------------------------------------------------------------------------------------------ math


def _numbers(fn: str, *pairs: tuple[str, Any]) -> None:
    for arg, value in pairs:
        _need(fn, arg, value, "integer", "double")


@builtin("math.abs", "x")
def _abs(x: Any) -> Any:
    _numbers("math.abs", ("x", x))
    return check_int(abs(x)) if isinstance(x, int) else abs(x)


@builtin("math.floor", "x")
def _floor(x: Any) -> int:
    _numbers("math.floor", ("x", x))
    if isinstance(x, float) and not math.isfinite(x):
        raise fail("ValueError", f"math.floor: {x} has no integer value")
    return check_int(math.floor(x))


@builtin("math.max", "x", "y")
def _max(x: Any, y: Any) -> Any:
    _numbers("math.max", ("x", x), ("y", y))
    return x if x >= y else y


@builtin("math.min", "x", "y")
def _min(x: Any, y: Any) -> Any:
    _numbers("math.min", ("x", x), ("y", y))
    return x if x <= y else y


# ---------------------------------------------------------------------------------- time, uuid


def _zone(name: Any) -> Any:
    _need("time.format", "timezone", name, "string")
    if name.upper() in ("UTC", "Z", "ETC/UTC"):
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise fail("ValueError", f"time.format: unknown time zone {name!r}") from None


@builtin("time.format", "seconds", ("timezone", "UTC"))
def _time_format(seconds: Any, timezone: Any) -> str:
    _numbers("time.format", ("seconds", seconds))
    zone = _zone(timezone)
    try:
        moment = datetime.fromtimestamp(seconds, tz=zone)
    except (OverflowError, OSError, ValueError) as err:
        raise fail("ValueError", f"time.format: {seconds} is out of range: {err}") from None
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond:
        text += f".{moment.microsecond:06d}".rstrip("0")
    offset = moment.strftime("%z")
    return text + ("Z" if zone is UTC else f"{offset[:3]}:{offset[3:]}")


def _parse_time(value: Any) -> float:
    _need("time.parse", "value", value, "string")
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise fail("ValueError", f"time.parse: {value!r} is not an RFC 3339 timestamp") from None
    if moment.tzinfo is None:
        raise fail("ValueError", f"time.parse: {value!r} has no time zone offset (add Z)")
    return moment.timestamp()


@builtin("time.parse", "value")
def _time_parse(value: Any) -> float:
    return _parse_time(value)


@builtin("uuid.generate")
def _uuid() -> str:
    return str(uuid.uuid4())


# ------------------------------------------------------------------------------------------ hash

_ALGORITHMS = {
    "MD5": "md5",
    "SHA1": "sha1",
    "SHA256": "sha256",
    "SHA384": "sha384",
    "SHA512": "sha512",
}


def _algorithm(fn: str, name: Any) -> str:
    _need(fn, "algorithm", name, "string")
    if name.upper() not in _ALGORITHMS:
        raise fail("ValueError", f"{fn}: algorithm must be one of {', '.join(_ALGORITHMS)}")
    return _ALGORITHMS[name.upper()]


@builtin("hash.compute_checksum", "data", "algorithm")
def _checksum(data: Any, algorithm: Any) -> bytes:
    _need("hash.compute_checksum", "data", data, "bytes")
    return hashlib.new(_algorithm("hash.compute_checksum", algorithm), data).digest()


@builtin("hash.compute_hmac", "key", "data", "algorithm")
def _hmac(key: Any, data: Any, algorithm: Any) -> bytes:
    _need("hash.compute_hmac", "key", key, "bytes")
    _need("hash.compute_hmac", "data", data, "bytes")
    return hmac.new(key, data, _algorithm("hash.compute_hmac", algorithm)).digest()


# ----------------------------------------------------------------------------------------- retry


@builtin("retry.always", "e")
def _always(e: Any) -> bool:
    return True


@builtin("retry.never", "e")
def _never(e: Any) -> bool:
    return False


def _http_code(e: Any) -> Any:
    return e.get("code") if isinstance(e, dict) else None


def _tags(e: Any) -> list[Any]:
    tags = e.get("tags") if isinstance(e, dict) else None
    return tags if isinstance(tags, list) else []


@builtin("http.default_retry_predicate", "e")
def _default_retry_predicate(e: Any) -> bool:
    tags = _tags(e)
    if {"ConnectionError", "ConnectionFailedError", "TimeoutError"} & set(tags):
        return True
    return "HttpError" in tags and _http_code(e) in (429, 502, 503, 504)


@builtin("http.default_retry_predicate_non_idempotent", "e")
def _default_retry_predicate_non_idempotent(e: Any) -> bool:
    return "HttpError" in _tags(e) and _http_code(e) in (429, 503)


DEFAULT_BACKOFF = {"initial_delay": 1.0, "max_delay": 60.0, "multiplier": 1.25}
VALUES["retry.default_backoff"] = DEFAULT_BACKOFF
VALUES["http.default_retry"] = {
    "predicate": FunctionRef("http.default_retry_predicate"),
    "max_retries": 5,
    "backoff": DEFAULT_BACKOFF,
}
VALUES["http.default_retry_non_idempotent"] = {
    "predicate": FunctionRef("http.default_retry_predicate_non_idempotent"),
    "max_retries": 5,
    "backoff": DEFAULT_BACKOFF,
}
