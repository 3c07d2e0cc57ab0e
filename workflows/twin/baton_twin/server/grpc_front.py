"""The gRPC front of `baton serve`: `google.cloud.workflows.executions.v1.Executions`, which is
the only transport the official Python Executions client has, on a plaintext loopback port."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import grpc
from google.cloud.workflows.executions_v1 import (
    CancelExecutionRequest,
    CreateExecutionRequest,
    Execution,
    GetExecutionRequest,
    ListExecutionsRequest,
    ListExecutionsResponse,
)

from baton_twin.server.api_error import ApiError
from baton_twin.server.executions import WorkflowExecutions
from baton_twin.server.workflows_api import ExecutionsRouter

SERVICE = "google.cloud.workflows.executions.v1.Executions"


def _unary(
    fn: Callable[[Any], Any], request_type: Any, response_type: Any
) -> grpc.RpcMethodHandler:
    def handle(request: Any, context: grpc.ServicerContext) -> Any:
        try:
            return fn(request)
        except ApiError as err:
            context.abort(grpc.StatusCode[err.status], err.message)

    return grpc.unary_unary_rpc_method_handler(
        handle,
        request_deserializer=request_type.deserialize,
        response_serializer=response_type.serialize,
    )


def make_grpc_server(
    workflows: WorkflowExecutions | ExecutionsRouter, host: str, port: int
) -> tuple[grpc.Server, int]:
    """A gRPC server with the Executions service; (server, bound port). Not started."""
    handlers = {
        "CreateExecution": _unary(
            lambda r: workflows.create(r.parent, r.execution), CreateExecutionRequest, Execution
        ),
        "GetExecution": _unary(
            lambda r: workflows.get(r.name, r.view), GetExecutionRequest, Execution
        ),
        "ListExecutions": _unary(
            lambda r: workflows.list(r.parent, r.page_size, r.page_token, r.view),
            ListExecutionsRequest,
            ListExecutionsResponse,
        ),
        "CancelExecution": _unary(
            lambda r: workflows.cancel(r.name), CancelExecutionRequest, Execution
        ),
    }
    server = grpc.server(ThreadPoolExecutor(max_workers=8, thread_name_prefix="serve-grpc"))
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, handlers),))
    bound = server.add_insecure_port(f"{host}:{port}")
    if not bound:
        raise OSError(f"cannot listen on {host}:{port} for gRPC")
    return server, bound
