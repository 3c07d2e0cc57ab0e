"""A workflow execution as the operator's tools see it, whichever target reports it (the local
engine's records, `baton serve`, or the Executions API): `ExecutionInfo`, and `execution_info`
to derive one from a local engine record."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from baton_engine import Engine, ExecutionRecord

ACTIVE_STATES = ("ACTIVE", "QUEUED")


@dataclass(frozen=True)
class ExecutionInfo:
    """One workflow execution as any target reports it; `result`/`error` are decoded JSON."""

    id: str  # the short id (the last segment of the resource name)
    name: str  # the full resource name
    workflow: str
    state: str  # ACTIVE | QUEUED | SUCCEEDED | FAILED | CANCELLED | UNAVAILABLE
    argument: Any = None
    result: Any = None
    error: Any = None
    start: float | None = None  # seconds since the epoch
    end: float | None = None
    current_steps: tuple[str, ...] = ()
    where: str = ""  # where its full record lives (a folder, a console URL)

    @property
    def finished(self) -> bool:
        """Whether the execution has ended (in any state)."""
        return self.state not in ACTIVE_STATES

    @property
    def duration(self) -> float | None:
        """Seconds from start to end, once finished."""
        if self.start is None or self.end is None:
            return None
        return self.end - self.start

    @property
    def summary(self) -> dict[str, Any] | None:
        """The pipeline's summary: the result, or the one a PartitionsFailed error carries."""
        for value in (self.result, self.error):
            if isinstance(value, dict):
                if isinstance(value.get("partitions"), dict):
                    return value
                if isinstance(value.get("summary"), dict):
                    return value["summary"]
        return None

    @property
    def error_message(self) -> str:
        """The error's message, or its JSON."""
        if isinstance(self.error, dict) and "message" in self.error:
            return str(self.error["message"])
        return "" if self.error is None else json.dumps(self.error, default=str)



def from_record(record: ExecutionRecord, name: str, where: str) -> ExecutionInfo:
    """An engine record as the operator verbs see it, under resource name `name`, its full
    record in folder `where`."""
    return ExecutionInfo(
        id=record.id,
        name=name,
        workflow=record.workflow,
        state=record.state,
        argument=record.argument,
        result=record.result,
        error=record.error,
        start=record.start,
        end=record.end,
        where=where,
    )


def execution_info(engine: Engine, record: ExecutionRecord) -> ExecutionInfo:
    """An engine record as the operator verbs see it."""
    name = (
        f"projects/{engine.project_id}/locations/{engine.location}/workflows/"
        f"{record.workflow}/executions/{record.id}"
    )
    return from_record(record, name, str(engine.store.folder(record.id)))
