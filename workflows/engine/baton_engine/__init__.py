"""baton's local Cloud Workflows engine: parse, check and run a workflow's YAML as GCP would.

The names below are loaded on first use (PEP 562), so `baton workflow check`, which needs the
checker alone, does not import the runtime (the executor, records, clocks).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

_HOMES = {
    "baton_engine.definition.checker": ("check_source", "load"),
    "baton_engine.errors": (
        "ArgumentError",
        "DefinitionError",
        "EngineError",
        "Issue",
        "WorkflowError",
    ),
    "baton_engine.runtime.clock": ("Clock", "RealClock", "VirtualClock"),
    "baton_engine.runtime.engine": ("Engine",),
    "baton_engine.runtime.executor": ("CallContext", "Connector", "Limits"),
    "baton_engine.runtime.records": ("ExecutionRecord", "ExecutionStore"),
}
_HOME_OF = {name: module for module, names in _HOMES.items() for name in names}

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


def __getattr__(name: str) -> Any:
    module = _HOME_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'baton_engine' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value
