"""The engine's Python API: start, run, wait for, cancel and look up executions.

    engine = Engine(ExecutionStore(home / "executions"), connectors=..., user_env=...)
    record = engine.run(source, {"date": "2013-03-01"}, workflow_id="pipeline")
    record.state, record.result, record.error

A definition is checked before anything runs (DefinitionError); every execution is recorded
in the store while it runs. Clock, connectors and retry pacing are injected, not patched.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from baton_engine.definition.checker import load
from baton_engine.errors import ArgumentError, Cancelled, WorkflowError
from baton_engine.expr.values import to_json_text
from baton_engine.runtime.callbacks import CallbackHub, LinkedEvent
from baton_engine.runtime.clock import Clock, RealClock
from baton_engine.runtime.executor import Connector, Executor, Limits
from baton_engine.runtime.records import ExecutionRecord, ExecutionStore
from baton_limits import WORKFLOW_ARGUMENT_BYTES

_log = logging.getLogger(__name__)

MAX_ARGUMENT_BYTES = WORKFLOW_ARGUMENT_BYTES
CANCEL_POLL_S = 0.5  # how often a running execution looks for a cancel request on disk


@dataclass
class _Running:
    thread: threading.Thread | None
    cancel: threading.Event
    done: threading.Event


class Engine:
    """Runs workflow executions locally and records them in an ExecutionStore."""

    def __init__(
        self,
        store: ExecutionStore,
        *,
        connectors: Mapping[str, Connector] | None = None,
        user_env: Mapping[str, str] | None = None,
        clock: Clock | None = None,
        retry_delay_scale: float = 1.0,
        limits: Limits | None = None,
        project_id: str = "baton-local",
        project_number: str = "000000000000",
        location: str = "local",
        log_sink: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self.store = store
        self.connectors = dict(connectors or {})
        self.user_env = dict(user_env or {})
        self.clock = clock or RealClock()
        self.retry_delay_scale = retry_delay_scale
        self.limits = limits or Limits()
        self.project_id = project_id
        self.project_number = project_number
        self.location = location
        self.log_sink = log_sink
        self._running: dict[str, _Running] = {}
        self._lock = threading.Lock()
        self.callbacks = CallbackHub()

    def builtin_env(self, workflow_id: str, execution_id: str, source: str) -> dict[str, str]:
        """The GOOGLE_CLOUD_* variables `sys.get_env` provides, with their local values."""
        revision = hashlib.sha256(source.encode()).hexdigest()[:3]
        return {
            "GOOGLE_CLOUD_PROJECT_ID": self.project_id,
            "GOOGLE_CLOUD_PROJECT_NUMBER": self.project_number,
            "GOOGLE_CLOUD_LOCATION": self.location,
            "GOOGLE_CLOUD_WORKFLOW_ID": workflow_id,
            "GOOGLE_CLOUD_WORKFLOW_REVISION_ID": f"000001-{revision}",
            "GOOGLE_CLOUD_WORKFLOW_EXECUTION_ID": execution_id,
            "GOOGLE_CLOUD_SERVICE_ACCOUNT_NAME": (
                f"baton-workflow@{self.project_id}.iam.gserviceaccount.com"
            ),
        }

    def start(
        self,
        source: str,
        argument: Any = None,
        *,
        workflow_id: str = "workflow",
        source_path: str | None = None,
    ) -> str:
        """Check the workflow, record a new ACTIVE execution, run it in the background; its id.

        Raises DefinitionError (nothing runs) or ArgumentError.
        """
        workflow = load(source, self.connectors)
        _check_argument(argument)
        execution_id = str(uuid.uuid4())
        record = ExecutionRecord(
            id=execution_id,
            workflow=workflow_id,
            argument=argument,
            start=self.clock.now(),
            source_path=source_path,
        )
        folder = self.store.create(record, source)
        recorder = self.store.recorder(execution_id, self.clock.now, self.log_sink)
        running = _Running(None, LinkedEvent(), threading.Event())
        executor = Executor(
            workflow,
            execution_id=execution_id,
            clock=self.clock,
            env={**self.user_env, **self.builtin_env(workflow_id, execution_id, source)},
            connectors=self.connectors,
            recorder=recorder,
            cancel=running.cancel,
            retry_delay_scale=self.retry_delay_scale,
            limits=self.limits,
            workdir=folder,
            callbacks=self.callbacks,
        )

        def execute() -> None:
            try:
                self._execute(executor, record, argument)
            finally:
                self.callbacks.close(execution_id)
                recorder.close()
                running.done.set()
                with self._lock:
                    self._running.pop(execution_id, None)

        with self._lock:
            self._running[execution_id] = running
        running.thread = self.clock.start_thread(execute, name=f"execution-{execution_id[:8]}")
        threading.Thread(
            target=self._watch_cancel, args=(execution_id, running), daemon=True
        ).start()
        return execution_id

    def _execute(self, executor: Executor, record: ExecutionRecord, argument: Any) -> None:
        try:
            record.result = executor.run(argument)
            record.state = "SUCCEEDED"
        except WorkflowError as err:
            record.state, record.error = "FAILED", err.value
        except Cancelled:
            record.state = "CANCELLED"
            record.error = {"message": "the execution was cancelled", "tags": ["Cancelled"]}
        except Exception as err:  # an engine defect: fail the execution, keep the engine alive
            _log.exception("execution %s crashed", record.id)
            record.state = "FAILED"
            record.error = {"message": f"internal error: {err!r}", "tags": ["SystemError"]}
        record.end = self.clock.now()
        record.steps_run = executor.steps_run
        record.memory_peak_bytes = executor.memory.peak
        self.store.save(record)

    def _watch_cancel(self, execution_id: str, running: _Running) -> None:
        while not running.done.wait(CANCEL_POLL_S):
            if self.store.cancel_requested(execution_id):
                running.cancel.set()
                return

    def run(
        self,
        source: str,
        argument: Any = None,
        *,
        workflow_id: str = "workflow",
        source_path: str | None = None,
    ) -> ExecutionRecord:
        """Start an execution and wait for it to finish; its final record."""
        execution_id = self.start(
            source, argument, workflow_id=workflow_id, source_path=source_path
        )
        return self.wait(execution_id)

    def wait(self, execution_id: str, timeout: float | None = None) -> ExecutionRecord:
        """Block until an execution started here finishes (or `timeout`); its record."""
        with self._lock:
            running = self._running.get(execution_id)
        if running is not None:
            running.done.wait(timeout)
        return self.store.get(execution_id)

    def send_callback(
        self,
        url: str,
        method: str = "POST",
        *,
        headers: dict[str, str] | None = None,
        body: Any = None,
        query: dict[str, Any] | None = None,
    ) -> None:
        """Deliver an HTTP request to a callback endpoint of a running execution (what a POST
        to its URL does on the service); LookupError if none is there, ValueError if it expects
        another method. `callbacks.pending(execution_id)` lists an execution's endpoints."""
        self.callbacks.send(url, method, headers=headers, body=body, query=query)

    def cancel(self, execution_id: str) -> None:
        """Stop an execution: at once if it runs in this process, else at its next poll."""
        self.store.request_cancel(execution_id)
        with self._lock:
            running = self._running.get(execution_id)
        if running is not None:
            running.cancel.set()

    def get(self, execution_id: str) -> ExecutionRecord:
        """One execution's record (LookupError when unknown)."""
        return self.store.get(execution_id)

    def list(self) -> list[ExecutionRecord]:
        """Every recorded execution, newest first."""
        return self.store.list()


def _check_argument(argument: Any) -> None:
    try:
        size = len(to_json_text(argument).encode())
    except WorkflowError as err:
        raise ArgumentError(f"the execution argument is not JSON: {err}") from None
    if size > MAX_ARGUMENT_BYTES:
        raise ArgumentError(
            f"the execution argument is {size} bytes; the limit is {MAX_ARGUMENT_BYTES}"
        )
