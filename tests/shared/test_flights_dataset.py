"""The flights dataset's transform, on literal rows: local clock times to UTC (past midnight,
Honolulu, Puerto Rico, DST change days), carrier names, status and delay buckets; its contract
and mart."""

from __future__ import annotations

from datetime import UTC, date, datetime

import polars as pl
from polars.testing import assert_frame_equal

from baton.contract import PartitionContext, failed_rules
from baton.datasets.flights import CONTRACT, DATASET, SOURCE, carrier_daily_performance, transform

AIRPORTS = pl.DataFrame(
    {
        "faa": ["JFK", "LGA", "EWR", "LAX", "HNL", "ORD", "BOS", "BUF", "PBI", "SJU"],
        "tzone": ["America/New_York"] * 3
        + ["America/Los_Angeles", "Pacific/Honolulu", "America/Chicago"]
        + ["America/New_York"] * 3
        + ["America/Puerto_Rico"],
    }
)
AIRLINES = pl.DataFrame(
    {"carrier": ["AA", "B6", "HA", "UA"], "name": ["American", "JetBlue", "Hawaiian", "United"]}
)
REFS = {"airports": AIRPORTS, "airlines": AIRLINES}
COLUMNS = ("year", "month", "day", "dep_time", "sched_dep_time", "dep_delay", "arr_time")
COLUMNS += ("sched_arr_time", "arr_delay", "carrier", "flight", "origin", "dest", "air_time")


def _raw(day: date, rows: list[tuple]) -> pl.LazyFrame:
    """Landing rows (the columns in COLUMNS; the rest of the raw schema is filled in)."""
    partial = pl.DataFrame(
        [(day.year, day.month, day.day, *r) for r in rows],
        schema={c: SOURCE.schema[c] for c in COLUMNS},
        orient="row",
    )
    return (
        partial.lazy()
        .with_columns(
            tailnum=pl.lit("N1", pl.String()),
            distance=pl.lit(500, pl.Int32()),
            hour=pl.lit(0, pl.Int32()),
            minute=pl.lit(0, pl.Int32()),
            time_hour=pl.lit(None, pl.Datetime("us", "UTC")),
        )
        .select(list(SOURCE.schema))
    )


def _utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def _times(day: date, rows: list[tuple]) -> pl.DataFrame:
    out = transform(_raw(day, rows), PartitionContext(day, REFS)).collect()
    return out.select("flight", "status", "sched_dep_utc", "dep_utc", "sched_arr_utc", "arr_utc")


def _expected(rows: list[tuple]) -> pl.DataFrame:
    utc = pl.Datetime("us", "UTC")
    return pl.DataFrame(
        rows,
        schema={
            "flight": pl.Int32(),
            "status": pl.String(),
            "sched_dep_utc": utc,
            "dep_utc": utc,
            "sched_arr_utc": utc,
            "arr_utc": utc,
        },
        orient="row",
    )


JAN_15 = date(2013, 1, 15)


def test_an_arrival_past_local_midnight_rolls_to_the_next_day():
    # JFK 21:30 EST -> LAX 00:45 PST next day; flew 21:50 -> 01:10.
    got = _times(JAN_15, [(2150, 2130, 20, 110, 45, 25, "AA", 1, "JFK", "LAX", 330)])
    assert_frame_equal(
        got,
        _expected(
            [
                (
                    1,
                    "scheduled",
                    _utc(2013, 1, 16, 2, 30),
                    _utc(2013, 1, 16, 2, 50),
                    _utc(2013, 1, 16, 8, 45),
                    _utc(2013, 1, 16, 9, 10),
                )
            ]
        ),
    )


def test_a_departure_delayed_past_midnight_is_on_the_next_day():
    # JFK 23:30 EST, left 00:30 (60 min late) -> BOS 00:40, arrived 01:30.
    got = _times(JAN_15, [(30, 2330, 60, 130, 40, 50, "B6", 2, "JFK", "BOS", 40)])
    assert_frame_equal(
        got,
        _expected(
            [
                (
                    2,
                    "scheduled",
                    _utc(2013, 1, 16, 4, 30),
                    _utc(2013, 1, 16, 5, 30),
                    _utc(2013, 1, 16, 5, 40),
                    _utc(2013, 1, 16, 6, 30),
                )
            ]
        ),
    )


