"""Variable memory of one execution, counted by Cloud Workflows' documented rules: the size of
a value, what a nested write adds, and the running total of every live variable against the
per-execution limit.

https://cloud.google.com/workflows/docs/reference/syntax/variables ("Memory usage"): 8 bytes
per integer, double or boolean; strings and bytes 8 bytes plus their length; lists 8 bytes
plus their elements; maps 8 bytes plus their keys and values, recursively. Assigning one
variable to another copies the value, so it is counted twice.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from baton_engine.errors import LimitExceeded, fail
from baton_engine.expr.values import FunctionRef, type_name

WORD = 8  # bytes of a scalar, and the fixed part of every string, list and map


def size_of(value: Any) -> int:
    """Bytes `value` counts for. Null counts as a scalar (the table is silent on it); string
    lengths are UTF-8 bytes, never less than the characters the table may mean."""
    kind = type(value)
    if kind is str:
        return WORD + (len(value) if value.isascii() else len(value.encode()))
    if kind is dict:
        total = WORD
        for key, item in value.items():
            total += WORD + (len(key) if key.isascii() else len(key.encode())) + size_of(item)
        return total
    if kind is list:
        total = WORD
        for item in value:
            total += size_of(item)
        return total
    if kind is bytes:
        return WORD + len(value)
    if kind is FunctionRef:
        return WORD + len(value.name)
    return WORD  # null, bool, int, double


def assign_at(container: Any, keys: list[Any], value: Any) -> tuple[Any, int]:
    """A copy of `container` with `value` at the key/index path `keys` (missing map keys become
    maps), and how many bytes bigger it is. Only the replaced part is measured, never the whole
    container, so a write into a large map costs the size of what it writes."""
    key, rest = keys[0], keys[1:]
    if isinstance(container, dict):
        if not isinstance(key, str):
            raise fail("TypeError", f"map key must be a string, not {type_name(key)}")
        new = dict(container)
        # A new key adds itself; a null replaced by a map costs nothing (both count 8 bytes).
        added = 0 if key in container else size_of(key)
        child = container.get(key)
        if rest:
            new[key], delta = assign_at({} if child is None else child, rest, value)
            if key not in container:
                delta += size_of({})
        else:
            new[key] = value
            delta = size_of(value) - (size_of(child) if key in container else 0)
        return new, added + delta
    if isinstance(container, list):
        if not isinstance(key, int) or isinstance(key, bool):
            raise fail("TypeError", f"list index must be an integer, not {type_name(key)}")
        if not 0 <= key < len(container):
            raise fail("IndexError", f"list index {key} out of range (length {len(container)})")
        new_list = list(container)
        if rest:
            new_list[key], delta = assign_at(container[key], rest, value)
        else:
            new_list[key] = value
            delta = size_of(value) - size_of(container[key])
        return new_list, delta
    raise fail("TypeError", f"cannot assign into a {type_name(container)}")


class Memory:
    """The running total of one execution's variables, its peak, and the limit.

    Callers keep each variable's own size and charge only the difference an assignment makes,
    so a write costs the size of what changed, never a walk of every variable. `lock` guards
    the total and lets a caller update its per-variable sizes in the same critical section.
    """

    def __init__(self, limit: int, where: Callable[[], str]) -> None:
        self.limit = limit
        self.used = 0
        self.peak = 0
        self.lock = threading.Lock()
        self._where = where

    def charge(self, delta: int, what: str) -> None:
        """Add `delta` bytes (negative frees); over the limit the execution fails at once.

        Call with `lock` held. `what` names the variable for the error message.
        """
        used = self.used + delta
        if delta > 0 and used > self.limit:
            raise LimitExceeded(
                fail(
                    "ResourceLimitError",
                    f"memory limit exceeded in step {self._where()}: assigning {what} would "
                    f"bring the execution's variables to {used} bytes, over the limit of "
                    f"{self.limit} bytes",
                )
            )
        self.used = used
        self.peak = max(self.peak, used)

    def release(self, size: int) -> None:
        """Free the bytes of variables that went out of scope."""
        if size:
            with self.lock:
                self.used -= size
