"""Typed records: frozen dataclasses whose fields are checked (and coerced) by their annotations
when built, read from JSON, and written back in the exact layout pydantic v2 wrote.

What the manifests, attempt records and settings need, without pydantic (whose import and
model building cost every step process ~45 ms): a record validates in `__post_init__` (call
`validate(self)` there), so a bad value fails where it is made, naming the field's path
(`files.0.rows`). Coercion is pydantic's lax mode where it matters here: a list for a tuple, a
numeric string for a number, an ISO string for a date, a string for a Path. `dump` writes
pydantic's `model_dump_json(indent=2)` bytes (the layout downstream digests): fields in
declaration order, 2-space indent, UTF-8 unescaped, dates ISO, a UTC datetime with `Z`, floats
as pydantic-core formats them, non-finite floats as null.
"""

from __future__ import annotations

import json
import math
import re
import types
import typing
from collections.abc import Callable
from dataclasses import MISSING, fields, is_dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any, Literal, Self, TypeVar, Union

T = TypeVar("T")
_NUMBER = re.compile(r"\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*")
_encode_string = json.encoder.encode_basestring  # type: ignore[attr-defined]  # ensure_ascii=False


class RecordError(ValueError):
    """A value that does not fit its field: `loc` is the path to it, `msg` what is wrong."""

    def __init__(self, loc: tuple[str | int, ...], msg: str) -> None:
        self.loc = loc
        self.msg = msg
        super().__init__(f"{self.where}: {msg}")

    @property
    def where(self) -> str:
        """The dotted path to the value (`document` for the whole input)."""
        return ".".join(str(p) for p in self.loc) or "document"

    def within(self, *outer: str | int) -> RecordError:
        """The same problem, seen from a record that holds this one at `outer`."""
        return RecordError((*outer, *self.loc), self.msg)


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def validate(record: Any) -> None:
    """Check and coerce every field of the frozen dataclass `record` in place (call from its
    `__post_init__`); RecordError naming the first field that does not fit."""
    hints = _hints(type(record))
    for f in fields(record):
        value = convert(hints[f.name], getattr(record, f.name), (f.name,))
        bounds = f.metadata
        if "ge" in bounds and value is not None and value < bounds["ge"]:
            raise RecordError((f.name,), f"Input should be greater than or equal to {bounds['ge']}")
        if "le" in bounds and value is not None and value > bounds["le"]:
            raise RecordError((f.name,), f"Input should be less than or equal to {bounds['le']}")
        object.__setattr__(record, f.name, value)


def build(cls: type[T], data: Any, loc: tuple[str | int, ...] = ()) -> T:
    """A `cls` from a decoded JSON object (unknown keys ignored, missing required ones named)."""
    if isinstance(data, cls):
        return data
    if not isinstance(data, dict):
        raise RecordError(loc, f"Input should be an object (a {cls.__name__})")
    known = {f.name: f for f in fields(cls)}  # type: ignore[arg-type]
    for name, f in known.items():
        if name not in data and f.default is MISSING and f.default_factory is MISSING:
            raise RecordError((*loc, name), "Field required")
    try:
        return cls(**{k: v for k, v in data.items() if k in known})
    except RecordError as err:
        raise err.within(*loc) from err


def parse(cls: type[T], data: bytes | str) -> T:
    """The `cls` record in the JSON document `data`; RecordError when it is not one."""
    try:
        decoded = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise RecordError((), f"Invalid JSON: {err}") from err
    return build(cls, decoded)


def _union(hint: Any, value: Any, loc: tuple[str | int, ...]) -> Any:
    options = typing.get_args(hint)
    if value is None and type(None) in options:
        return None
    first: RecordError | None = None
    for option in (o for o in options if o is not type(None)):
        try:
            return convert(option, value, loc)
        except RecordError as err:
            first = first or err
    raise first or RecordError(loc, "Input should not be null")


def _sequence(hint: Any, value: Any, loc: tuple[str | int, ...]) -> Any:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if not isinstance(value, list | tuple):
        raise RecordError(loc, f"Input should be a valid {origin.__name__}")
    items = [convert(args[0], v, (*loc, i)) for i, v in enumerate(value)]
    return tuple(items) if origin is tuple else items


