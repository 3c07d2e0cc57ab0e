"""Runs one execution of a parsed workflow: steps, scopes, jumps, retries and parallel branches.

Scopes follow the documented rules: a subworkflow call gets a fresh frame; a `for` iteration
and an `except` block see their parent's variables, may change them, and keep the variables
they create to themselves; a parallel branch may read its parent's variables but write only the
ones listed in `shared` (each write is atomic), and its own variables die with it.

Every live scope's variables count against the execution's memory limit (engine/memory.py):
each scope keeps the size of each of its variables, a write charges only the difference it
makes, and a scope that ends frees what it held.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import baton_limits as limits
from baton_engine.definition.model import (
    AssignStep,
    AssignTarget,
    Block,
    CallStep,
    ForStep,
    Loop,
    ParallelStep,
    RaiseStep,
    ReturnStep,
    StepsStep,
    Subworkflow,
    SwitchStep,
    TryStep,
    Workflow,
    WorkflowStep,
)
from baton_engine.errors import Cancelled, LimitExceeded, WorkflowError, fail
from baton_engine.expr.values import FunctionRef, is_number, to_json_text, type_name
from baton_engine.runtime.callbacks import CallbackHub, LinkedEvent
from baton_engine.runtime.clock import Clock
from baton_engine.runtime.memory import Memory, assign_at, size_of
from baton_engine.stdlib import library
from baton_engine.stdlib.functions import DEFAULT_BACKOFF

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limits:
    """The platform limits the engine enforces (Workflows' documented or measured values)."""

    max_steps: int = limits.WORKFLOW_STEPS_PER_EXECUTION  # -> ResourceLimitError
    # All variables of an execution, live frames and branches included -> ResourceLimitError.
    max_memory_bytes: int = limits.WORKFLOW_MEMORY_BYTES
    max_call_depth: int = limits.WORKFLOW_CALL_DEPTH  # -> RecursionError
    max_parallel_depth: int = limits.WORKFLOW_PARALLEL_DEPTH  # -> ParallelNestingError
    max_concurrency: int = limits.WORKFLOW_CONCURRENT_BRANCHES  # per parallel step
    max_branch_errors: int = limits.WORKFLOW_BRANCH_ERRORS  # collected per parallel step


@dataclass
class CallContext:
    """What a connector gets besides its arguments."""

    execution_id: str
    step_path: str
    cancel: threading.Event
    clock: Clock
    workdir: Path | None


Connector = Callable[[dict[str, Any], CallContext], Any]


class Recorder(Protocol):
    """Where an execution's step entries and `sys.log` lines go."""

    def step(self, entry: dict[str, Any]) -> None: ...
    def log(self, severity: str, payload: Any) -> None: ...


class NullRecorder:
    """Records nothing."""

    def step(self, entry: dict[str, Any]) -> None:
        return None

    def log(self, severity: str, payload: Any) -> None:
        return None


# Control flow signals: not WorkflowErrors, so `except` never catches them.
class _Return(BaseException):
    def __init__(self, value: Any) -> None:
        self.value = value


class _End(BaseException):
    pass


class _Break(BaseException):
    pass


class _Continue(BaseException):
    pass


class _Goto(BaseException):
    def __init__(self, target: str) -> None:
        self.target = target


@dataclass
class _Frame:
    """Per-branch facts carried by every scope of a subworkflow call or branch."""

    depth: int  # subworkflow call depth
    parallel_depth: int


class Scope:
    """Variables visible at one point; also the expression `Context`."""

    __slots__ = ("bytes", "executor", "frame", "parent", "shared", "sizes", "vars")

    def __init__(
        self,
        executor: Executor,
        parent: Scope | None,
        frame: _Frame,
        shared: frozenset[str] | None = None,
    ) -> None:
        self.executor = executor
        self.parent = parent
        self.frame = frame
        self.vars: dict[str, Any] = {}
        self.sizes: dict[str, int] = {}  # bytes of each variable in `vars`
        self.bytes = 0  # their sum, charged to the execution's memory
        self.shared = shared  # not None: this scope is a parallel branch's root

    def child(self) -> Scope:
        """A scope for a loop iteration or an except block."""
        return Scope(self.executor, self, self.frame)

    # -- the expression Context

    def defined(self, name: str) -> bool:
        scope: Scope | None = self
        while scope is not None:
            if name in scope.vars:
                return True
            scope = scope.parent
        return False

    def lookup(self, name: str) -> Any:
        scope: Scope | None = self
        while scope is not None:
            vars_ = scope.vars
            if name in vars_:
                return vars_[name]
            scope = scope.parent
        raise fail("KeyError", f"variable {name} is not defined")

    def call(self, function: str, args: list[Any]) -> Any:
        return self.executor.call_function(function, args, None, self)

    def reference(self, name: str) -> Any:
        executor = self.executor
        if name in executor.workflow.subworkflows or name in library().functions:
            return FunctionRef(name)
        if name in library().values:
            return library().values[name]
        raise fail("KeyError", f"variable {name} is not defined")

    def known(self, name: str) -> bool:
        lib = library()
        return (
            name in self.executor.workflow.subworkflows
            or name in lib.functions
            or name in lib.values
        )

    # -- writes

    def _owner(self, name: str) -> tuple[Scope | None, bool]:
        """The scope holding `name` and whether a branch boundary is crossed to reach it."""
        scope: Scope | None = self
        crossed = False
        while scope is not None:
            if name in scope.vars:
                return scope, crossed
            if scope.shared is not None:
                if name not in scope.shared and scope.parent and scope.parent.defined(name):
                    raise fail(
                        "TypeError",
                        f"variable {name} belongs to the parent of a parallel step; list it in "
                        "`shared` to assign it in a branch",
                    )
                crossed = True
            scope = scope.parent
        return None, False

    def assign(self, target: AssignTarget, value: Any) -> None:
        """Write `value` to a variable or to a key/index path inside one."""
        if not target.path:
            self.set(target.root, value)
            return
        owner, crossed = self._owner(target.root)
        if owner is None:
            raise fail("KeyError", f"variable {target.root} is not defined")
        keys = [seg if kind == "key" else seg(self) for kind, seg in target.path]
        if crossed:
            # A read-modify-write of a shared variable is one atomic write.
            with self.executor.shared_lock:
                owner._write_path(target.root, keys, value)
        else:
            owner._write_path(target.root, keys, value)

    def set(self, name: str, value: Any) -> None:
        """Assign a plain variable (call results, assignments without a path)."""
        owner, crossed = self._owner(name)
        if crossed:
            with self.executor.shared_lock:
                (owner or self).put(name, value)
        else:
            (owner or self).put(name, value)

    def put(self, name: str, value: Any) -> None:
        """Create or replace variable `name` of this very scope, charging its size."""
        size = size_of(value)
        memory = self.executor.memory
        with memory.lock:
            delta = size - self.sizes.get(name, 0)
            memory.charge(delta, name)
            self.vars[name] = value
            self.sizes[name] = size
            self.bytes += delta

    def _write_path(self, name: str, keys: list[Any], value: Any) -> None:
        new, delta = assign_at(self.vars[name], keys, value)
        memory = self.executor.memory
        with memory.lock:
            memory.charge(delta, name)
            self.vars[name] = new
            self.sizes[name] += delta
            self.bytes += delta

    def release(self) -> None:
        """Free this scope's variables: it has ended."""
        self.executor.memory.release(self.bytes)
        self.bytes = 0


@dataclass
class _Entry:
    step: WorkflowStep
    start: float
    retries: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


class Executor:
    """One execution: call `run(argument)` once; it returns the result or raises."""

    def __init__(
        self,
        workflow: Workflow,
        *,
        execution_id: str,
        clock: Clock,
        env: Mapping[str, str],
        connectors: Mapping[str, Connector] | None = None,
        recorder: Recorder | None = None,
        cancel: threading.Event | None = None,
        retry_delay_scale: float = 1.0,
        limits: Limits | None = None,
        workdir: Path | None = None,
        callbacks: CallbackHub | None = None,
    ) -> None:
        self.workflow = workflow
        self.execution_id = execution_id
        self.clock = clock
        self.env = dict(env)
        self.connectors = dict(connectors or {})
        self.recorder = recorder or NullRecorder()
        self.cancel = cancel or LinkedEvent()
        self.callbacks = callbacks or CallbackHub()
        self.retry_delay_scale = retry_delay_scale
        self.limits = limits or Limits()
        self.workdir = workdir
        self.shared_lock = threading.RLock()
        self.steps_run = 0
        self.memory = Memory(self.limits.max_memory_bytes, self.current_step)
        self.fatal: LimitExceeded | None = None  # a limit a parallel branch exceeded
        self._count_lock = threading.Lock()
        self._local = threading.local()  # the entry of the step this thread runs
        self._dispatch: dict[type, Callable[[Any, Scope], str | None]] = {
            AssignStep: self._assign,
            CallStep: self._call,
            SwitchStep: self._switch,
            ForStep: self._for,
            ParallelStep: self._parallel,
            TryStep: self._try,
            RaiseStep: self._raise,
            ReturnStep: self._return,
            StepsStep: self._steps,
            WorkflowStep: lambda step, scope: None,
        }

    # -- the Runtime the standard library sees

    def now(self) -> float:
        return self.clock.now()

    def sleep(self, seconds: float) -> None:
        if not self.clock.sleep(seconds, self.cancel):
            raise Cancelled()

    def get_env(self, name: str) -> str | None:
        return self.env.get(name)

    def log(self, severity: str, payload: Any) -> None:
        self.recorder.log(severity, payload)

    def create_callback(self, method: str) -> str:
        env = self.env
        path = (
            f"projects/{env.get('GOOGLE_CLOUD_PROJECT_ID', '-')}"
            f"/locations/{env.get('GOOGLE_CLOUD_LOCATION', '-')}"
            f"/workflows/{env.get('GOOGLE_CLOUD_WORKFLOW_ID', '-')}"
        )
        return self.callbacks.create(path, self.execution_id, method)

    def await_callback(self, url: str, timeout: float) -> dict[str, Any] | None:
        endpoint = self.callbacks.endpoint(url)
        if endpoint is None or endpoint.execution_id != self.execution_id:
            raise fail(
                "ValueError",
                f"events.await_callback: {url} is not a callback endpoint of this execution "
                "(an endpoint can only be awaited in the execution that created it)",
            )
        if isinstance(self.cancel, LinkedEvent):
            self.cancel.link(endpoint.wake)
        deadline = self.clock.now() + timeout
        while True:
            request = self.callbacks.take(endpoint)
            if request is not None:
                return request
            if self.cancel.is_set():
                raise Cancelled()
            remaining = deadline - self.clock.now()
            if remaining <= 0:
                return None
            self.clock.sleep(remaining, endpoint.wake)

    # -- entry point

    def current_step(self) -> str:
        """The path of the step this thread runs (`main` before the first step)."""
        entry: _Entry | None = getattr(self._local, "entry", None)
        return entry.step.path if entry is not None else self.workflow.main.name

    def abort(self, exceeded: LimitExceeded) -> None:
        """Fail the whole execution at once from a parallel branch: stop every other branch."""
        with self._count_lock:
            if self.fatal is None:
                self.fatal = exceeded
        self.cancel.set()

    def run(self, argument: Any = None) -> Any:
        """Run `main` with the execution argument; the result, or a WorkflowError."""
        main = self.workflow.main
        args = [argument] if main.params else []
        try:
            result = self.call_subworkflow(main, args, None, depth=0, parallel_depth=0)
        except LimitExceeded as exceeded:
            raise exceeded.error from None
        except Cancelled:
            if self.fatal is not None:
                raise self.fatal.error from None
            raise
        try:
            to_json_text(result)
        except WorkflowError as err:
            raise fail("TypeError", f"the workflow result cannot be returned: {err}") from None
        return result

    # -- calls

    def call_function(
        self, name: str, positional: list[Any] | None, named: dict[str, Any] | None, scope: Scope
    ) -> Any:
        """A subworkflow, library function or (from a call step) connector."""
        sub = self.workflow.subworkflows.get(name)
        if sub is not None:
            frame = scope.frame
            return self.call_subworkflow(
                sub, positional, named, depth=frame.depth + 1, parallel_depth=frame.parallel_depth
            )
        builtin = library().functions.get(name)
        if builtin is not None:
            if positional is not None and builtin.call_only:
                raise fail("TypeError", f"{name} blocks; call it from a call step, not in ${{}}")
            values = builtin.bind(positional, named)
            return builtin.fn(self, *values) if builtin.runtime else builtin.fn(*values)
        connector = self.connectors.get(name)
        if connector is not None and named is not None:
            entry: _Entry | None = getattr(self._local, "entry", None)
            path = entry.step.path if entry is not None else name
            ctx = CallContext(self.execution_id, path, self.cancel, self.clock, self.workdir)
            return connector(named, ctx)
        if name.startswith("googleapis."):
            raise fail("SystemError", f"connector {name} is not available in the local engine")
        raise fail("KeyError", f"no subworkflow or function named {name}")

    def call_positional(self, name: str, args: list[Any]) -> Any:
        """A call step whose `args` is a list: a library function's arguments by position."""
        builtin = library().functions.get(name)
        if builtin is None:
            raise fail("TypeError", f"args of {name} must be a map of parameter names")
        values = builtin.bind(args, None)
        return builtin.fn(self, *values) if builtin.runtime else builtin.fn(*values)

    def call_subworkflow(
        self,
        sub: Subworkflow,
        positional: list[Any] | None,
        named: dict[str, Any] | None,
        *,
        depth: int,
        parallel_depth: int,
    ) -> Any:
        """Run a subworkflow in a fresh frame; its return value (null at the end)."""
        if depth >= self.limits.max_call_depth:
            raise fail(
                "RecursionError",
                f"call stack deeper than {self.limits.max_call_depth} calling {sub.name}",
            )
        scope = Scope(self, None, _Frame(depth, parallel_depth))
        try:
            self._bind(sub, positional, named, scope)
            self.run_block(sub.body, scope)
        except _Return as ret:
            return ret.value
        except _End:
            return None
        except (_Break, _Continue, _Goto) as sig:
            raise fail(
                "SystemError", f"{type(sig).__name__} escaped subworkflow {sub.name}"
            ) from None
        finally:
            scope.release()
        return None

    def _bind(
        self,
        sub: Subworkflow,
        positional: list[Any] | None,
        named: dict[str, Any] | None,
        scope: Scope,
    ) -> None:
        params = sub.params
        if positional is not None:
            if len(positional) > len(params):
                raise fail(
                    "TypeError",
                    f"{sub.name} takes {len(params)} arguments, got {len(positional)}",
                )
            given = {p.name: v for p, v in zip(params, positional, strict=False)}
        else:
            given = dict(named or {})
            unknown = sorted(set(given) - {p.name for p in params})
            if unknown:
                raise fail(
                    "TypeError",
                    f"{sub.name} has no parameter(s) {', '.join(unknown)}; it takes "
                    f"{', '.join(p.name for p in params) or 'none'}",
                )
        for param in params:
            if param.name in given:
                scope.put(param.name, given[param.name])
            elif param.default is not None:
                scope.put(param.name, param.default(scope))
            elif sub.name == "main":
                scope.put(param.name, None)
            else:
                raise fail("TypeError", f"{sub.name}: missing argument {param.name}")

    # -- blocks and steps

    def run_block(self, block: Block, scope: Scope) -> None:
        """Run steps in order, following `next` jumps within this block or outwards."""
        steps, index = block.steps, block.index
        i, n = 0, len(steps)
        while i < n:
            try:
                jump = self.run_step(steps[i], scope)
            except _Goto as goto:
                if goto.target not in index:
                    raise
                i = index[goto.target]
                continue
            if jump is None:
                i += 1
            elif jump in index:
                i = index[jump]
            elif jump == "end":
                raise _End()
            elif jump == "break":
                raise _Break()
            elif jump == "continue":
                raise _Continue()
            else:
                raise _Goto(jump)

    def _count(self) -> None:
        if self.cancel.is_set():
            raise Cancelled()
        with self._count_lock:
            self.steps_run += 1
            if self.steps_run > self.limits.max_steps:
                raise LimitExceeded(
                    fail(
                        "ResourceLimitError",
                        f"more than {self.limits.max_steps} steps in one execution",
                    )
                )

    def run_step(self, step: WorkflowStep, scope: Scope) -> str | None:
        """Run one step; the jump it asks for (a step name, end, break, continue) or None."""
        self._count()
        handler = self._dispatch[type(step)]
        if step.anonymous:
            jump = handler(step, scope)
            return jump if jump is not None else step.next
        entry = _Entry(step, self.clock.now())
        local = self._local
        outer = getattr(local, "entry", None)
        local.entry = entry
        state, error = "succeeded", None
        try:
            jump = handler(step, scope)
        except WorkflowError as err:
            state, error = "failed", err
            raise
        except LimitExceeded as exceeded:
            state, error = "failed", exceeded.error
            raise
        except (_Return, _End, _Break, _Continue, _Goto):
            raise
        except Cancelled:
            state = "cancelled"
            raise
        finally:
            local.entry = outer  # errors after a nested step still name the step running
            self._record(entry, state, error)
        return jump if jump is not None else step.next

    def _record(self, entry: _Entry, state: str, error: WorkflowError | None) -> None:
        record: dict[str, Any] = {
            "path": entry.step.path,
            "name": entry.step.name,
            "kind": entry.step.kind,
            "start": entry.start,
            "end": self.clock.now(),
            "state": state,
        }
        if entry.retries:
            record["retries"] = entry.retries
        if error is not None:
            record["error"] = str(error)
        record.update(entry.extra)
        self.recorder.step(record)

    # -- step kinds

    def _assign(self, step: AssignStep, scope: Scope) -> None:
        for target, value in step.assignments:
            scope.assign(target, value(scope))

    def _call(self, step: CallStep, scope: Scope) -> None:
        args = step.args(scope) if step.args is not None else {}
        if isinstance(args, list):
            result = self.call_positional(step.function, args)
        elif isinstance(args, dict):
            result = self.call_function(step.function, None, args, scope)
        else:
            raise fail("TypeError", f"args of {step.function} must be a map or a list")
        if step.result is not None:
            scope.set(step.result, result)

    def _switch(self, step: SwitchStep, scope: Scope) -> str | None:
        for cond in step.conditions:
            value = cond.condition(scope)
            if not isinstance(value, bool):
                raise fail(
                    "TypeError", f"switch condition must be true or false, not {type_name(value)}"
                )
            if not value:
                continue
            if cond.body is not None:
                jump = self.run_step(cond.body, scope)
                if jump is not None:
                    return jump
            return cond.next
        return None

    def _iterations(self, loop: Loop, scope: Scope) -> list[Any]:
        if loop.items is not None:
            items = loop.items(scope)
            if not isinstance(items, list):
                hint = "; iterate keys(map) to loop over a map" if isinstance(items, dict) else ""
                raise fail("TypeError", f"for `in` needs a list, not {type_name(items)}{hint}")
            return items
        bounds = loop.range(scope) if loop.range is not None else None
        if not (isinstance(bounds, list) and len(bounds) == 2 and all(map(is_number, bounds))):
            raise fail("TypeError", f"for `range` needs [start, end] numbers, not {bounds!r}")
        start, end = bounds
        values: list[Any] = []
        current = start
        while current <= end:
            values.append(current)
            current += 1
        return values

    def _for(self, step: ForStep, scope: Scope) -> None:
        loop = step.loop
        assert loop is not None
        for i, item in enumerate(self._iterations(loop, scope)):
            iteration = scope.child()
            try:
                iteration.put(loop.value, item)
                if loop.index:
                    iteration.put(loop.index, i)
                self.run_block(loop.body, iteration)
            except _Continue:
                continue
            except _Break:
                break
            finally:
                iteration.release()

    def _concurrency(self, step: ParallelStep, scope: Scope) -> int:
        cap = self.limits.max_concurrency
        if step.concurrency_limit is None:
            return cap
        limit = step.concurrency_limit(scope)
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
            raise fail("ValueError", f"concurrency_limit must be a positive integer, not {limit!r}")
        return min(limit, cap)

    def _parallel(self, step: ParallelStep, scope: Scope) -> None:
        frame = scope.frame
        if frame.parallel_depth >= self.limits.max_parallel_depth:
            raise fail(
                "ParallelNestingError",
                f"parallel steps nested deeper than {self.limits.max_parallel_depth}",
            )
        for name in step.shared:
            if not scope.defined(name):
                raise fail(
                    "KeyError", f"shared variable {name} must be assigned before the parallel step"
                )
        units: list[tuple[str, Block, dict[str, Any]]] = []
        if step.loop is not None:
            loop = step.loop
            for i, item in enumerate(self._iterations(loop, scope)):
                init = {loop.value: item}
                if loop.index:
                    init[loop.index] = i
                units.append((str(i), loop.body, init))
        else:
            units = [(name, block, {}) for name, block in step.branches]
        errors = _Branches(self).run(
            units,
            self._concurrency(step, scope),
            scope,
            _Frame(frame.depth, frame.parallel_depth + 1),
            frozenset(step.shared),
        )
        if errors:
            shown = errors[: self.limits.max_branch_errors]
            raise WorkflowError(
                {
                    "message": (
                        f"UnhandledBranchError: {len(errors)} of {len(units)} branches or "
                        "iterations raised an unhandled error"
                    ),
                    "tags": ["UnhandledBranchError"],
                    "branches": [{"id": bid, "error": err} for bid, err in shown],
                }
            )

    def _retry_policy(self, step: TryStep, scope: Scope) -> tuple[Any, int, float, float, float]:
        retry = step.retry
        assert retry is not None
        if retry.policy is not None:
            policy = retry.policy(scope)
            if not isinstance(policy, dict) or "predicate" not in policy:
                raise fail("TypeError", "retry policy must be a map with predicate and backoff")
            backoff = policy.get("backoff") or {}
            raw = (
                policy["predicate"],
                policy.get("max_retries", 0),
                backoff.get("initial_delay", DEFAULT_BACKOFF["initial_delay"]),
                backoff.get("max_delay", DEFAULT_BACKOFF["max_delay"]),
                backoff.get("multiplier", DEFAULT_BACKOFF["multiplier"]),
            )
        else:

            def value(tpl: Any, default: Any) -> Any:
                return default if tpl is None else tpl(scope)

            raw = (
                value(retry.predicate, None),
                value(retry.max_retries, 0),
                value(retry.initial_delay, DEFAULT_BACKOFF["initial_delay"]),
                value(retry.max_delay, DEFAULT_BACKOFF["max_delay"]),
                value(retry.multiplier, DEFAULT_BACKOFF["multiplier"]),
            )
        predicate, max_retries, initial, maximum, multiplier = raw
        if not isinstance(predicate, FunctionRef):
            raise fail("TypeError", "retry predicate must name a subworkflow or function")
        if not isinstance(max_retries, int) or isinstance(max_retries, bool) or max_retries < 0:
            raise fail("ValueError", f"max_retries must be a non-negative integer: {max_retries!r}")
        for name, number in (
            ("initial_delay", initial),
            ("max_delay", maximum),
            ("multiplier", multiplier),
        ):
            if not is_number(number) or number < 0:
                raise fail("ValueError", f"backoff {name} must be a non-negative number")
        return predicate, max_retries, float(initial), float(maximum), float(multiplier)

    def _should_retry(self, predicate: FunctionRef, error: Any, scope: Scope) -> bool:
        verdict = self.call_function(predicate.name, [error], None, scope)
        if not isinstance(verdict, bool):
            raise fail("TypeError", f"retry predicate {predicate.name} must return true or false")
        return verdict

    def _try(self, step: TryStep, scope: Scope) -> None:
        assert step.body is not None
        entry: _Entry | None = getattr(self._local, "entry", None)
        attempt, policy = 0, None
        while True:
            try:
                self.run_block(step.body, scope)
                return None
            except WorkflowError as err:
                error = err
            if step.retry is not None:
                policy = policy or self._retry_policy(step, scope)
                predicate, max_retries, initial, maximum, multiplier = policy
                if attempt < max_retries and self._should_retry(predicate, error.value, scope):
                    delay = min(initial * multiplier**attempt, maximum) * self.retry_delay_scale
                    attempt += 1
                    if entry is not None and entry.step is step:
                        entry.retries = attempt
                    self.sleep(delay)
                    continue
            if not step.has_except:
                raise error
            handler = scope.child()
            try:
                if step.except_as:
                    handler.put(step.except_as, error.value)
                if step.except_body is not None:
                    self.run_block(step.except_body, handler)
            finally:
                handler.release()
            return None

    def _raise(self, step: RaiseStep, scope: Scope) -> None:
        assert step.value is not None
        raise WorkflowError(step.value(scope))

    def _return(self, step: ReturnStep, scope: Scope) -> None:
        assert step.value is not None
        raise _Return(step.value(scope))

    def _steps(self, step: StepsStep, scope: Scope) -> None:
        assert step.body is not None
        self.run_block(step.body, scope)


class _Branches:
    """Runs the branches or iterations of one parallel step, at most `limit` at once."""

    def __init__(self, executor: Executor) -> None:
        self.executor = executor
        # The parallel step itself: what a branch's errors name until it runs a step of its own.
        self.entry: _Entry | None = getattr(executor._local, "entry", None)

    def run(
        self,
        units: list[tuple[str, Block, dict[str, Any]]],
        limit: int,
        parent: Scope,
        frame: _Frame,
        shared: frozenset[str],
    ) -> list[tuple[str, Any]]:
        executor = self.executor
        done = executor.clock.mailbox()
        errors: list[tuple[str, Any]] = []
        cancelled = False
        pending = list(reversed(units))
        running = 0
        while pending or running:
            while pending and running < limit and not cancelled:
                unit = pending.pop()
                running += 1
                executor.clock.start_thread(
                    lambda unit=unit: done.put(self._one(unit, parent, frame, shared)),
                    name=f"branch-{unit[0]}",
                )
            if running == 0:
                break
            bid, outcome = done.get()
            running -= 1
            if outcome is Cancelled:
                cancelled = True
            elif outcome is not None:
                errors.append((bid, outcome))
        if cancelled or executor.cancel.is_set():
            raise Cancelled()
        return errors

    def _one(
        self,
        unit: tuple[str, Block, dict[str, Any]],
        parent: Scope,
        frame: _Frame,
        shared: frozenset[str],
    ) -> tuple[str, Any]:
        bid, block, init = unit
        self.executor._local.entry = self.entry
        scope = Scope(self.executor, parent, frame, shared)
        try:
            for name, value in init.items():
                scope.put(name, value)
            self.executor.run_block(block, scope)
        except (_Continue, _End):
            pass
        except WorkflowError as err:
            return bid, err.value
        except LimitExceeded as exceeded:
            self.executor.abort(exceeded)
            return bid, Cancelled
        except Cancelled:
            return bid, Cancelled
        except (_Return, _Break, _Goto) as sig:
            return bid, {
                "message": f"{type(sig).__name__.strip('_').lower()} cannot leave a parallel branch",
                "tags": ["SystemError"],
            }
        except Exception as err:  # an engine defect must not hang the parallel step
            _log.exception("branch %s crashed", bid)
            return bid, {"message": f"internal error: {err!r}", "tags": ["SystemError"]}
        finally:
            scope.release()
        return bid, None
