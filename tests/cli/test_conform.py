"""`baton workflow conform`'s verdicts: how cases are read and when the local engine and the
service agree."""

from __future__ import annotations

import pytest
import yaml

from baton.errors import ConfigError
from baton_cli.conform import PROBES, Case, Outcome, compare, parse_cases, select, summary

CASE = Case("t::c", "main: {}")


def test_an_expr_case_becomes_a_one_step_workflow_returning_it():
    (case,) = parse_cases("stdlib", "cases:\n  - name: add\n    expr: 1 + 2\n    result: 3\n")
    assert case.name == "stdlib::add"
    assert yaml.safe_load(case.source) == {"main": {"steps": [{"r": {"return": "${1 + 2}"}}]}}


def test_a_workflow_case_keeps_its_argument_and_environment():
    text = yaml.safe_dump(
        {
            "cases": [
                {
                    "name": "env",
                    "workflow": {"main": {"steps": [{"r": {"return": 1}}]}},
                    "argument": {"x": 1},
                    "env": {"A": "b"},
                }
            ]
        }
    )
    (case,) = parse_cases("f", text)
    assert case.argument == {"x": 1} and case.env == {"A": "b"} and not case.skip


def test_a_case_that_lowers_the_engine_limits_is_skipped_with_the_reason():
    text = "cases:\n  - name: small\n    expr: 1\n    limits: {max_memory_bytes: 10}\n"
    (case,) = parse_cases("memory", text)
    assert "limits" in case.skip


@pytest.mark.parametrize(
    "text", ["cases: 3", "- 1", "cases:\n  - expr: 1\n", "cases:\n  - name: x\n"]
)
def test_a_malformed_case_file_is_a_config_error_naming_the_file(text):
    with pytest.raises(ConfigError, match=r"broken\.yaml"):
        parse_cases("broken", text)


def test_equal_results_agree_and_1_is_not_1_point_0():
    assert compare(CASE, Outcome("result", [1, "a"]), Outcome("result", [1, "a"])).agree
    verdict = compare(CASE, Outcome("result", 1), Outcome("result", 1.0))
    assert not verdict.agree and verdict.label == "differ"


def test_errors_with_the_same_tags_and_code_agree_whatever_their_wording():
    local = Outcome("error", {"tags": ["HttpError"], "code": 404, "message": "ours"})
    remote = Outcome("error", {"tags": ["HttpError"], "code": 404, "message": "Google's"})
    verdict = compare(CASE, local, remote)
    assert verdict.agree and "messages differ" in verdict.note


def test_errors_with_other_tags_differ():
    local = Outcome("error", {"tags": ["IndexError"], "message": "m"})
    remote = Outcome("error", {"tags": ["ValueError"], "message": "m"})
    assert not compare(CASE, local, remote).agree


def test_a_raised_string_must_be_the_same_string():
    assert compare(CASE, Outcome("error", "boom"), Outcome("error", "boom")).agree
    assert not compare(CASE, Outcome("error", "boom"), Outcome("error", "bang")).agree


def test_the_twin_raising_where_the_service_returns_is_named_as_the_twin_being_stricter():
    verdict = compare(CASE, Outcome("error", {"tags": ["IndexError"]}), Outcome("result", "abc"))
    assert not verdict.agree and verdict.note == "the twin is stricter than the service"


def test_both_refusing_a_definition_agree():
    assert compare(CASE, Outcome("refused", "ours"), Outcome("refused", "theirs")).agree


def test_the_probes_ask_about_get_type_substring_bounds_and_jobs_run_errors():
    names = {p.name for p in PROBES}
    assert "probe::get_type_names" in names and "probe::jobs_run_error_shape" in names
    assert sum("substring" in n for n in names) >= 4
    assert all(p.question for p in PROBES)


def test_select_and_summary():
    cases = [Case("a::x", ""), Case("b::y", "", skip="why")]
    assert [c.name for c in select(cases, "b::")] == ["b::y"]
    verdicts = [compare(cases[0], Outcome("result", 1), Outcome("result", 2))]
    assert summary(verdicts) == {"agree": 0, "differ": 1, "skipped": 0}
