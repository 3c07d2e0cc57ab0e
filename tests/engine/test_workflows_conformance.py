"""The conformance suite: YAML cases (tests/engine/conformance/*.yaml) written from the
official Cloud Workflows documentation's stated semantics, each run through the engine.

A case gives a workflow (`workflow:`, or `expr:` for a one-expression workflow), an optional
`argument` and `env`, and what must happen: `result` (compared strictly: 1 is not 1.0 nor
true), `error` (a raised string, or a map whose `tags` must all be present and whose
`message_contains` must appear in the message), or `issues` (substrings of the static check
problems that stop it before it runs). `elapsed` is the virtual time the execution must take:
every case runs on the virtual clock, so sleeps and retry backoffs cost no real time.
`limits` lowers the engine's platform limits for the case (fields of `Limits`, e.g.
`max_memory_bytes`), so a limit can be reached with small values.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from baton_cli.conform import case_source, strictly_equal
from baton_engine import DefinitionError, Engine, ExecutionStore, Limits, VirtualClock

_TYPES = {
    "integer": int,
    "double": float,
    "string": str,
    "bool": bool,
    "null": type(None),
    "list": list,
    "map": dict,
}

HERE = Path(__file__).parent / "conformance"


def _cases() -> list[Any]:
    params = []
    for path in sorted(HERE.glob("*.yaml")):
        for case in yaml.safe_load(path.read_text())["cases"]:
            params.append(pytest.param(case, id=f"{path.stem}::{case['name']}"))
    return params


def _matches_error(actual: Any, expected: Any) -> bool:
    if not isinstance(expected, dict):
        return strictly_equal(actual, expected)
    if not isinstance(actual, dict):
        return False
    tags = set(actual.get("tags") or [])
    if not set(expected.get("tags", [])) <= tags:
        return False
    if expected.get("message_contains", "") not in str(actual.get("message", "")):
        return False
    rest = {k: v for k, v in expected.items() if k not in ("tags", "message_contains")}
    return all(strictly_equal(actual.get(k), v) for k, v in rest.items())


@pytest.mark.parametrize("case", _cases())
def test_conformance(case: dict[str, Any], tmp_path: Path) -> None:
    clock = VirtualClock()
    engine = Engine(
        ExecutionStore(tmp_path),
        clock=clock,
        user_env=case.get("env", {}),
        limits=Limits(**case.get("limits", {})),
    )
    source = case_source(case)
    if "issues" in case:
        with pytest.raises(DefinitionError) as caught:
            engine.start(source, case.get("argument"))
        found = [str(i) for i in caught.value.issues]
        for wanted in case["issues"]:
            assert any(wanted in issue for issue in found), f"{wanted!r} not in {found}"
        return
    record = engine.run(source, case.get("argument"))
    if "error" in case:
        assert record.state == "FAILED", f"expected an error, got result {record.result!r}"
        assert _matches_error(record.error, case["error"]), record.error
    else:
        assert record.state == "SUCCEEDED", record.error
        if "result_type" in case:
            assert type(record.result) is _TYPES[case["result_type"]], record.result
        if "result" in case or "result_type" not in case:
            assert strictly_equal(record.result, case["result"]), (record.result, case["result"])
    if "elapsed" in case:
        assert record.end is not None
        assert record.end - record.start == pytest.approx(case["elapsed"], abs=1e-6)
