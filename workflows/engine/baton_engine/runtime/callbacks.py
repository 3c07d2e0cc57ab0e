"""Callback endpoints: what `events.create_callback_endpoint` creates and `events.await_callback`
waits on, and how a request reaches one (`CallbackHub.send`).

https://cloud.google.com/workflows/docs/creating-callback-endpoints: "Callback endpoints can only
be waited on in the workflow execution in which they're created"; the endpoint expects one HTTP
method, "one of GET, HEAD, POST, PUT, DELETE, OPTIONS, or PATCH. The default is POST"; "you can
then access the entire HTTP request, including its headers, body, and a query map for any query
parameters". The URL has the form of the Executions API's sendHttpCallback
(https://cloud.google.com/workflows/docs/reference/executions/rest/v1/projects.locations.
workflows.executions.callbacks/sendHttpCallback):
`https://workflowexecutions.googleapis.com/v1/projects/*/locations/*/workflows/*/executions/
{executionId}/callbacks/{callbackId}`. Locally a request is delivered in-process, through
`Engine.send_callback`; requests wait in arrival order until awaited.
"""

from __future__ import annotations

import threading
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any

BASE_URL = "https://workflowexecutions.googleapis.com/v1"


class LinkedEvent(threading.Event):
    """An event that also sets the events linked to it: an execution's cancel signal wakes
    whatever its branches wait on (a callback) without polling."""

    def __init__(self) -> None:
        super().__init__()
        self._links: list[threading.Event] = []
        self._links_lock = threading.Lock()

    def link(self, other: threading.Event) -> None:
        with self._links_lock:
            if all(o is not other for o in self._links):
                self._links.append(other)
        if self.is_set():
            other.set()

    def set(self) -> None:
        super().set()
        with self._links_lock:
            links = list(self._links)
        for other in links:
            other.set()


@dataclass
class Endpoint:
    """One callback endpoint and the requests that reached it, oldest first."""

    url: str
    execution_id: str
    method: str
    requests: deque[dict[str, Any]] = field(default_factory=deque)
    wake: threading.Event = field(default_factory=threading.Event)


class CallbackHub:
    """Every live callback endpoint of an engine, by URL."""

    def __init__(self) -> None:
        self._endpoints: dict[str, Endpoint] = {}
        self._lock = threading.Lock()

    def create(self, workflow_path: str, execution_id: str, method: str) -> str:
        """A new endpoint of this execution expecting `method`; its URL."""
        url = f"{BASE_URL}/{workflow_path}/executions/{execution_id}/callbacks/{uuid.uuid4()}"
        with self._lock:
            self._endpoints[url] = Endpoint(url, execution_id, method)
        return url

    def endpoint(self, url: str) -> Endpoint | None:
        """The live endpoint at `url`, if any."""
        with self._lock:
            return self._endpoints.get(url)

    def pending(self, execution_id: str) -> list[str]:
        """The URLs of the execution's live endpoints, in creation order."""
        with self._lock:
            return [u for u, e in self._endpoints.items() if e.execution_id == execution_id]

    def send(
        self,
        url: str,
        method: str = "POST",
        *,
        headers: dict[str, str] | None = None,
        body: Any = None,
        query: dict[str, Any] | None = None,
    ) -> None:
        """Deliver one HTTP request to an endpoint: LookupError if there is none at `url` (or
        its execution ended), ValueError if it expects another method."""
        endpoint = self.endpoint(url)
        if endpoint is None:
            raise LookupError(f"no callback endpoint at {url}")
        if method != endpoint.method:
            raise ValueError(f"the callback endpoint {url} expects {endpoint.method}, not {method}")
        request = {
            "http_request": {
                "method": method,
                "headers": dict(headers or {}),
                "body": body,
                "query": dict(query or {}),
            }
        }
        with self._lock:
            endpoint.requests.append(request)
        endpoint.wake.set()

    def close(self, execution_id: str) -> None:
        """Drop an ended execution's endpoints: later requests to them fail."""
        with self._lock:
            for url in [u for u, e in self._endpoints.items() if e.execution_id == execution_id]:
                del self._endpoints[url]

    def take(self, endpoint: Endpoint) -> dict[str, Any] | None:
        """The oldest request waiting at an endpoint, removed; None if none."""
        with self._lock:
            if endpoint.requests:
                return endpoint.requests.popleft()
            endpoint.wake.clear()
            return None
