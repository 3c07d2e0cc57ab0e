"""Invariants of the expression evaluator, checked with Hypothesis over generated values."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from baton_engine.errors import WorkflowError, fail
from baton_engine.expr.evaluator import compile_expression

INT64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)
SMALL = st.integers(min_value=-(2**31), max_value=2**31)
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | INT64
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


class Vars:
    """A minimal expression context: variables only, plus the library through the engine."""

    def __init__(self, **values: Any) -> None:
        self.values = values

    def defined(self, name: str) -> bool:
        return name in self.values

    def lookup(self, name: str) -> Any:
        if name not in self.values:
            raise fail("KeyError", name)
        return self.values[name]

    def call(self, function: str, args: list[Any]) -> Any:
        from baton_engine.stdlib import library

        builtin = library().functions[function]
        return builtin.fn(*builtin.bind(args, None))

    def reference(self, name: str) -> Any:
        raise fail("KeyError", name)

    def known(self, name: str) -> bool:
        return False


def evaluate(text: str, **values: Any) -> Any:
    return compile_expression(text)(Vars(**values))


def same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


@given(INT64, INT64, st.sampled_from(["+", "-", "*"]))
def test_int_arithmetic_is_exact_or_an_overflow_error(a: int, b: int, op: str) -> None:
    expected = {"+": a + b, "-": a - b, "*": a * b}[op]
    if -(2**63) <= expected < 2**63:
        assert same(evaluate(f"a {op} b", a=a, b=b), expected)
    else:
        with pytest.raises(WorkflowError) as caught:
            evaluate(f"a {op} b", a=a, b=b)
        assert caught.value.tags == ["ValueError"]


@given(SMALL, SMALL.filter(lambda b: b != 0))
def test_floor_division_and_remainder_recompose_the_dividend(a: int, b: int) -> None:
    q, r = evaluate("a // b", a=a, b=b), evaluate("a % b", a=a, b=b)
    assert type(q) is int and type(r) is int
    assert q * b + r == a


@given(SMALL, SMALL.filter(lambda b: b != 0))
def test_division_always_gives_a_double(a: int, b: int) -> None:
    result = evaluate("a / b", a=a, b=b)
    assert type(result) is float and result == a / b


@given(SMALL, st.floats(allow_nan=False, allow_infinity=False, width=32))
def test_mixing_int_and_double_gives_a_double(a: int, x: float) -> None:
    assert type(evaluate("a + x", a=a, x=x)) is float


@given(st.text(max_size=30), st.text(max_size=30))
def test_strings_concatenate(a: str, b: str) -> None:
    assert evaluate("a + b", a=a, b=b) == a + b


@given(st.text(max_size=10), INT64 | st.booleans() | st.floats(allow_nan=False))
def test_a_string_plus_an_int_double_or_bool_is_their_concatenation(a: str, other: Any) -> None:
    # The datatypes page's `+` table: STRING with INTEGER, DOUBLE or BOOL is STRING, either way.
    text = evaluate("string(other)", other=other)
    assert evaluate("a + other", a=a, other=other) == a + text
    assert evaluate("other + a", a=a, other=other) == text + a


@given(st.text(max_size=10), st.none() | st.lists(st.integers(), max_size=2) | st.just({}))
def test_a_string_plus_null_a_list_or_a_map_is_a_type_error(a: str, other: Any) -> None:
    with pytest.raises(WorkflowError) as caught:
        evaluate("a + other", a=a, other=other)
    assert caught.value.tags == ["TypeError"]


@given(JSON_VALUES.filter(lambda v: len(json.dumps(v)) <= 400))
def test_a_json_literal_is_a_valid_expression_of_the_same_value(value: Any) -> None:
    assert same(evaluate(json.dumps(value)), value)


@given(JSON_VALUES)
def test_json_encode_and_decode_round_trip(value: Any) -> None:
    assert same(evaluate("json.decode(json.encode_to_string(v))", v=value), value)


@given(JSON_VALUES)
def test_every_value_equals_itself(value: Any) -> None:
    assert evaluate("v == v", v=value) is True
    assert evaluate("v != v", v=value) is False


@given(st.lists(JSON_VALUES, min_size=1, max_size=5), st.data())
def test_every_element_is_in_its_list(items: list[Any], data: st.DataObject) -> None:
    item = data.draw(st.sampled_from(items))
    assert evaluate("item in items", item=item, items=items) is True


@given(st.dictionaries(st.text(max_size=5), st.integers(), max_size=5), st.text(max_size=5))
def test_in_on_a_map_tests_its_keys(mapping: dict[str, int], key: str) -> None:
    assert evaluate("k in m", k=key, m=mapping) is (key in mapping)
