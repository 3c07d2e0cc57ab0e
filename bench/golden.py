"""The golden days: real and defect-laden partitions whose outputs must never change.

`python -m bench.golden HOME` lands them under BATON_HOME=HOME, runs the real four-step chain
on each and prints the fingerprint. Take one before and one after a performance change and
diff them: the change is only allowed if they are equal.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from baton.lake import STEPS
from bench.fingerprint import fingerprint
from bench.landing import (
    Defects,
    scaled_day,
    source_flights,
    with_defects,
    write_landing,
    write_references,
)
from bench.processes import measure

REAL_DAYS = (
    date(2013, 1, 1),
    date(2013, 1, 2),
    date(2013, 1, 3),
    date(2013, 2, 8),  # a blizzard: hundreds of cancellations
    date(2013, 3, 10),  # spring forward: local times that do not exist
    date(2013, 11, 3),  # fall back: local times that happen twice
)
DEFECT_DAY = date(2013, 6, 3)
DEFECTS = Defects(duplicate=0.005, unparsable=0.003, unknown_carrier=0.003, zero_distance=0.003)


def land(lake: Path) -> list[date]:
    """Land the golden days in `lake`; return them."""
    write_references(lake)
    source = source_flights()
    for day in REAL_DAYS:
        real = source.filter(
            (source["year"] == str(day.year))
            & (source["month"] == str(day.month))
            & (source["day"] == str(day.day))
        )
        write_landing(lake, real, day)
    write_landing(lake, with_defects(scaled_day(source, DEFECT_DAY, 20_000), DEFECTS), DEFECT_DAY)
    return [*REAL_DAYS, DEFECT_DAY]


def main(argv: Sequence[str]) -> int:
    """`python -m bench.golden HOME`: land, run the chain, print the fingerprint as JSON."""
    if len(argv) != 1:
        print("usage: python -m bench.golden BATON_HOME", file=sys.stderr)
        return 2
    home = Path(argv[0])
    days = land(home / "lake")
    env = {**os.environ, "BATON_HOME": str(home)}
    for day in days:
        for step in STEPS:
            measure([sys.executable, "-m", f"baton_{step}", "run", "--date", day.isoformat()], env)
    print(json.dumps(fingerprint(home, days), indent=1, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