def test_a_honolulu_arrival_uses_hawaii_time():
    # HA 51 on 2013-01-02: JFK 09:00 EST -> HNL 15:30 HST (UTC-10), arrived 15:25.
    got = _times(date(2013, 1, 2), [(909, 900, 9, 1525, 1530, -5, "HA", 51, "JFK", "HNL", 638)])
    assert_frame_equal(
        got,
        _expected(
            [
                (
                    51,
                    "scheduled",
                    _utc(2013, 1, 2, 14, 0),
                    _utc(2013, 1, 2, 14, 9),
                    _utc(2013, 1, 3, 1, 30),
                    _utc(2013, 1, 3, 1, 25),
                )
            ]
        ),
    )


def test_a_puerto_rico_arrival_uses_atlantic_time_without_dst():
    # July: New York is on EDT (UTC-4) and San Juan on AST (UTC-4) all year.
    got = _times(date(2013, 7, 1), [(800, 800, 0, 1145, 1150, -5, "B6", 3, "JFK", "SJU", 200)])
    assert_frame_equal(
        got,
        _expected(
            [
                (
                    3,
                    "scheduled",
                    _utc(2013, 7, 1, 12, 0),
                    _utc(2013, 7, 1, 12, 0),
                    _utc(2013, 7, 1, 15, 50),
                    _utc(2013, 7, 1, 15, 45),
                )
            ]
        ),
    )


def test_cancelled_and_diverted_flights_have_no_actual_arrival():
    got = _times(
        JAN_15,
        [
            (None, 2300, None, None, 350, None, "UA", 4, "EWR", "SJU", None),
            (610, 600, 10, None, 730, None, "UA", 5, "LGA", "ORD", None),
        ],
    )
    assert_frame_equal(
        got,
        _expected(
            [
                (4, "cancelled", _utc(2013, 1, 16, 4, 0), None, _utc(2013, 1, 16, 7, 50), None),
                (
                    5,
                    "diverted",
                    _utc(2013, 1, 15, 11, 0),
                    _utc(2013, 1, 15, 11, 10),
                    _utc(2013, 1, 15, 13, 30),
                    None,
                ),
            ]
        ),
    )


def test_an_arrival_past_midnight_on_the_fall_back_day_uses_standard_time():
    # B6 2002 on 2013-11-03 (clocks fell back at 02:00): JFK 22:50 -> BUF 00:08 next day,
    # flew 22:43 -> 23:57. Every time is EST (UTC-5).
    got = _times(date(2013, 11, 3), [(2243, 2250, -7, 2357, 8, -11, "B6", 2002, "JFK", "BUF", 55)])
    assert_frame_equal(
        got,
        _expected(
            [
                (
                    2002,
                    "scheduled",
                    _utc(2013, 11, 4, 3, 50),
                    _utc(2013, 11, 4, 3, 43),
                    _utc(2013, 11, 4, 5, 8),
                    _utc(2013, 11, 4, 4, 57),
                )
            ]
        ),
    )


def test_an_arrival_read_inside_the_skipped_hour_still_converts():
    # B6 35 on 2013-03-09: due at PBI 00:34 EST, "arrived 02:03" on 2013-03-10, an hour that
    # does not exist (clocks sprang forward at 02:00): read off the not-yet-moved clock, it is
    # 07:03 UTC, exactly the recorded 89 minutes late.
    got = _times(date(2013, 3, 9), [(2306, 2145, 81, 203, 34, 89, "B6", 35, "JFK", "PBI", 141)])
    assert_frame_equal(
        got,
        _expected(
            [
                (
                    35,
                    "scheduled",
                    _utc(2013, 3, 10, 2, 45),
                    _utc(2013, 3, 10, 4, 6),
                    _utc(2013, 3, 10, 5, 34),
                    _utc(2013, 3, 10, 7, 3),
                )
            ]
        ),
    )


