"""YAML values that may hold expressions: a string that is wholly `${...}` is an expression,
maps and lists are walked, anything else is a constant. Compiled once, evaluated per use."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from baton_engine.errors import WorkflowError, fail
from baton_engine.expr.evaluator import Context, compile_node
from baton_engine.expr.nodes import Node
from baton_engine.expr.parser import parse
from baton_engine.expr.values import type_name

_EXPRESSION = re.compile(r"\A\$\{(.*)\}\Z", re.DOTALL)


def expression_text(value: Any) -> str | None:
    """The inside of `${...}` when `value` is an expression string, else None."""
    if isinstance(value, str):
        match = _EXPRESSION.match(value.strip())
        if match:
            return match.group(1)
    return None


class Template:
    """A value to compute at run time; `nodes` are its expressions, for static checks."""

    __slots__ = ("_run", "constant", "nodes", "source")

    def __init__(
        self, source: Any, run: Callable[[Context], Any], nodes: tuple[Node, ...], constant: bool
    ) -> None:
        self.source = source
        self._run = run
        self.nodes = nodes
        self.constant = constant

    def __call__(self, ctx: Context) -> Any:
        return self._run(ctx)

    def expressions(self) -> Iterator[Node]:
        """Every expression tree inside the value."""
        yield from self.nodes


class _Compiler:
    """Builds the closure of one YAML value; `None` means the (sub)value is constant."""

    def __init__(self, problems: list[str] | None) -> None:
        self.problems = problems
        self.nodes: list[Node] = []

    def build(self, value: Any) -> Callable[[Context], Any] | None:
        text = expression_text(value)
        if text is not None:
            return self.expression(value, text)
        if isinstance(value, dict):
            return self.mapping(value)
        if isinstance(value, list):
            return self.sequence(value)
        return None

    def expression(self, value: Any, text: str) -> Callable[[Context], Any]:
        try:
            node = parse(text)
        except WorkflowError as err:
            if self.problems is None:
                raise
            self.problems.append(f"bad expression {value!r}: {err.value.get('message')}")
            return lambda ctx: None
        self.nodes.append(node)
        return compile_node(node)

    def mapping(self, value: dict[Any, Any]) -> Callable[[Context], Any] | None:
        # A key that is wholly `${...}` is computed too: https://cloud.google.com/workflows/docs/
        # reference/syntax/maps, "when using dynamic keys in a map defined with braces, wrap the
        # expression in quotes", e.g. `myMap: {"${dynamicKey}": "myValue"}` and, in block style,
        # `${dynamicKey}: "Apple"`.
        keys = {str(k): self.key(str(k)) for k in value}
        parts = {str(k): self.build(v) for k, v in value.items()}
        dynamic = tuple((k, p) for k, p in parts.items() if p is not None)
        if not dynamic and not any(keys.values()):
            return None
        fixed = {str(k): _constant(v) for k, v in value.items()}
        computed = {k: p for k, p in parts.items() if p is not None}
        order = tuple((k, keys[k], computed.get(k)) for k in fixed)

        def run(ctx: Context) -> Any:
            out: dict[str, Any] = {}
            for key, key_part, part in order:
                name = key if key_part is None else _key_string(key, key_part(ctx))
                out[name] = part(ctx) if part is not None else fixed[key]
            return out

        return run

    def key(self, key: str) -> Callable[[Context], Any] | None:
        text = expression_text(key)
        return None if text is None else self.expression(key, text)

    def sequence(self, value: list[Any]) -> Callable[[Context], Any] | None:
        items = [self.build(v) for v in value]
        if all(i is None for i in items):
            return None
        pairs = tuple(
            (f, None) if f is not None else (None, _constant(v))
            for f, v in zip(items, value, strict=True)
        )
        return lambda ctx: [f(ctx) if f is not None else v for f, v in pairs]


def compile_template(data: Any, problems: list[str] | None = None) -> Template:
    """Compile a YAML value; malformed expressions are appended to `problems` (or raised)."""
    compiler = _Compiler(problems)
    run = compiler.build(data)
    if run is None:
        constant = _constant(data)
        return Template(data, lambda ctx: constant, (), True)
    return Template(data, run, tuple(compiler.nodes), False)


def _key_string(source: str, key: Any) -> str:
    """A computed map key: only a string names a key (the maps page's keys are strings)."""
    if not isinstance(key, str):
        raise fail("TypeError", f"the map key {source} must give a string, not {type_name(key)}")
    return key


def _constant(data: Any) -> Any:
    if isinstance(data, dict):
        return {str(k): _constant(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_constant(v) for v in data]
    return data
