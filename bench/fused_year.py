"""The floor for a backfill: `bench.fused` (the steps' own pure functions, no hand-offs) for
every date of a range, one after another in one process. Run as
`python -m bench.fused_year BATON_HOME START END DATABASE`.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path

from bench.fused import run


def main(argv: Sequence[str]) -> int:
    """Run the fused chain for every date from START to END (inclusive)."""
    if len(argv) != 4:
        print("usage: python -m bench.fused_year BATON_HOME START END DATABASE", file=sys.stderr)
        return 2
    home, database = Path(argv[0]), Path(argv[3])
    start, end = date.fromisoformat(argv[1]), date.fromisoformat(argv[2])
    landed = 0
    for offset in range((end - start).days + 1):
        landed += run(home, start + timedelta(days=offset), database)["landed"]
    print({"landed": landed})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
