"""The expression grammar: tokens to a syntax tree, with the documented operator precedence.

Loosest to tightest: `or`; `and`; comparisons `== != < <= > >= in`; `+ -`; `* / // %`;
unary `-`; `not`; `[]`; `.`; parentheses.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from functools import lru_cache

from baton_engine.errors import fail
from baton_engine.expr.lexer import Token, tokenize
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
from baton_limits import WORKFLOW_EXPRESSION_CHARS

COMPARISONS = frozenset({"==", "!=", "<", "<=", ">", ">=", "in"})
MAX_LENGTH = WORKFLOW_EXPRESSION_CHARS


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def take(self, *kinds: str) -> Token | None:
        if self.tok.kind in kinds:
            tok = self.tok
            self.i += 1
            return tok
        return None

    def expect(self, kind: str) -> Token:
        tok = self.take(kind)
        if tok is None:
            found = "the end" if self.tok.kind == "end" else repr(self.tok.value)
            raise fail(
                "ValueError",
                f"expected {kind!r} at {self.tok.pos} but found {found} in expression "
                f"{self.text!r}",
            )
        return tok

    def parse(self) -> Node:
        if self.tok.kind == "end":
            raise fail("ValueError", "empty expression ${}")
        node = self.or_()
        if self.tok.kind != "end":
            raise fail(
                "ValueError",
                f"unexpected {self.tok.value!r} at {self.tok.pos} in expression {self.text!r}",
            )
        return node

    def or_(self) -> Node:
        node = self.and_()
        while self.take("or"):
            node = Logical("or", node, self.and_())
        return node

    def and_(self) -> Node:
        node = self.comparison()
        while self.take("and"):
            node = Logical("and", node, self.comparison())
        return node

    def binary(self, ops: Collection[str], operand: Callable[[], Node]) -> Node:
        """A left-associative chain of one precedence level's operators."""
        node = operand()
        while self.tok.kind in ops:
            op = self.tok.kind
            self.i += 1
            node = Binary(op, node, operand())
        return node

    def comparison(self) -> Node:
        return self.binary(COMPARISONS, self.additive)

    def additive(self) -> Node:
        return self.binary(("+", "-"), self.multiplicative)

    def multiplicative(self) -> Node:
        return self.binary(("*", "/", "//", "%"), self.unary)

    def unary(self) -> Node:
        if self.take("-"):
            operand = self.unary()
            if isinstance(operand, Literal) and type(operand.value) in (int, float):
                return Literal(-operand.value)
            return Unary("-", operand)
        if self.take("not"):
            return Unary("not", self.unary())
        return self.postfix()

    def postfix(self) -> Node:
        node = self.primary()
        while True:
            if self.take("."):
                name = self.take("name", "and", "or", "not", "in", "true", "false", "null")
                if name is None:
                    raise fail(
                        "ValueError",
                        f"expected a property name after '.' at {self.tok.pos} in {self.text!r}",
                    )
                node = Attr(node, str(name.value))
            elif self.take("["):
                node = Index(node, self.or_())
                self.expect("]")
            elif self.tok.kind == "(":
                function = dotted(node)
                if function is None:
                    raise fail("TypeError", f"only named functions can be called: {self.text!r}")
                self.i += 1
                node = Call(function, self.arguments())
            else:
                return node

    def arguments(self) -> tuple[Node, ...]:
        args: list[Node] = []
        if not self.take(")"):
            args.append(self.or_())
            while self.take(","):
                args.append(self.or_())
            self.expect(")")
        return tuple(args)

    def primary(self) -> Node:
        tok = self.tok
        self.i += 1
        kind = tok.kind
        if kind in ("number", "string"):
            return Literal(tok.value)
        if kind in ("true", "false", "null"):
            return Literal({"true": True, "false": False, "null": None}[kind])
        if kind == "name":
            return Name(str(tok.value))
        if kind == "(":
            node = self.or_()
            self.expect(")")
            return node
        if kind == "[":
            items: list[Node] = []
            if not self.take("]"):
                items.append(self.or_())
                while self.take(","):
                    items.append(self.or_())
                self.expect("]")
            return ListLit(tuple(items))
        if kind == "{":
            return self.map_literal()
        found = "the end" if kind == "end" else repr(tok.value)
        raise fail("ValueError", f"unexpected {found} at {tok.pos} in expression {self.text!r}")

    def map_literal(self) -> Node:
        pairs: list[tuple[str, Node]] = []
        if self.take("}"):
            return MapLit(())
        while True:
            key = self.take("string", "name")
            if key is None:
                raise fail(
                    "ValueError", f"map keys must be strings, at {self.tok.pos} in {self.text!r}"
                )
            self.expect(":")
            pairs.append((str(key.value), self.or_()))
            if self.take("}"):
                return MapLit(tuple(pairs))
            self.expect(",")


@lru_cache(maxsize=4096)
def parse(text: str) -> Node:
    """The syntax tree of one expression; ValueError (as a workflow error) when malformed."""
    if len(text) > MAX_LENGTH:
        raise fail("ValueError", f"expression longer than {MAX_LENGTH} characters")
    return _Parser(text).parse()
