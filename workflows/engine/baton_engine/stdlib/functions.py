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

from baton_engine.errors import WorkflowError, fail
from baton_engine.expr.values import (
    FunctionRef,
    check_int,
    from_json,
    scalar_text,
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
# https://cloud.google.com/workflows/docs/reference/stdlib/expression-helpers lists the types
# each helper accepts ("double() Accepts an attribute of type string or integer", "int() ...
# string or double", "string() ... integer, double, or boolean", "keys() ... map", "len() ...
# list, map, or string"); any other type is a TypeError here (the page does not say it works).


@builtin("default", "value", "default_value")
def _default(value: Any, default_value: Any) -> Any:
    return default_value if value is None else value


@builtin("if", "condition", "if_true", "if_false")
def _if(condition: Any, if_true: Any, if_false: Any) -> Any:
    # "If condition evaluates to true, ifTrue is returned. If condition evaluates to false or
    # null" ifFalse is (expression-helpers page); any other condition type is an error. Both
    # branches are evaluated before the call (the page does not say it short-circuits).
    if condition is None or condition is False:
        return if_false
    if condition is True:
        return if_true
    raise fail("TypeError", f"if: condition must be a boolean or null, not {type_name(condition)}")


@builtin("double", "value")
def _double(value: Any) -> float:
    _need("double", "value", value, "integer", "string")
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            raise fail("ValueError", f"double: {value!r} is not a number") from None
    return float(value)


@builtin("int", "value")
def _int(value: Any) -> int:
    _need("int", "value", value, "double", "string")
    if isinstance(value, str):
        text = value.strip()
        if not re.fullmatch(r"[+-]?\d+", text):
            raise fail("ValueError", f"int: {value!r} is not an integer")
        return check_int(int(text))
    if isinstance(value, float) and not math.isfinite(value):
        raise fail("ValueError", f"int: {value} has no integer value")
    return check_int(int(value))


@builtin("string", "value")
def _string(value: Any) -> str:
    _need("string", "value", value, "integer", "double", "bool")
    return str(scalar_text(value))


# https://cloud.google.com/workflows/docs/reference/syntax/iteration: "When iterating over maps,
# ${keys(map)} can be used to obtain a list of keys. keys() always returns a sorted list."
@builtin("keys", "map")
def _keys(mapping: Any) -> list[str]:
    _need("keys", "map", mapping, "map")
    return sorted(mapping)


@builtin("len", "value")
def _len(value: Any) -> int:
    _need("len", "value", value, "list", "map", "string")
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


# https://cloud.google.com/workflows/docs/reference/stdlib/sys/log: `data` and `text` are
# "integer|float|bool|string|list|dict", `json` is "dict"; "Maps are logged as a JSON payload
# ... Other accepted types are logged as a text payload"; `text` is "Always logged as a text
# payload"; severity "One of: DEFAULT, DEBUG, INFO, NOTICE, WARNING, ERROR, CRITICAL, ALERT,
# EMERGENCY"; "TypeError - If either data or text is specified with a type that is not one of
# ... - If json is specified with a type that is not dict. - If more than one of data, text, or
# json are specified. - If none of data, text, or json are specified." Unsaid, so strict here: a
# severity spelled otherwise (also in lower case) is a ValueError; the text of a non-string is
# its JSON text; `timeout` must be a number and is otherwise ignored (nothing here can stall).
_LOGGABLE = ("integer", "double", "bool", "string", "list", "map")


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
    given = [(k, v) for k, v in (("data", data), ("text", text), ("json", json_)) if v is not None]
    if len(given) != 1:
        raise fail("TypeError", "sys.log takes exactly one of data, text or json")
    if severity not in SEVERITIES:
        raise fail("ValueError", f"sys.log: severity must be one of {', '.join(SEVERITIES)}")
    if timeout is not None:
        _need("sys.log", "timeout", timeout, "integer", "double")
    kind, value = given[0]
    if kind == "json":
        _need("sys.log", "json", value, "map")
    else:
        _need("sys.log", kind, value, *_LOGGABLE)
    as_json = kind == "json" or (kind == "data" and isinstance(value, dict))
    rt.log(severity, value if as_json else _log_text(value))


def _log_text(value: Any) -> str:
    return value if isinstance(value, str) else to_json_text(value, None)


# ------------------------------------------------------------------------------------- events
# https://cloud.google.com/workflows/docs/reference/stdlib/events/create_callback_endpoint:
# "Returns A map object with a url field that stores the URL of the created endpoint."; "ValueError
# In case of invalid input values. TypeError In case of invalid input types." The method is "one
# of GET, HEAD, POST, PUT, DELETE, OPTIONS, or PATCH. The default is POST"
# (https://cloud.google.com/workflows/docs/creating-callback-endpoints).
# .../events/await_callback: "timeout float The maximum request timeout in seconds (default:
# 43200.0)."; "Returns The callback request received."; "TimeoutError In case of a timeout."
# Both are blocking here (call steps only): the pages do not say either may run inside ${}.
CALLBACK_METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH")
CALLBACK_TIMEOUT = 43200.0


@builtin(
    "events.create_callback_endpoint",
    ("http_callback_method", "POST"),
    runtime=True,
    call_only=True,
)
def _create_callback_endpoint(rt: Runtime, method: Any) -> dict[str, Any]:
    _need("events.create_callback_endpoint", "http_callback_method", method, "string")
    if method not in CALLBACK_METHODS:
        raise fail(
            "ValueError",
            f"events.create_callback_endpoint: http_callback_method must be one of "
            f"{', '.join(CALLBACK_METHODS)}, not {method}",
        )
    return {"url": rt.create_callback(method)}


@builtin(
    "events.await_callback",
    "callback",
    ("timeout", CALLBACK_TIMEOUT),
    runtime=True,
    call_only=True,
)
def _await_callback(rt: Runtime, callback: Any, timeout: Any) -> dict[str, Any]:
    _need("events.await_callback", "callback", callback, "map")
    url = callback.get("url")
    if not isinstance(url, str):
        raise fail("TypeError", "events.await_callback: callback must be a map with a url string")
    _need("events.await_callback", "timeout", timeout, "integer", "double")
    if timeout < 0:
        raise fail("ValueError", f"events.await_callback: timeout must not be negative: {timeout}")
    request = rt.await_callback(url, float(timeout))
    if request is None:
        raise fail("TimeoutError", f"events.await_callback: no callback within {timeout} s")
    return request


@builtin("sys.now", runtime=True)
def _now(rt: Runtime) -> float:
    return rt.now()


# https://cloud.google.com/workflows/docs/reference/stdlib/sys/sleep: "Suspends execution for
# the given number of seconds. Maximum is 31536000 (one year)." .../sys/sleep_until: "Suspends
# execution until the given time. The latest allowed time is one year from now."; "TypeError If
# time is not a string. ValueError If time is not ISO 8601-compatible." The pages name no error
# for a longer sleep: the engine raises ValueError.
MAX_SLEEP_SECONDS = 31_536_000


@builtin("sys.sleep", "seconds", runtime=True, call_only=True)
def _sleep(rt: Runtime, seconds: Any) -> None:
    _need("sys.sleep", "seconds", seconds, "integer", "double")
    if not 0 <= seconds <= MAX_SLEEP_SECONDS:
        raise fail("ValueError", f"sys.sleep: seconds must be 0..{MAX_SLEEP_SECONDS} (one year)")
    rt.sleep(float(seconds))


@builtin("sys.sleep_until", "time", runtime=True, call_only=True)
def _sleep_until(rt: Runtime, when: Any) -> None:
    _need("sys.sleep_until", "time", when, "string")
    target = _parse_time(when)
    wait = target - rt.now()
    if wait > MAX_SLEEP_SECONDS:
        raise fail("ValueError", f"sys.sleep_until: {when} is more than one year from now")
    rt.sleep(max(0.0, wait))


# ---------------------------------------------------------------------------------------- text


def _regex(fn: str, pattern: Any) -> Any:
    """A compiled pattern with leftmost-longest matching: text.find_all_regex's page ("If the
    overlapping matches start at the same index, then the longest match is considered") and
    replace_all_regex's ("if multiple matches start at the same index, then the longest one is
    replaced"). Python's `re` takes the first alternative instead, so `regex` in POSIX mode."""
    _need(fn, "regexp", pattern, "string")
    import regex  # ~40 ms to import: paid by a workflow that matches text, not by `check`

    try:
        return regex.compile(pattern, flags=regex.POSIX)
    except regex.error as err:
        raise fail("ValueError", f"{fn}: bad regular expression {pattern!r}: {err}") from None


@builtin("text.decode", "data", ("charset", "UTF-8"))
def _decode(data: Any, charset: Any) -> str:
    # https://cloud.google.com/workflows/docs/reference/stdlib/text/decode: "Each byte that
    # cannot be correctly decoded using the specified charset is represented in the output by
    # the \uFFFD codepoint."; "ValueError If the charset is unsupported."
    _need("text.decode", "data", data, "bytes")
    _need("text.decode", "charset", charset, "string")
    try:
        return data.decode(charset, errors="replace")
    except LookupError as err:
        raise fail("ValueError", f"text.decode: unsupported charset {charset!r}: {err}") from None


@builtin("text.encode", "text", ("charset", "UTF-8"))
def _encode(text: Any, charset: Any) -> bytes:
    _need("text.encode", "text", text, "string")
    try:
        return text.encode(charset)
    except (LookupError, UnicodeEncodeError) as err:
        raise fail("ValueError", f"text.encode: {err}") from None


@builtin("text.find_all", "source", "substr")
def _find_all(source: Any, substr: Any) -> list[int]:
    # https://cloud.google.com/workflows/docs/reference/stdlib/text/find_all: "Finds the index
    # of all instances of a substring in a string. The string is indexed over code points using
    # a zero-based index. Only non-overlapping matches are found, starting from the leftmost
    # match."; "Returns A sorted list of indexes". An empty substr is not described: ValueError.
    _need("text.find_all", "source", source, "string")
    _need("text.find_all", "substr", substr, "string")
    if not substr:
        raise fail("ValueError", "text.find_all: substr must not be empty")
    found, i = [], source.find(substr)
    while i >= 0:
        found.append(i)
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
    # https://cloud.google.com/workflows/docs/reference/stdlib/text/replace_all: "In the case of
    # overlapping matches the leftmost instance is replaced. If the expression is empty, it
    # matches at the beginning of the string and after each code point, yielding up to k+1
    # replacements for a string with k code points." (str.replace does exactly that.)
    return source.replace(substr, repl)


@builtin("text.replace_all_regex", "source", "regexp", "repl")
def _replace_all_regex(source: Any, regexp: Any, repl: Any) -> str:
    _need("text.replace_all_regex", "source", source, "string")
    _need("text.replace_all_regex", "repl", repl, "string")
    pattern = _regex("text.replace_all_regex", regexp)
    # https://cloud.google.com/workflows/docs/reference/stdlib/text/replace_all_regex:
    # "Backreferences are not supported. For example, you can't use the expression \1 to refer
    # to text previously matched by a capturing group." So `repl` is inserted literally.
    return pattern.sub(lambda _match: repl, source)


@builtin("text.split", "source", "separator")
def _split(source: Any, separator: Any) -> list[str]:
    # https://cloud.google.com/workflows/docs/reference/stdlib/text/split: "ValueError If
    # separator is an empty string"; "In the case of overlapping instances of the separator,
    # the leftmost match is considered"; "Empty substrings are included in the list."
    _need("text.split", "source", source, "string")
    _need("text.split", "separator", separator, "string")
    if separator == "":
        raise fail("ValueError", "text.split: separator must not be an empty string")
    return source.split(separator)


# https://cloud.google.com/workflows/docs/reference/stdlib/text/substring: "Extracts the
# substring between two zero-based indexes of a source string. A negative index is considered
# an offset from the end of the string. If an index is outside of the source string's range,
# it is clamped to the bounds of the range." Examples: ("hello", 2, 4) -> "ll",
# ("hello", -10, 10) -> "hello". A start after the end (once resolved) is not described: the
# engine raises ValueError rather than guess.


@builtin("text.substring", "source", "start", "end")
def _substring(source: Any, start: Any, end: Any) -> str:
    _need("text.substring", "source", source, "string")
    _need("text.substring", "start", start, "integer")
    _need("text.substring", "end", end, "integer")
    size = len(source)

    def resolve(index: int) -> int:
        return min(max(index + size if index < 0 else index, 0), size)

    first, last = resolve(start), resolve(end)
    if first > last:
        raise fail(
            "ValueError",
            f"text.substring: start {start} is after end {end} in a string of length {size}",
        )
    return source[first:last]


@builtin("text.to_lower", "source")
def _to_lower(source: Any) -> str:
    _need("text.to_lower", "source", source, "string")
    return source.lower()


@builtin("text.to_upper", "source")
def _to_upper(source: Any) -> str:
    _need("text.to_upper", "source", source, "string")
    return source.upper()


# https://cloud.google.com/workflows/docs/reference/stdlib/text/url_encode (and
# url_encode_plus): "The reserved characters in the original string are replaced with their
# percent-escaped representation (%xx). Letters, digits, and the characters .-_ are not
# escaped." (so `~` is escaped); url_encode_plus also has "spaces replaced by pluses (+)".
# .../text/url_decode: "Plus signs (+) are replaced with spaces. Percent-encoded sequences are
# converted into UTF-8."; "ValueError If source contains any % not followed by two hexadecimal
# characters." Invalid UTF-8 after decoding is not described: ValueError.
_URL_SAFE = ".-_"
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


@builtin("text.url_decode", "source")
def _url_decode(source: Any) -> str:
    _need("text.url_decode", "source", source, "string")
    bad = _BAD_PERCENT.search(source)
    if bad:
        raise fail(
            "ValueError",
            f"text.url_decode: % at index {bad.start()} is not followed by two hex digits",
        )
    try:
        return urllib.parse.unquote_plus(source, errors="strict")
    except UnicodeDecodeError as err:
        raise fail("ValueError", f"text.url_decode: not UTF-8 once decoded: {err}") from None


@builtin("text.url_encode", "source")
def _url_encode(source: Any) -> str:
    _need("text.url_encode", "source", source, "string")
    # Python always leaves `~` unescaped; the page's safe set does not include it.
    return urllib.parse.quote(source, safe=_URL_SAFE).replace("~", "%7E")


@builtin("text.url_encode_plus", "source")
def _url_encode_plus(source: Any) -> str:
    _need("text.url_encode_plus", "source", source, "string")
    return urllib.parse.quote_plus(source, safe=_URL_SAFE).replace("~", "%7E")


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


# https://cloud.google.com/workflows/docs/reference/stdlib/json/encode (and encode_to_string):
# "If indent is provided, it must be either a boolean, or a dictionary with two optional string
# attributes: prefix (defaulting to an empty string), and indent (defaulting to four spaces).
# Setting indent to true is equivalent to setting it to an empty dictionary. Setting indent to
# false is equivalent to not setting it." ... "each JSON element begins on a new line beginning
# with prefix and followed by zero or more copies of indent according to the structural
# nesting." Raises "ValueError If the input contains types that cannot be JSON-encoded.
# Examples of such types include callable and bytes."


@builtin("json.encode", "data", ("indent", None))
def _json_encode(data: Any, indent: Any) -> bytes:
    return _json_text("json.encode", data, indent).encode()


@builtin("json.encode_to_string", "data", ("indent", None))
def _json_encode_to_string(data: Any, indent: Any) -> str:
    return _json_text("json.encode_to_string", data, indent)


def _json_text(fn: str, data: Any, indent: Any) -> str:
    prefix, unit = _indentation(fn, indent)
    try:
        text = to_json_text(data, unit)
    except WorkflowError as err:
        raise fail("ValueError", f"{fn}: {err.value['message']}") from None
    return text.replace("\n", "\n" + prefix) if prefix else text


def _indentation(fn: str, indent: Any) -> tuple[str, str | None]:
    """(prefix, indent unit) from the `indent` argument; no unit means one line."""
    if indent is None or indent is False:
        return "", None
    if indent is True:
        indent = {}
    _need(fn, "indent", indent, "bool", "map")
    unknown = sorted(set(indent) - {"prefix", "indent"})
    if unknown:
        raise fail("TypeError", f"{fn}: indent has no attribute(s) {', '.join(unknown)}")
    prefix, unit = indent.get("prefix", ""), indent.get("indent", "    ")
    _need(fn, "indent.prefix", prefix, "string")
    _need(fn, "indent.indent", unit, "string")
    return prefix, unit


@builtin("base64.decode", "data", ("padding", True))
def _b64decode(data: Any, padding: Any) -> bytes:
    # https://cloud.google.com/workflows/docs/reference/stdlib/base64/decode: "The carriage
    # return (\r) and newline (\n) characters in the input are ignored."; ValueError "If
    # characters outside of the Base64 alphabet are encountered, or if padding == true and the
    # input is not aligned to a multiple of 4 bytes."
    _need("base64.decode", "data", data, "string")
    _need("base64.decode", "padding", padding, "bool")
    data = data.replace("\r", "").replace("\n", "")
    text = data if padding else data + "=" * (-len(data) % 4)
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as err:
        raise fail("ValueError", f"base64.decode: {err}") from None


@builtin("base64.encode", "data", ("padding", True))
def _b64encode(data: Any, padding: Any) -> str:
    _need("base64.encode", "data", data, "bytes")
    _need("base64.encode", "padding", padding, "bool")
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


# https://cloud.google.com/workflows/docs/reference/stdlib/time/format: "timezone ... A
# timezone name from the tz database ... If not specified or if an empty string, the default
# is UTC."; "Returns A timestamp string in ISO 8601 format, up to a microsecond precision",
# with the page's examples `time.format(1720788633, "GMT")` -> "2024-07-12T12:50:33.000000Z"
# and `time.format(1720788633, "Europe/Paris")` -> "2024-07-12T14:50:33.000000+02:00": six
# fraction digits always, `Z` at offset zero, else `+HH:MM`.


def _zone(name: Any) -> Any:
    _need("time.format", "timezone", name, "string")
    if name == "":
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise fail(
            "ValueError", f"time.format: unknown time zone {name!r} (use a tz database name)"
        ) from None


@builtin("time.format", "seconds", ("timezone", ""))
def _time_format(seconds: Any, timezone: Any) -> str:
    _numbers("time.format", ("seconds", seconds))
    zone = _zone(timezone)
    try:
        moment = datetime.fromtimestamp(seconds, tz=zone)
    except (OverflowError, OSError, ValueError) as err:
        raise fail("ValueError", f"time.format: {seconds} is out of range: {err}") from None
    text = moment.strftime("%Y-%m-%dT%H:%M:%S.%f")
    offset = moment.utcoffset()
    if not offset:
        return text + "Z"
    sign, minutes = ("+" if offset.total_seconds() >= 0 else "-"), abs(offset.total_seconds()) // 60
    return f"{text}{sign}{int(minutes // 60):02d}:{int(minutes % 60):02d}"


# https://cloud.google.com/workflows/docs/reference/stdlib/time/parse: "value ... A string
# formatted according to the subset of ISO 8601 defined by RFC 3339 section 5.6, with up to a
# microsecond precision."; returns "a floating point number in seconds since epoch"; "TypeError
# If time is not a string. ValueError If time is not compatible with RFC 3339 section 5.6."
# RFC 3339 5.6: full-date "T" full-time, time-offset "Z" or +/-hh:mm (T and Z in any case).
_RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?(?:[Zz]|[+-]\d{2}:\d{2})\Z"
)


