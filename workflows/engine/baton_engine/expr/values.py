"""Workflow values in Python: None, bool, int, float, str, bytes, list, dict (string keys).

Values are never mutated in place: an assignment to `m.k` or `l[i]` builds new containers
along the path, so sharing a value between variables is as safe as Workflows' copy semantics.
"""

from __future__ import annotations

import base64
import json
import math
from typing import Any

from baton_engine.errors import fail

INT_MIN, INT_MAX = -(2**63), 2**63 - 1


class FunctionRef:
    """A function or subworkflow named in an expression without calling it (retry predicates)."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"<function {self.name}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FunctionRef) and other.name == self.name

    def __hash__(self) -> int:
        return hash(self.name)


_TYPE_NAMES: dict[type, str] = {
    type(None): "null",
    bool: "bool",
    int: "integer",
    float: "double",
    str: "string",
    bytes: "bytes",
    list: "list",
    dict: "map",
    FunctionRef: "function",
}


def type_name(value: Any) -> str:
    """The name `get_type` returns for a value."""
    try:
        return _TYPE_NAMES[type(value)]
    except KeyError:
        raise TypeError(f"not a workflow value: {value!r}") from None


def is_number(value: Any) -> bool:
    """int or double, never bool."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def check_int(value: int) -> int:
    """An int result must fit 64 bits."""
    if not INT_MIN <= value <= INT_MAX:
        raise fail("ValueError", f"integer overflow: {value} does not fit 64 bits")
    return value


def format_double(value: float) -> str:
    """A double as `string()` writes it: shortest round-trip digits (1.5, 2.0, 1e+21)."""
    if not math.isfinite(value):
        return {math.inf: "Infinity", -math.inf: "-Infinity"}.get(value, "NaN")
    return repr(value)


def scalar_text(value: Any) -> str | None:
    """The text of an integer, double, boolean or string (as `string()` and `+` write it);
    None for any other type."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return format_double(value)
    if isinstance(value, int | str):
        return str(value)
    return None


def equal(a: Any, b: Any) -> bool:
    """Deep equality: int and double compare by value, other types never equal each other."""
    if is_number(a) and is_number(b):
        return a == b
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(equal(v, b[k]) for k, v in a.items())
    return a == b


def from_json(data: Any) -> Any:
    """A value from parsed JSON or YAML: keys become strings, tuples lists."""
    if isinstance(data, dict):
        return {str(k): from_json(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [from_json(v) for v in data]
    return data


def to_json_text(value: Any, indent: int | str | None = None) -> str:
    """JSON text of a value; bytes cannot be encoded (Workflows cannot return bytes either)."""

    def default(obj: Any) -> Any:
        if isinstance(obj, bytes):
            raise fail("TypeError", "bytes cannot be JSON-encoded; use base64.encode")
        if isinstance(obj, FunctionRef):
            raise fail("TypeError", f"function {obj.name} cannot be JSON-encoded")
        raise fail("TypeError", f"cannot JSON-encode {obj!r}")

    try:
        return json.dumps(
            value, default=default, indent=indent, ensure_ascii=False, allow_nan=False
        )
    except ValueError as err:
        raise fail("ValueError", f"cannot JSON-encode: {err}") from err


def printable(value: Any) -> Any:
    """A JSON-safe rendering for records and logs (bytes as base64, functions by name)."""
    if isinstance(value, dict):
        return {k: printable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [printable(v) for v in value]
    if isinstance(value, bytes):
        return {"bytes_base64": base64.b64encode(value).decode()}
    if isinstance(value, FunctionRef):
        return f"<function {value.name}>"
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value
