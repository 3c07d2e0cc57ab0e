"""Variable memory of one execution, counted by Cloud Workflows' documented rules: the size of
a value, and the running total of every live variable against the per-execution limit.

https://cloud.google.com/workflows/docs/reference/syntax/variables ("Memory usage"): 8 bytes
per integer, double or boolean; strings and bytes 8 bytes plus their length; lists 8 bytes
plus their elements; maps 8 bytes plus their keys and values, recursively. Assigning one
variable to another copies the value, so it is counted twice.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from baton_workflows.engine.errors import LimitExceeded, fail
from baton_workflows.engine.values import FunctionRef

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