def _parse_time(value: Any) -> float:
    _need("time.parse", "value", value, "string")
    if not _RFC3339.match(value):
        raise fail(
            "ValueError",
            f"time.parse: {value!r} is not an RFC 3339 timestamp (YYYY-MM-DDTHH:MM:SS[.ffffff] "
            "and Z or +HH:MM)",
        )
    try:
        moment = datetime.fromisoformat(value.upper())
    except ValueError as err:
        raise fail("ValueError", f"time.parse: {value!r} is not a real time: {err}") from None
    return moment.timestamp()


@builtin("time.parse", "value")
def _time_parse(value: Any) -> float:
    return _parse_time(value)


@builtin("uuid.generate")
def _uuid() -> str:
    return str(uuid.uuid4())


# ------------------------------------------------------------------------------------------ hash

# https://cloud.google.com/workflows/docs/reference/stdlib/hash/compute_checksum (and
# compute_hmac): "Supported algorithms: MD5, SHA1, SHA224, SHA256, SHA384, SHA512." Names are
# matched as written there (the page does not say other spellings work); "ValueError If the
# provided hashing algorithm is not supported", TypeError for data (or key) not bytes.
_ALGORITHMS = {
    "MD5": "md5",
    "SHA1": "sha1",
    "SHA224": "sha224",
    "SHA256": "sha256",
    "SHA384": "sha384",
    "SHA512": "sha512",
}


