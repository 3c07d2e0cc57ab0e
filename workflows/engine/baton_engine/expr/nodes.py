"""The expression syntax tree the parser builds and the evaluator compiles."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Literal:
    value: Any


@dataclass(frozen=True, slots=True)
class ListLit:
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class MapLit:
    pairs: tuple[tuple[str, Node], ...]


@dataclass(frozen=True, slots=True)
class Name:
    name: str


@dataclass(frozen=True, slots=True)
class Attr:
    obj: Node
    name: str


@dataclass(frozen=True, slots=True)
class Index:
    obj: Node
    index: Node


@dataclass(frozen=True, slots=True)
class Call:
    function: str  # dotted name: a subworkflow, `len`, `text.split`, ...
    args: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Unary:
    op: str  # "-" | "not"
    operand: Node


@dataclass(frozen=True, slots=True)
class Binary:
    op: str  # arithmetic, comparison or "in"
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Logical:
    op: str  # "and" | "or"
    left: Node
    right: Node


Node = Literal | ListLit | MapLit | Name | Attr | Index | Call | Unary | Binary | Logical


def dotted(node: Node) -> str | None:
    """`a.b.c` for a chain of names, else None."""
    if isinstance(node, Name):
        return node.name
    if isinstance(node, Attr):
        head = dotted(node.obj)
        return None if head is None else f"{head}.{node.name}"
    return None


def walk(node: Node):
    """Every node of a tree, parents first."""
    yield node
    children: tuple[Node, ...] = ()
    if isinstance(node, ListLit):
        children = node.items
    elif isinstance(node, MapLit):
        children = tuple(v for _, v in node.pairs)
    elif isinstance(node, Attr):
        children = (node.obj,)
    elif isinstance(node, Index):
        children = (node.obj, node.index)
    elif isinstance(node, Call):
        children = node.args
    elif isinstance(node, Unary):
        children = (node.operand,)
    elif isinstance(node, Binary | Logical):
        children = (node.left, node.right)
    for child in children:
        yield from walk(child)
