"""Logs: one JSON object per line with the fields Cloud Logging reads."""

from __future__ import annotations

import io
import json

from baton import log


def _lines(stream: io.StringIO) -> list[dict]:
    text = stream.getvalue()
    assert text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]


def test_each_event_is_one_json_line_with_severity_message_and_time():
    out = io.StringIO()
    log.configure("info", out)
    log.bind({})
    log.get().info("step finished", rows_in=3)
    log.get().warning("slow")
    first, second = _lines(out)
    assert first["severity"] == "INFO"
    assert first["message"] == "step finished"
    assert first["rows_in"] == 3
    assert first["time"].endswith("Z")
    assert second["severity"] == "WARNING"


def test_bound_run_context_becomes_string_labels_on_every_line():
    out = io.StringIO()
    log.configure("info", out)
    log.bind(
        {
            "step": "load",
            "dataset": "flights",
            "partition_date": "2013-01-02",
            "execution_id": "exec-1",
            "task_index": 3,
            "attempt": 0,
            "run_id": "r1",
        }
    )
    log.get().info("a")
    log.get().error("b")
    for line in _lines(out):
        assert line["logging.googleapis.com/labels"] == {
            "step": "load",
            "dataset": "flights",
            "partition_date": "2013-01-02",
            "execution_id": "exec-1",
            "task_index": "3",
            "attempt": "0",
        }
    log.bind({})


def test_an_exception_stays_on_one_line_with_its_traceback():
    out = io.StringIO()
    log.configure("info", out)
    log.bind({})
    try:
        raise RuntimeError("boom\nsecond line")
    except RuntimeError:
        log.get().exception("unexpected error")
    (line,) = _lines(out)
    assert line["severity"] == "ERROR"
    assert "RuntimeError: boom" in line["exception"]


def test_events_below_the_level_are_dropped():
    out = io.StringIO()
    log.configure("warning", out)
    log.get().info("quiet")
    log.get().debug("quieter")
    assert out.getvalue() == ""
