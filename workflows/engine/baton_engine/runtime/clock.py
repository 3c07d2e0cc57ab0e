"""Time for the engine: the real clock, and a virtual clock for tests that must not sleep.

The virtual clock is a discrete-event clock: time stands still while any engine thread is
busy and jumps to the next wake-up when every thread is asleep or waiting on another. To know
that, engine threads are started through `start_thread` and wait for each other through a
`mailbox`; both clocks provide the two, so the executor is written once.
"""

from __future__ import annotations

import heapq
import itertools
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol


class Mailbox(Protocol):
    """A queue one thread reads while others write."""

    def put(self, item: Any) -> None: ...
    def get(self) -> Any: ...


class Clock(Protocol):
    """What the engine needs from time."""

    def now(self) -> float:
        """Seconds since the epoch."""

    def sleep(self, seconds: float, cancel: threading.Event | None = None) -> bool:
        """Block for `seconds`; False when `cancel` was set first."""

    def start_thread(self, target: Callable[[], None], name: str) -> threading.Thread:
        """Run `target` in a new engine thread."""

    def mailbox(self) -> Mailbox:
        """A queue whose `get` the clock counts as waiting, not working."""


class RealClock:
    """Wall-clock time and real sleeps."""

    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float, cancel: threading.Event | None = None) -> bool:
        if cancel is None:
            time.sleep(max(0.0, seconds))
            return True
        return not cancel.wait(max(0.0, seconds))

    def start_thread(self, target: Callable[[], None], name: str) -> threading.Thread:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        return thread

    def mailbox(self) -> Mailbox:
        return queue.SimpleQueue()


class _Sleeper:
    __slots__ = ("cancel", "wake", "woken")

    def __init__(self, wake: float, cancel: threading.Event | None) -> None:
        self.wake = wake
        self.cancel = cancel
        self.woken = False


class VirtualClock:
    """Virtual time: sleeps return at once, in wake-up order, advancing `now()`.

    Only threads started with `start_thread` take part; real blocking work (a job process)
    counts as busy, so virtual time never passes while real work runs.
    """

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._now = start
        self._cond = threading.Condition()
        self._busy = 0
        self._order = itertools.count()
        self._heap: list[tuple[float, int, _Sleeper]] = []

    def now(self) -> float:
        with self._cond:
            return self._now

    def _advance(self) -> None:
        # Called with the lock held, after a participant stopped being busy.
        if self._busy or not self._heap:
            return
        cancelled = [e for e in self._heap if e[2].cancel is not None and e[2].cancel.is_set()]
        if cancelled:
            # A cancelled sleeper wakes before time moves: cancelling takes no virtual time.
            for entry in cancelled:
                self._heap.remove(entry)
                entry[2].woken = True
                self._busy += 1
            heapq.heapify(self._heap)
            self._cond.notify_all()
            return
        self._now = max(self._now, self._heap[0][0])
        while self._heap and self._heap[0][0] <= self._now:
            _, _, sleeper = heapq.heappop(self._heap)
            sleeper.woken = True
            self._busy += 1
        self._cond.notify_all()

    def sleep(self, seconds: float, cancel: threading.Event | None = None) -> bool:
        with self._cond:
            sleeper = _Sleeper(self._now + max(0.0, seconds), cancel)
            entry = (sleeper.wake, next(self._order), sleeper)
            heapq.heappush(self._heap, entry)
            self._busy -= 1
            self._advance()
            while not sleeper.woken:
                if cancel is not None and cancel.is_set():
                    self._heap.remove(entry)
                    heapq.heapify(self._heap)
                    self._busy += 1
                    return False
                self._cond.wait(0.05 if cancel is not None else None)
            return cancel is None or not cancel.is_set()

    def start_thread(self, target: Callable[[], None], name: str) -> threading.Thread:
        with self._cond:
            self._busy += 1

        def run() -> None:
            try:
                target()
            finally:
                with self._cond:
                    self._busy -= 1
                    self._advance()

        thread = threading.Thread(target=run, name=name, daemon=True)
        thread.start()
        return thread

    def mailbox(self) -> Mailbox:
        return _VirtualMailbox(self)


class _VirtualMailbox:
    """A mailbox whose waiting reader does not hold virtual time still."""

    def __init__(self, clock: VirtualClock) -> None:
        self._clock = clock
        self._items: deque[Any] = deque()
        self._waiting = 0

    def put(self, item: Any) -> None:
        clock = self._clock
        with clock._cond:
            self._items.append(item)
            if self._waiting:
                # The reader becomes busy before the writer may go idle: no gap for time to jump.
                self._waiting -= 1
                clock._busy += 1
                clock._cond.notify_all()

    def get(self) -> Any:
        clock = self._clock
        with clock._cond:
            if not self._items:
                self._waiting += 1
                clock._busy -= 1
                clock._advance()
                while not self._items:
                    clock._cond.wait()
            return self._items.popleft()
