"""Evaluates expressions: compiles a syntax tree once into a Python closure; no eval/exec.

Types follow the documented rules: `+ - *` keep ints as ints (64-bit) and promote to double
when either side is a double; `/` always gives a double; `+` with a string on either side
concatenates, converting an integer, double or boolean on the other side (the `+` table of
https://cloud.google.com/workflows/docs/reference/syntax/datatypes, "Implicit data type
conversions"); `and`, `or` and `not` take booleans only; `in` tests a map's keys or a list's
elements.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from typing import Any, Protocol

from baton_engine.errors import fail
from baton_engine.expr.nodes import (
    Attr,
    Binary,
    Call,
    Index,
    ListLit,
    Literal,
    Logical,
    MapLit,
    Name,
    Node,
    Unary,
    dotted,
)
from baton_engine.expr.parser import parse
from baton_engine.expr.values import check_int, equal, is_number, scalar_text, type_name


class Context(Protocol):
    """What an expression can see: variables, functions and subworkflows."""

    def lookup(self, name: str) -> Any:
        """A variable's value; a KeyError-tagged workflow error when it is not defined."""

    def defined(self, name: str) -> bool:
        """Whether a variable of that name is in scope."""

    def call(self, function: str, args: list[Any]) -> Any:
        """Call a function or subworkflow with positional arguments."""

    def reference(self, name: str) -> Any:
        """A named function, subworkflow or library value (`http.default_retry`)."""

    def known(self, name: str) -> bool:
        """Whether `reference(name)` names something (a function, subworkflow or value)."""


Compiled = Callable[[Context], Any]


def _kind(value: Any) -> str:
    return type_name(value)


_ARITHMETIC: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "//": operator.floordiv,
    "%": operator.mod,
}
_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def concatenate(a: Any, b: Any) -> str:
    """`+` with a string on one side: the datatypes page's `+` table gives STRING for a string
    with an integer, double, boolean or string, in either order; every other type (null, list,
    map, bytes) is not in the table, so it is an error rather than a guess."""
    left, right = scalar_text(a), scalar_text(b)
    if left is None or right is None:
        raise fail(
            "TypeError",
            f"unsupported operand types for +: {_kind(a)} and {_kind(b)}; a string joins only "
            "an integer, double, boolean or string",
        )
    return left + right


def arithmetic(op: str, a: Any, b: Any) -> Any:
    """`+ - * / // %` with the Workflows type rules."""
    if op == "+" and (isinstance(a, str) or isinstance(b, str)):
        return concatenate(a, b)
    if not (is_number(a) and is_number(b)):
        raise fail("TypeError", f"unsupported operand types for {op}: {_kind(a)} and {_kind(b)}")
    if op in ("/", "//", "%") and b == 0:
        raise fail("ZeroDivisionError", f"division by zero in {a} {op} {b}")
    result = _ARITHMETIC[op](a, b)
    if op == "/":
        return float(result)
    if isinstance(a, int) and isinstance(b, int):
        return check_int(result)
    if math.isinf(result):
        raise fail("ValueError", f"double overflow in {a} {op} {b}")
    return float(result)


def compare(op: str, a: Any, b: Any) -> bool:
    """`== != < <= > >= in`."""
    if op == "==":
        return equal(a, b)
    if op == "!=":
        return not equal(a, b)
    if op == "in":
        return contains(b, a)
    comparable = (is_number(a) and is_number(b)) or (
        type(a) is type(b) and isinstance(a, str | bytes)
    )
    if not comparable:
        raise fail("TypeError", f"cannot compare {_kind(a)} {op} {_kind(b)}")
    return _ORDER[op](a, b)


def contains(container: Any, item: Any) -> bool:
    """`item in container`: a map's keys or a list's elements."""
    if isinstance(container, dict):
        return isinstance(item, str) and item in container
    if isinstance(container, list):
        return any(equal(item, x) for x in container)
    raise fail("TypeError", f"'in' needs a list or a map on the right, not {_kind(container)}")


def get_property(obj: Any, name: str) -> Any:
    """`obj.name`: a map key, KeyError when missing."""
    if not isinstance(obj, dict):
        raise fail("TypeError", f"cannot read property {name!r} of a {_kind(obj)}")
    try:
        return obj[name]
    except KeyError:
        raise fail("KeyError", f"key not found: {name}") from None


