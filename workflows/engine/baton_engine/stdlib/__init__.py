"""The standard library as one explicit registry: `library()` merges the per-module tables
(`functions`: expression helpers, sys, text, list, map, json, base64, math, time, uuid, hash,
retry and http's retry policies; `http`: the requests). Nothing registers by import."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from baton_engine.stdlib import functions, http
from baton_engine.stdlib.registry import REQUIRED, Builtin, Runtime, Table

__all__ = ["REQUIRED", "Builtin", "Library", "Runtime", "Table", "build_library", "library"]


@dataclass(frozen=True)
class Library:
    """Every library function by dotted name, and the named values (`http.default_retry`)."""

    functions: Mapping[str, Builtin]
    values: Mapping[str, Any]


def build_library(*tables: Table) -> Library:
    """One library from module tables; a name declared twice is a bug in the tables."""
    tables = tables or (functions.TABLE, http.TABLE)
    merged: dict[str, Builtin] = {}
    values: dict[str, Any] = {}
    for table in tables:
        for name in (*table.functions, *table.values):
            if name in merged or name in values:
                raise ValueError(f"stdlib: {name} is declared by two tables")
        merged.update(table.functions)
        values.update(table.values)
    return Library(functions=merged, values=values)


@cache
def library() -> Library:
    """The standard library the engine and the checker use."""
    return build_library()