def _algorithm(fn: str, name: Any) -> str:
    _need(fn, "algorithm", name, "string")
    if name not in _ALGORITHMS:
        raise fail("ValueError", f"{fn}: algorithm must be one of {', '.join(_ALGORITHMS)}")
    return _ALGORITHMS[name]


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


# https://cloud.google.com/workflows/docs/reference/stdlib/http/default_retry_predicate:
# "Retries on 429 (Too Many Requests), 502 (Bad Gateway), 503 (Service unavailable), and 504
# (Gateway Timeout), as well as on any ConnectionError, ConnectionFailedError, and
# TimeoutError." .../http/default_retry_non_idempotent: "Retries on 429 (Too Many Requests)
# and 503 (Service Unavailable), as well as on ConnectionFailedError." Both use "max_retries
# of 5, and backoff as per retry.default_backoff".


@builtin("http.default_retry_predicate", "e")
def _default_retry_predicate(e: Any) -> bool:
    tags = _tags(e)
    if {"ConnectionError", "ConnectionFailedError", "TimeoutError"} & set(tags):
        return True
    return "HttpError" in tags and _http_code(e) in (429, 502, 503, 504)


@builtin("http.default_retry_predicate_non_idempotent", "e")
def _default_retry_predicate_non_idempotent(e: Any) -> bool:
    tags = _tags(e)
    if "ConnectionFailedError" in tags:
        return True
    return "HttpError" in tags and _http_code(e) in (429, 503)


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
