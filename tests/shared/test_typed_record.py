"""Typed records: JSON written in the layout pydantic wrote (floats, datetimes, strings), read
back strictly by the fields' annotations."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from baton import typed_record

WRITTEN = Path(__file__).parent / "pydantic_written"


@dataclass(frozen=True, kw_only=True)
class Entry:
    name: str
    size: int = field(default=0, metadata={"ge": 0})
    at: datetime | None = None
    tags: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        typed_record.validate(self)


def test_floats_are_written_as_pydantic_core_wrote_them():
    written = (WRITTEN / "floats.json").read_text()
    assert typed_record.dump(json.loads(written)).decode() == written


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_a_written_float_reads_back_as_the_same_float(number):
    assert float(typed_record.float_text(number)) == number
    assert math.copysign(1, float(typed_record.float_text(number))) == math.copysign(1, number)


def test_a_float_that_is_not_finite_is_written_as_null():
    assert [typed_record.float_text(x) for x in (math.inf, -math.inf, math.nan)] == ["null"] * 3


def test_a_utc_datetime_is_written_with_z_and_other_offsets_as_they_are():
    assert typed_record.plain(datetime(2024, 1, 1, tzinfo=UTC)) == "2024-01-01T00:00:00Z"
    half = timezone(timedelta(hours=-3, minutes=-30))
    assert typed_record.plain(datetime(2024, 1, 1, 0, 0, 0, 5, tzinfo=half)) == (
        "2024-01-01T00:00:00.000005-03:30"
    )


def test_the_layout_is_two_space_indented_utf8_with_empty_containers_inline():
    data = typed_record.dump(Entry(name="é\n✈", tags=()))
    assert data == '{\n  "name": "é\\n✈",\n  "size": 0,\n  "at": null,\n  "tags": []\n}'.encode()


@settings(max_examples=40, deadline=None)
@given(
    st.builds(
        Entry,
        name=st.text(),
        size=st.integers(min_value=0),
        at=st.none() | st.datetimes(timezones=st.just(UTC)),
        tags=st.lists(st.text(), max_size=3).map(tuple),
    )
)
def test_a_record_round_trips_through_its_json(entry):
    assert typed_record.parse(Entry, typed_record.dump(entry)) == entry


def test_json_values_are_coerced_as_pydantic_lax_mode_did():
    entry = typed_record.build(Entry, {"name": "a", "size": "12", "at": "2024-01-01T00:00:00Z"})
    assert entry == Entry(name="a", size=12, at=datetime(2024, 1, 1, tzinfo=UTC))
    assert typed_record.build(Entry, {"name": "a", "tags": ["x"]}).tags == ("x",)


@pytest.mark.parametrize(
    ("data", "where", "message"),
    [
        ({}, ("name",), "Field required"),
        ({"name": 3}, ("name",), "Input should be a valid string"),
        ({"name": "a", "size": -1}, ("size",), "greater than or equal to 0"),
        ({"name": "a", "size": True}, ("size",), "valid integer"),
        ({"name": "a", "size": 1.5}, ("size",), "fractional part"),
        ({"name": "a", "tags": ["x", 2]}, ("tags", 1), "valid string"),
        ({"name": "a", "at": "noon"}, ("at",), "valid datetime"),
        ([], (), "Input should be an object"),
    ],
)
def test_a_value_that_does_not_fit_names_its_path(data, where, message):
    with pytest.raises(typed_record.RecordError) as caught:
        typed_record.build(Entry, data)
    assert caught.value.loc == where
    assert message in caught.value.msg


def test_a_document_that_is_not_json_is_a_record_error_for_the_whole_document():
    with pytest.raises(typed_record.RecordError) as caught:
        typed_record.parse(Entry, b'{"name": ')
    assert caught.value.where == "document"
    assert caught.value.msg.startswith("Invalid JSON")


def test_a_value_json_cannot_hold_is_refused_when_written():
    with pytest.raises(TypeError, match="set"):
        typed_record.plain({"x": {1, 2}})


def test_a_date_is_not_taken_for_a_datetime_nor_the_reverse():
    @dataclass(frozen=True)
    class Day:
        day: date

        def __post_init__(self) -> None:
            typed_record.validate(self)

    with pytest.raises(typed_record.RecordError):
        Day(datetime(2024, 1, 1, tzinfo=UTC))
    with pytest.raises(typed_record.RecordError):
        Entry(name="a", at=date(2024, 1, 1))  # type: ignore[arg-type]
