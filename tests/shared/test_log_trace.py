"""Trace fields: every line of a step run names its workflow execution's trace and the run's
span, so Logs Explorer groups one execution's lines across the four step jobs."""

from __future__ import annotations

import io
import json
import re
import uuid

from lakes import JAN_1

from baton import log
from baton.errors import ExitCode
from baton.lake import STEPS

TRACE, SPAN = "logging.googleapis.com/trace", "logging.googleapis.com/spanId"
PROJECT = "acme-data"


def test_a_uuid_execution_id_is_its_own_trace_id_without_dashes():
    execution = "3f1c9a2e-0b7d-4c1e-9a55-8d2f6b1e0c47"
    assert log.trace_id(execution) == "3f1c9a2e0b7d4c1e9a558d2f6b1e0c47"


def test_any_other_execution_id_hashes_to_32_hex_characters_deterministically():
    assert re.fullmatch(r"[0-9a-f]{32}", log.trace_id("rerun-local"))
    assert log.trace_id("rerun-local") == log.trace_id("rerun-local")
    assert log.trace_id("rerun-local") != log.trace_id("rerun-locaL")


def test_a_span_id_is_16_hex_characters_and_never_zero():
    assert re.fullmatch(r"[0-9a-f]{16}", log.span_id("run-1"))
    assert log.trace_id("00000000-0000-0000-0000-000000000000").strip("0")


def test_lines_bound_to_a_run_carry_the_trace_and_span_and_unbound_lines_do_not():
    out = io.StringIO()
    log.configure("info", out, project=PROJECT)
    log.bind({})
    log.get().info("cannot start")
    log.bind({"execution_id": "3f1c9a2e-0b7d-4c1e-9a55-8d2f6b1e0c47", "run_id": "r1"})
    log.get().info("step finished")
    unbound, bound = (json.loads(line) for line in out.getvalue().splitlines())
    assert TRACE not in unbound and SPAN not in unbound
    assert bound[TRACE] == f"projects/{PROJECT}/traces/3f1c9a2e0b7d4c1e9a558d2f6b1e0c47"
    assert bound[SPAN] == log.span_id("r1")


def test_the_four_steps_of_one_execution_share_one_trace_with_a_span_per_step_run(lake):
    execution = str(uuid.uuid4())
    env = {"BATON_EXECUTION_ID": execution, "BATON_GCP_PROJECT": PROJECT}
    spans: dict[str, set[str]] = {}
    traces: set[str] = set()
    for step in STEPS:
        code, lines = lake.run_logged(step, JAN_1, env=env)
        assert code == ExitCode.OK, lines
        run_lines = [line for line in lines if "run_id" in line]
        assert run_lines, f"{step} logged no line bound to its run"
        traces |= {line[TRACE] for line in run_lines}
        spans[step] = {line[SPAN] for line in run_lines}
        assert all(re.fullmatch(r"[0-9a-f]{16}", s) for s in spans[step])
    assert traces == {f"projects/{PROJECT}/traces/{execution.replace('-', '')}"}
    assert all(len(s) == 1 for s in spans.values()), spans  # one span per step run
    assert len(set().union(*spans.values())) == len(STEPS)  # and a different one per step