def test_delay_buckets_follow_the_arrival_delay():
    rows = [
        (900, 900, 0, 1000 + d % 60 + (d // 60) * 100, 1000, d, "AA", i, "JFK", "BOS", 40)
        for i, d in enumerate([-5, 14, 15, 59, 60, 179, 180])
    ]
    out = transform(_raw(JAN_15, rows), PartitionContext(JAN_15, REFS)).collect()
    assert out["delay_bucket"].to_list() == [
        "on_time",
        "on_time",
        "late_15",
        "late_15",
        "late_60",
        "late_60",
        "late_180",
    ]


def test_the_staged_table_has_the_contract_schema_and_the_carrier_name():
    out = transform(
        _raw(JAN_15, [(900, 900, 0, 1000, 1000, 0, "HA", 1, "JFK", "BOS", 40)]),
        PartitionContext(JAN_15, REFS),
    ).collect()
    assert out.schema == CONTRACT.schema()
    assert out.select("flight_date", "carrier_name", "dep_delay_min", "distance_mi").row(0) == (
        JAN_15,
        "Hawaiian",
        0,
        500,
    )


def _broken(day: date, rows: list[tuple], refs: dict = REFS) -> list[list[str]]:
    staged = transform(_raw(day, rows), PartitionContext(day, refs))
    return (
        staged.select(failed_rules(CONTRACT.checks(PartitionContext(day, refs))))
        .collect()
        .to_series()
        .to_list()
    )


def test_the_contract_admits_real_scheduled_cancelled_and_diverted_rows():
    assert _broken(
        JAN_15,
        [
            (2150, 2130, 20, 110, 45, 25, "AA", 1, "JFK", "LAX", 330),
            (None, 2300, None, None, 350, None, "UA", 4, "EWR", "SJU", None),
            (610, 600, 10, None, 730, None, "UA", 5, "LGA", "ORD", None),
        ],
    ) == [[], [], []]


def test_the_contract_names_every_rule_a_row_breaks():
    # unknown carrier and destination (so no arrival time), impossible air time, 50 h late
    assert _broken(JAN_15, [(900, 900, 3000, 1000, 1000, 3000, "ZZ", 1, "JFK", "XXX", 2000)]) == [
        [
            "not_null:carrier_name",
            "not_null:sched_arr_utc",
            "carrier_known",
            "dest_known",
            "air_time_sane",
            "dep_delay_sane",
            "arr_delay_sane",
            "scheduled_has_times",
        ]
    ]


def test_a_clock_time_no_clock_shows_is_quarantined_not_loaded():
    # 2575 parses as an integer but is no time of day; 1260 has 60 minutes
    assert _broken(
        JAN_15,
        [
            (900, 2575, 0, 1100, 1100, 0, "AA", 1, "JFK", "BOS", 40),
            (1260, 1200, 0, 1400, 1400, 0, "AA", 2, "JFK", "BOS", 40),
        ],
    ) == [
        ["not_null:sched_dep_utc"],
        ["scheduled_has_times"],
    ]


def test_an_arrival_before_its_departure_breaks_the_contract():
    # arrived "10 minutes after departure" though the flight was 40 minutes in the air
    assert _broken(JAN_15, [(900, 900, 0, 910, 1000, -50, "AA", 1, "JFK", "BOS", 40)]) == [
        ["block_time_covers_air_time"]
    ]


def test_the_mart_counts_each_carriers_flights_statuses_and_on_time_rate():
    staged = transform(
        _raw(
            JAN_15,
            [
                (900, 900, 0, 1000, 1000, 0, "AA", 1, "JFK", "BOS", 40),
                (900, 900, 0, 1100, 1000, 60, "AA", 2, "JFK", "BOS", 40),
                (None, 900, None, None, 1000, None, "AA", 3, "JFK", "BOS", None),
                (900, 900, 0, 1010, 1000, 10, "B6", 4, "JFK", "BOS", 40),
            ],
        ),
        PartitionContext(JAN_15, REFS),
    )
    mart = carrier_daily_performance(staged).collect()
    assert mart.select(
        "carrier",
        "flights",
        "cancelled",
        "diverted",
        "on_time",
        "on_time_rate",
        "avg_arr_delay_min",
    ).rows() == [
        ("AA", 3, 1, 0, 1, 0.5, 30.0),
        ("B6", 1, 0, 0, 1, 1.0, 10.0),
    ]
    assert mart.columns == [c.name for c in DATASET.marts[0].columns]
