"""baton's local Cloud Workflows engine: parse, check and run a workflow's YAML as GCP would."""

from baton_workflows.engine.checker import check_source, load
from baton_workflows.engine.clock import Clock, RealClock, VirtualClock
from baton_workflows.engine.engine import Engine
from baton_workflows.engine.errors import (
    ArgumentError,
    DefinitionError,
    Issue,
    WorkflowError,
)
from baton_workflows.engine.executor import CallContext, Connector, Limits
from baton_workflows.engine.records import ExecutionRecord, ExecutionStore

__all__ = [
    "ArgumentError",
    "CallContext",
    "Clock",
    "Connector",
    "DefinitionError",
    "Engine",
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
