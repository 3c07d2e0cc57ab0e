"""Row accounting as a property: whatever a landing file holds (real rows, repeated rows,
values that do not parse), every landed row is loaded or quarantined, never lost or doubled."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lakes import JAN_2, warehouse_rows

from baton_cli.accounting import ledger

pytestmark = pytest.mark.slow

GARBAGE = ("x", "12.5.1", "2013-13-45T99:00:00Z", "-", "∞")
COLUMNS = 19


@st.composite
def landing_files(draw: st.DrawFn) -> list[int | tuple[int, int, str]]:
    """Row picks from the real day: an index (the real line, maybe repeated) or (index,
    column, garbage) for a line with one value replaced."""
    picks = st.one_of(
        st.integers(0, 942),
        st.tuples(st.integers(0, 942), st.integers(3, COLUMNS - 1), st.sampled_from(GARBAGE)),
    )
    return draw(st.lists(picks, min_size=1, max_size=40))


def _render(lines: list[str], picks: list[int | tuple[int, int, str]]) -> str:
    out = []
    for pick in picks:
        if isinstance(pick, int):
            out.append(lines[pick])
        else:
            index, column, value = pick
            fields = lines[index].split(",")
            fields[column] = value
            out.append(",".join(fields))
    return "\n".join(out) + "\n"


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(landing_files())
def test_landed_equals_loaded_plus_quarantined_for_any_landing_file(seeded_template, picks):
    real = (seeded_template.root / f"landing/flights/{JAN_2}.csv").read_text().splitlines()
    header, lines = real[0], real[1:]
    with tempfile.TemporaryDirectory() as tmp:
        lake = seeded_template.copy_to(Path(tmp) / "home")
        (lake.root / f"landing/flights/{JAN_2}.csv").write_text(
            header + "\n" + _render(lines, picks)
        )
        codes = lake.chain(JAN_2, env={"BATON_QUARANTINE_TOLERANCE": "1"})
        assert codes == [0, 0, 0, 0]
        (row,) = ledger(lake.storage, "flights", [JAN_2])
        assert row.landed == len(picks)
        assert row.balanced
        assert warehouse_rows(lake, "flights").height == row.loaded
