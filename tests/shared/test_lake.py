"""The lake's layout: partition prefixes, object keys and the date and name rules."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from baton import lake

DAY = date(2013, 1, 15)


def test_every_step_commits_to_its_own_zone():
    assert {s: lake.step_prefix(s, "flights", DAY) for s in lake.STEPS} == {
        "extract": "raw/flights/dt=2013-01-15",
        "transform": "staged/flights/dt=2013-01-15",
        "validate": "validated/flights/dt=2013-01-15",
        "load": "loaded/flights/dt=2013-01-15",
    }


def test_manifest_and_attempt_record_sit_next_to_the_data():
    assert lake.manifest_key("validate", "flights", DAY) == (
        "validated/flights/dt=2013-01-15/_manifest.json"
    )
    assert lake.attempt_key("validate", "flights", DAY) == (
        "validated/flights/dt=2013-01-15/_attempt.json"
    )


def test_data_and_quarantine_keys_are_unique_per_attempt():
    assert lake.data_key("extract", "flights", DAY, "run-a") == (
        "raw/flights/dt=2013-01-15/part-run-a-0000.parquet"
    )
    assert lake.data_key("extract", "flights", DAY, "run-a", 12).endswith("-0012.parquet")
    assert lake.data_key("extract", "flights", DAY, "run-a") != lake.data_key(
        "extract", "flights", DAY, "run-b"
    )
    assert lake.quarantine_key("validate", "flights", DAY, "run-a") == (
        "quarantine/flights/dt=2013-01-15/validate-run-a.parquet"
    )


@given(st.dates(min_value=date(1, 1, 1)))
def test_parse_date_round_trips_every_iso_date(day):
    assert lake.parse_date(day.isoformat()) == day


@pytest.mark.parametrize(
    "text",
    ["2013-02-30", "../../etc", "2013-1-5", "20130105", "2013-01-05T00:00", " 2013-01-05", ""],
)
def test_parse_date_refuses_anything_but_a_real_yyyy_mm_dd(text):
    with pytest.raises(ValueError, match="is not a date"):
        lake.parse_date(text)


@pytest.mark.parametrize("name", ["flights", "weather_hourly", "a1"])
def test_lower_snake_case_names_are_accepted(name):
    assert lake.check_name("dataset", name) == name


@pytest.mark.parametrize("name", ["Flights", "1flights", "flights-x", "../x", "", "a" * 64])
def test_other_names_are_refused_naming_the_kind(name):
    with pytest.raises(ValueError, match="dataset name"):
        lake.check_name("dataset", name)