def _mapping(hint: Any, value: Any, loc: tuple[str | int, ...]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise RecordError(loc, "Input should be a valid dictionary")
    _, item = typing.get_args(hint)
    for key in value:
        if not isinstance(key, str):
            raise RecordError((*loc, str(key)), "Keys should be strings")
    return {k: convert(item, v, (*loc, k)) for k, v in value.items()}


def _number(kind: type, value: Any, loc: tuple[str | int, ...]) -> Any:
    name = "integer" if kind is int else "number"
    if isinstance(value, str) and _NUMBER.fullmatch(value):  # lax, as pydantic: "12" is 12
        value = int(value) if kind is int and value.strip().lstrip("+-").isdigit() else float(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RecordError(loc, f"Input should be a valid {name}")
    if kind is int:
        if isinstance(value, float) and not value.is_integer():
            raise RecordError(
                loc, "Input should be a valid integer, got a number with a fractional part"
            )
        return int(value)
    return float(value)


def _temporal(kind: type, value: Any, loc: tuple[str | int, ...]) -> Any:
    name = "datetime" if kind is datetime else "date"
    if kind is date and isinstance(value, date) and not isinstance(value, datetime):
        return value
    if kind is datetime and isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return kind.fromisoformat(value)
        except ValueError as err:
            raise RecordError(loc, f"Input should be a valid {name}: {err}") from err
    raise RecordError(loc, f"Input should be a valid {name}")


def _string(value: Any, loc: tuple[str | int, ...]) -> str:
    if not isinstance(value, str):
        raise RecordError(loc, "Input should be a valid string")
    return value


def _boolean(value: Any, loc: tuple[str | int, ...]) -> bool:
    if not isinstance(value, bool):
        raise RecordError(loc, "Input should be a valid boolean")
    return value


def _path(value: Any, loc: tuple[str | int, ...]) -> Path:
    if not isinstance(value, str | Path):
        raise RecordError(loc, "Input should be a valid path")
    return Path(value)


_SCALARS: dict[Any, Callable[[Any, tuple[str | int, ...]], Any]] = {
    int: lambda v, loc: _number(int, v, loc),
    float: lambda v, loc: _number(float, v, loc),
    date: lambda v, loc: _temporal(date, v, loc),
    datetime: lambda v, loc: _temporal(datetime, v, loc),
    str: _string,
    bool: _boolean,
    Path: _path,
    object: lambda v, _: v,
    Any: lambda v, _: v,
}


def _scalar(hint: Any, value: Any, loc: tuple[str | int, ...]) -> Any:
    rule = _SCALARS.get(hint)
    if rule is not None:
        return rule(value, loc)
    if is_dataclass(hint):
        return build(hint, value, loc)  # type: ignore[arg-type]
    raise TypeError(f"typed_record: no rule for field type {hint!r}")


def convert(hint: Any, value: Any, loc: tuple[str | int, ...] = ()) -> Any:
    """`value` as the annotation `hint` wants it (RecordError at `loc` when it cannot be)."""
    origin = typing.get_origin(hint)
    if origin is Union or origin is types.UnionType:
        return _union(hint, value, loc)
    if origin is Literal:
        allowed = typing.get_args(hint)
        if value not in allowed:
            wanted = " or ".join(repr(a) for a in allowed)
            raise RecordError(loc, f"Input should be {wanted}")
        return value
    if origin is tuple or origin is list:
        return _sequence(hint, value, loc)
    if origin is dict:
        return _mapping(hint, value, loc)
    return _scalar(hint, value, loc)


def _moment(value: datetime) -> str:
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def plain(value: Any) -> Any:
    """`value` as JSON-ready Python (records to dicts in field order, tuples to lists, dates,
    datetimes and paths to strings): what pydantic's `model_dump(mode="json")` returned."""
    if value is None or isinstance(value, str | int | float):
        return value
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, date | Path):
        return _moment(value) if isinstance(value, datetime) else str(value)
    raise TypeError(f"cannot write a {type(value).__name__} as JSON")


def float_text(number: float) -> str:
    """A float as pydantic-core writes it: the shortest repr, but `0.0000d` (not `de-05`) for
    exponent -5, exponents without leading zeros (`1e-7`), and null when not finite."""
    if not math.isfinite(number):
        return "null"
    text = repr(number)
    mantissa, _, exponent = text.partition("e")
    if not exponent:
        return text
    power = int(exponent)
    if power == -5:
        sign, digits = ("-", mantissa[1:]) if mantissa.startswith("-") else ("", mantissa)
        return f"{sign}0.0000{digits.replace('.', '')}"
    return f"{mantissa}e{'+' if power > 0 else '-'}{abs(power)}"


def _emit(value: Any, indent: str, out: list[str]) -> None:
    if isinstance(value, dict):
        items, brackets = [(f"{_encode_string(k)}: ", v) for k, v in value.items()], "{}"
    elif isinstance(value, list):
        items, brackets = [("", v) for v in value], "[]"
    else:
        out.append(_scalar_text(value))
        return
    if not items:
        out.append(brackets)
        return
    inner = indent + "  "
    out.append(brackets[0])
    for i, (label, item) in enumerate(items):
        out.append(f"{',' if i else ''}\n{inner}{label}")
        _emit(item, inner, out)
    out.append(f"\n{indent}{brackets[1]}")


def _scalar_text(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return _encode_string(value)
    if isinstance(value, int):
        return str(int(value))
    return float_text(value)


def dump(record: Any) -> bytes:
    """The record as pydantic's `model_dump_json(indent=2)` wrote it (the exact bytes)."""
    out: list[str] = []
    _emit(plain(record), "", out)
    return "".join(out).encode()


class Record:
    """A base for the frozen dataclasses that are records: checked when built (`validate`),
    written as pydantic wrote them (`to_bytes`), read back from JSON (`from_bytes`)."""

    def __post_init__(self) -> None:
        validate(self)

    def to_bytes(self) -> bytes:
        """The record's exact bytes (what downstream steps digest, for a manifest)."""
        return dump(self)

    @classmethod
    def from_bytes(cls, data: bytes | str) -> Self:
        """The record in the JSON `data`; RecordError naming the field when it is not one."""
        return parse(cls, data)
