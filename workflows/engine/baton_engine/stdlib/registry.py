"""The stdlib's building blocks: a library function's declaration (`Builtin`), what functions
may touch (`Runtime`), and the per-module `Table` each stdlib module declares its functions in."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from baton_engine.errors import fail

REQUIRED = object()


class Runtime(Protocol):
    """What library functions may touch: the clock, the environment, the log, callbacks."""

    def now(self) -> float:
        """Seconds since the epoch."""

    def sleep(self, seconds: float) -> None:
        """Block this branch for `seconds` (interrupted by cancellation)."""

    def get_env(self, name: str) -> str | None:
        """A built-in or user environment variable."""

    def log(self, severity: str, payload: Any) -> None:
        """One structured log entry."""

    def create_callback(self, method: str) -> str:
        """A new callback endpoint of this execution expecting `method`; its URL."""

    def await_callback(self, url: str, timeout: float) -> dict[str, Any] | None:
        """The next request to this execution's endpoint at `url`; None after `timeout`."""


@dataclass(frozen=True)
class Builtin:
    """A library function: its parameters (name, default) and how it may be called."""

    name: str
    fn: Callable[..., Any]
    params: tuple[tuple[str, Any], ...]
    runtime: bool = False  # the function takes the Runtime as its first argument
    call_only: bool = False  # blocking: only from a call step, never inside an expression

    def bind(self, positional: list[Any] | None, named: dict[str, Any] | None) -> list[Any]:
        """Arguments in declaration order; TypeError naming what is missing or unknown."""
        names = [p for p, _ in self.params]
        if positional is not None:
            if len(positional) > len(names):
                raise fail(
                    "TypeError",
                    f"{self.name} takes at most {len(names)} arguments, got {len(positional)}",
                )
            values = dict(zip(names, positional, strict=False))
        else:
            values = dict(named or {})
            unknown = sorted(set(values) - set(names))
            if unknown:
                raise fail(
                    "TypeError",
                    f"{self.name} has no argument(s) {', '.join(unknown)}; "
                    f"it takes {', '.join(names) or 'none'}",
                )
        out = []
        for pname, default in self.params:
            if pname in values:
                out.append(values[pname])
            elif default is REQUIRED:
                raise fail("TypeError", f"{self.name}: missing required argument {pname}")
            else:
                out.append(default)
        return out


class Table:
    """One stdlib module's functions and named values. `@table.function(name, *params)` adds
    a function to this table only; `baton_engine.stdlib.library()` merges the tables."""

    def __init__(self) -> None:
        self.functions: dict[str, Builtin] = {}
        self.values: dict[str, Any] = {}

    def function(
        self,
        name: str,
        *params: str | tuple[str, Any],
        runtime: bool = False,
        call_only: bool = False,
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Declare a library function under its dotted name."""
        spec = tuple((p, REQUIRED) if isinstance(p, str) else p for p in params)

        def declare(fn: Callable[..., Any]) -> Callable[..., Any]:
            self.functions[name] = Builtin(name, fn, spec, runtime, call_only)
            return fn

        return declare
