"""The expression language's tokens: what `${...}` is made of."""

from __future__ import annotations

import re
from dataclasses import dataclass

from baton_engine.errors import fail

KEYWORDS = {
    "and": "and",
    "AND": "and",
    "or": "or",
    "OR": "or",
    "not": "not",
    "NOT": "not",
    "in": "in",
    "IN": "in",
    "true": "true",
    "True": "true",
    "TRUE": "true",
    "false": "false",
    "False": "false",
    "FALSE": "false",
    "null": "null",
}
OPERATORS = ("//", "==", "!=", "<=", ">=", "<", ">", "+", "-", "*", "/", "%")
PUNCTUATION = "()[]{},.:"

_NUMBER = re.compile(r"(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?")
_HEX4 = re.compile(r"[0-9a-fA-F]{4}")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ESCAPES = {
    "n": "\n",
    "t": "\t",
    "r": "\r",
    "b": "\b",
    "f": "\f",
    "\\": "\\",
    '"': '"',
    "'": "'",
    "/": "/",
}


@dataclass(frozen=True, slots=True)
class Token:
    """One token: kind is number, string, name, a keyword, an operator or punctuation, or end."""

    kind: str
    value: object
    pos: int


def _string(text: str, start: int) -> tuple[str, int]:
    quote, i, out = text[start], start + 1, []
    while i < len(text):
        ch = text[i]
        if ch == quote:
            return "".join(out), i + 1
        if ch == "\\":
            if i + 1 >= len(text):
                break
            esc = text[i + 1]
            if esc == "u" and _HEX4.fullmatch(text, i + 2, i + 6):
                code = int(text[i + 2 : i + 6], 16)
                i += 6
                low = text[i + 2 : i + 6] if text.startswith("\\u", i) else ""
                if (
                    0xD800 <= code < 0xDC00
                    and _HEX4.fullmatch(low)
                    and 0xDC00 <= int(low, 16) < 0xE000
                ):
                    code = 0x10000 + ((code - 0xD800) << 10) + (int(low, 16) - 0xDC00)
                    i += 6  # a surrogate pair is one character
                out.append(chr(code))
                continue
            if esc not in _ESCAPES:
                raise fail("ValueError", f"unknown escape \\{esc} at {i} in {text!r}")
            out.append(_ESCAPES[esc])
            i += 2
            continue
        out.append(ch)
        i += 1
    raise fail("ValueError", f"unterminated string starting at {start} in {text!r}")


def _number(match: re.Match[str]) -> int | float:
    literal = match.group(0)
    if match.group(2) or "." in literal:
        return float(literal)
    return int(literal)


def tokenize(text: str) -> list[Token]:
    """The tokens of one expression (the text between `${` and `}`)."""
    tokens: list[Token] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        if ch in "\"'":
            value, i2 = _string(text, i)
            tokens.append(Token("string", value, i))
            i = i2
            continue
        number = _NUMBER.match(text, i)
        if ch.isdigit() or (ch == "." and number):
            assert number is not None
            tokens.append(Token("number", _number(number), i))
            i = number.end()
            continue
        ident = _IDENT.match(text, i)
        if ident:
            word = ident.group(0)
            kind = KEYWORDS.get(word, "name")
            tokens.append(Token(kind, word, i))
            i = ident.end()
            continue
        op = next((o for o in OPERATORS if text.startswith(o, i)), None)
        if op:
            tokens.append(Token(op, op, i))
            i += len(op)
            continue
        if ch in PUNCTUATION:
            tokens.append(Token(ch, ch, i))
            i += 1
            continue
        raise fail("ValueError", f"unexpected character {ch!r} at {i} in expression {text!r}")
    tokens.append(Token("end", None, len(text)))
    return tokens
