"""What a connector is written with: the call context it receives, `fail` and `WorkflowError` to
raise workflow errors, `Cancelled` to unwind a cancelled execution, and the JSON conversions of
workflow values. Connectors (in the twin) import this and nothing deeper of the engine."""

from baton_engine.errors import Cancelled, WorkflowError, fail
from baton_engine.expr.values import from_json, to_json_text, type_name
from baton_engine.runtime.executor import CallContext, Connector

__all__ = [
    "CallContext",
    "Cancelled",
    "Connector",
    "WorkflowError",
    "fail",
    "from_json",
    "to_json_text",
    "type_name",
]
