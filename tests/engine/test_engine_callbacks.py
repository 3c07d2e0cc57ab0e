"""Callbacks: an execution waits at an endpoint it created until a request reaches it.

The await_callback page's sample (https://cloud.google.com/workflows/docs/reference/stdlib/events/
await_callback, "A basic callback workflow") runs on the real clock while the test, as the
outside service, sends the request through `Engine.send_callback`. What a refused input raises
is in tests/engine/conformance/reference_pages.yaml (virtual time).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from baton_engine import Engine, ExecutionStore, VirtualClock
from baton_engine.runtime.clock import RealClock

PAGE_SAMPLE = """
main:
  steps:
    - create_callback:
        call: events.create_callback_endpoint
        args:
            http_callback_method: "GET"
        result: callback_details
    - print_callback_details:
        call: sys.log
        args:
            severity: "INFO"
            text: ${"Listening for callbacks on " + callback_details.url}
    - await_callback:
        call: events.await_callback
        args:
            callback: ${callback_details}
            timeout: 3600
        result: callback_request
    - print_callback_request:
        call: sys.log
        args:
            severity: "INFO"
            text: ${"Received " + json.encode_to_string(callback_request.http_request)}
    - return_callback_result:
        return: ${callback_request.http_request}
"""
DEFAULT_METHOD = PAGE_SAMPLE.replace('http_callback_method: "GET"', "{}")


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    return Engine(ExecutionStore(tmp_path), clock=RealClock())


def _endpoint(engine: Engine, execution_id: str) -> str:
    """The first callback URL the execution creates (waits up to 10 s for it)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        urls = engine.callbacks.pending(execution_id)
        if urls:
            return urls[0]
        time.sleep(0.01)
    raise AssertionError("the execution created no callback endpoint")


def test_the_page_sample_returns_the_request_it_received(engine: Engine) -> None:
    execution = engine.start(PAGE_SAMPLE)
    url = _endpoint(engine, execution)
    engine.send_callback(url, "GET", headers={"X-Sender": "test"}, query={"id": ["7"]})
    record = engine.wait(execution)
    assert record.state == "SUCCEEDED", record.error
    assert record.result == {
        "method": "GET",
        "headers": {"X-Sender": "test"},
        "body": None,
        "query": {"id": ["7"]},
    }
    logged = [e["textPayload"] for e in engine.store.logs(execution)]
    assert logged[0] == "Listening for callbacks on " + url
    assert logged[1].startswith('Received {"method": "GET"')


def test_an_endpoint_expects_post_by_default(engine: Engine) -> None:
    execution = engine.start(DEFAULT_METHOD)
    url = _endpoint(engine, execution)
    engine.send_callback(url, body={"approved": True})
    record = engine.wait(execution)
    assert record.result["method"] == "POST"
    assert record.result["body"] == {"approved": True}


def test_a_request_with_another_method_is_refused_and_the_wait_goes_on(engine: Engine) -> None:
    execution = engine.start(PAGE_SAMPLE)
    url = _endpoint(engine, execution)
    with pytest.raises(ValueError, match="expects GET"):
        engine.send_callback(url, "POST")
    engine.send_callback(url, "GET")
    assert engine.wait(execution).state == "SUCCEEDED"


def test_an_ended_execution_has_no_endpoint(engine: Engine) -> None:
    execution = engine.start(PAGE_SAMPLE)
    url = _endpoint(engine, execution)
    engine.send_callback(url, "GET")
    engine.wait(execution)
    with pytest.raises(LookupError, match="no callback endpoint"):
        engine.send_callback(url, "GET")


def test_cancelling_stops_an_execution_waiting_for_a_callback(engine: Engine) -> None:
    execution = engine.start(PAGE_SAMPLE)
    _endpoint(engine, execution)
    started = time.monotonic()
    engine.cancel(execution)
    record = engine.wait(execution)
    assert record.state == "CANCELLED"
    assert time.monotonic() - started < 5


def test_await_callback_waits_43200_seconds_by_default(tmp_path: Path) -> None:
    # "timeout float The maximum request timeout in seconds (default: 43200.0)."; on the
    # virtual clock nothing arrives from outside, so the wait is the whole default.
    source = PAGE_SAMPLE.replace("            timeout: 3600\n", "")
    record = Engine(ExecutionStore(tmp_path), clock=VirtualClock()).run(source)
    assert record.error["tags"] == ["TimeoutError"]
    assert record.end - record.start == pytest.approx(43200.0)
