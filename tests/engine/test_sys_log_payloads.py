"""What `sys.log` writes, per its reference page: which payload field and which severity.

https://cloud.google.com/workflows/docs/reference/stdlib/sys/log: "Maps are logged as a JSON
payload and stored in the jsonPayload field of the log entry. Other accepted types are logged as
a text payload and stored in the textPayload field"; `text` is "Always logged as a text
payload"; the examples call it with a map of arguments ("argsMap") and with a list of them
("argsList": `[${myVar}, "ERROR"]`, `[${null}, "ERROR", ${myVar}]`) and show the same entry,
`{"textPayload": "Log my error message", "severity": "ERROR"}`. The errors it raises are in
tests/engine/conformance/reference_pages.yaml.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from baton_engine import Engine, ExecutionStore, VirtualClock


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    return Engine(ExecutionStore(tmp_path_factory.mktemp("syslog")), clock=VirtualClock())


def _logged(engine: Engine, args: Any) -> dict[str, Any]:
    """The one log entry a workflow calling sys.log with `args` writes."""
    source = yaml.safe_dump(
        {
            "main": {
                "steps": [
                    {"init": {"assign": [{"myVar": "Log my error message"}]}},
                    {"log": {"call": "sys.log", "args": args}},
                    {"done": {"return": 1}},
                ]
            }
        },
        sort_keys=False,
    )
    record = engine.run(source)
    assert record.state == "SUCCEEDED", record.error
    (entry,) = engine.store.logs(record.id)
    return {k: v for k, v in entry.items() if k != "time"}


PAGE_ENTRY = {"severity": "ERROR", "textPayload": "Log my error message"}


@pytest.mark.parametrize(
    "args",
    [
        {"data": "${myVar}", "severity": "ERROR"},
        ["${myVar}", "ERROR"],
        {"text": "${myVar}", "severity": "ERROR"},
        ["${null}", "ERROR", "${myVar}"],
    ],
    ids=["data_map", "data_list", "text_map", "text_list"],
)
def test_the_page_examples_write_a_text_payload_at_error(engine: Engine, args: Any) -> None:
    assert _logged(engine, args) == PAGE_ENTRY


def test_a_map_given_as_data_is_a_json_payload(engine: Engine) -> None:
    entry = _logged(engine, {"data": {"Message1": "${myVar}"}, "severity": "ERROR"})
    assert entry == {"severity": "ERROR", "jsonPayload": {"Message1": "Log my error message"}}


def test_a_map_given_as_json_is_a_json_payload(engine: Engine) -> None:
    entry = _logged(engine, {"json": {"Message1": "${myVar}"}})
    assert entry == {"severity": "DEFAULT", "jsonPayload": {"Message1": "Log my error message"}}


def test_a_number_given_as_data_is_a_text_payload(engine: Engine) -> None:
    assert _logged(engine, {"data": 5}) == {"severity": "DEFAULT", "textPayload": "5"}


def test_a_map_given_as_text_is_a_text_payload_of_its_json(engine: Engine) -> None:
    entry = _logged(engine, {"text": {"a": [1, True]}, "severity": "INFO"})
    assert entry == {"severity": "INFO", "textPayload": '{"a": [1, true]}'}
