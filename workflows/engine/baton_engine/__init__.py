"""baton's local Cloud Workflows engine: parse, check and run a workflow's YAML as GCP would."""

from baton_engine.definition.checker import check_source, load
from baton_engine.errors import (
    ArgumentError,
    DefinitionError,
    EngineError,
    Issue,
    WorkflowError,
)
from baton_engine.runtime.clock import Clock, RealClock, VirtualClock
from baton_engine.runtime.engine import Engine
from baton_engine.runtime.executor import CallContext, Connector, Limits
from baton_engine.runtime.records import ExecutionRecord, ExecutionStore

__all__ = [
    "ArgumentError",
    "CallContext",
    "Clock",
    "Connector",
    "DefinitionError",
    "Engine",
    "EngineError",
    "ExecutionRecord",
    "ExecutionStore",
    "Issue",
    "Limits",
    "RealClock",
    "VirtualClock",
    "WorkflowError",
    "check_source",
    "load",
]