def get_item(obj: Any, index: Any) -> Any:
    """`obj[index]`: a list element (IndexError) or a map key (KeyError)."""
    if isinstance(obj, list):
        if not isinstance(index, int) or isinstance(index, bool):
            raise fail("TypeError", f"list index must be an integer, not {_kind(index)}")
        if not 0 <= index < len(obj):
            raise fail("IndexError", f"list index {index} out of range (length {len(obj)})")
        return obj[index]
    if isinstance(obj, dict):
        if not isinstance(index, str):
            raise fail("TypeError", f"map key must be a string, not {_kind(index)}")
        return get_property(obj, index)
    raise fail("TypeError", f"cannot index a {_kind(obj)}")


def _need_bool(op: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise fail("TypeError", f"'{op}' needs booleans, not {_kind(value)}")
    return value


def _compile_name(node: Name) -> Compiled:
    name = node.name

    def run(ctx: Context) -> Any:
        if ctx.defined(name):
            return ctx.lookup(name)
        return ctx.reference(name)

    return run


def _compile_attr(node: Attr) -> Compiled:
    path = dotted(node)
    obj, name = compile_node(node.obj), node.name
    if path is None:
        return lambda ctx: get_property(obj(ctx), name)
    root = path.split(".", 1)[0]

    head = path.rsplit(".", 1)[0]

    def run(ctx: Context) -> Any:
        if ctx.defined(root):
            return get_property(obj(ctx), name)
        if "." in head and not ctx.known(path):
            # A field of a library value: `http.default_retry.max_retries`.
            return get_property(obj(ctx), name)
        return ctx.reference(path)

    return run


def _compile_call(node: Call) -> Compiled:
    function, args = node.function, tuple(compile_node(a) for a in node.args)
    return lambda ctx: ctx.call(function, [a(ctx) for a in args])


def _compile_unary(node: Unary) -> Compiled:
    operand = compile_node(node.operand)
    if node.op == "not":
        return lambda ctx: not _need_bool("not", operand(ctx))

    def negate(ctx: Context) -> Any:
        value = operand(ctx)
        if not is_number(value):
            raise fail("TypeError", f"unary minus needs a number, not {_kind(value)}")
        return check_int(-value) if isinstance(value, int) else -value

    return negate


def _compile_logical(node: Logical) -> Compiled:
    left, right, op = compile_node(node.left), compile_node(node.right), node.op
    if op == "and":
        return lambda ctx: _need_bool(op, left(ctx)) and _need_bool(op, right(ctx))
    return lambda ctx: _need_bool(op, left(ctx)) or _need_bool(op, right(ctx))


def _compile_binary(node: Binary) -> Compiled:
    left, right, op = compile_node(node.left), compile_node(node.right), node.op
    if op in ("==", "!=", "<", "<=", ">", ">=", "in"):
        return lambda ctx: compare(op, left(ctx), right(ctx))
    return lambda ctx: arithmetic(op, left(ctx), right(ctx))


def _compile_literal(node: Literal) -> Compiled:
    value = node.value
    return lambda ctx: value


def _compile_list(node: ListLit) -> Compiled:
    items = tuple(compile_node(i) for i in node.items)
    return lambda ctx: [i(ctx) for i in items]


def _compile_map(node: MapLit) -> Compiled:
    pairs = tuple((k, compile_node(v)) for k, v in node.pairs)
    return lambda ctx: {k: v(ctx) for k, v in pairs}


def _compile_index(node: Index) -> Compiled:
    obj, index = compile_node(node.obj), compile_node(node.index)
    return lambda ctx: get_item(obj(ctx), index(ctx))


_COMPILERS: dict[type, Callable[[Any], Compiled]] = {
    Literal: _compile_literal,
    ListLit: _compile_list,
    MapLit: _compile_map,
    Name: _compile_name,
    Attr: _compile_attr,
    Index: _compile_index,
    Call: _compile_call,
    Unary: _compile_unary,
    Logical: _compile_logical,
    Binary: _compile_binary,
}


def compile_node(node: Node) -> Compiled:
    """A closure computing the node's value in a context."""
    return _COMPILERS[type(node)](node)


def compile_expression(text: str) -> Compiled:
    """Parse and compile the text between `${` and `}`."""
    return compile_node(parse(text))
