"""`baton run` of 14 real dates with one forced failure (a landing file removed) and some
quarantined rows (a landing file with unknown carriers and zero distances) writes a report
that opens in headless chromium with no console error and no network request, shows every
date and step, the failed cell's rerun command, and row totals equal to the warehouse and the
quarantine files. Screenshots go to the test's tmp dir (and to $BATON_SCREENSHOTS if set)."""

from __future__ import annotations

import csv
import os
import shutil
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest
from chromium import browser
from lakes import Lake, seed_days
from typer.testing import CliRunner

from baton_cli.app import app

pytestmark = pytest.mark.slow
FIRST = date(2013, 1, 1)
DAYS = tuple(FIRST + timedelta(i) for i in range(14))
BROKEN = date(2013, 1, 5)  # its landing file is removed: extract fails with missing_input
DIRTY = date(2013, 1, 3)  # 3 unknown carriers and 2 zero distances: validate quarantines 5 rows


def dirty(csv_path: Path) -> None:
    rows = list(csv.reader(csv_path.open(newline="")))
    carrier, distance = rows[0].index("carrier"), rows[0].index("distance")
    for row in rows[1:4]:
        row[carrier] = "ZZ"
    for row in rows[4:6]:
        row[distance] = "0"
    with csv_path.open("w", newline="") as f:
        csv.writer(f).writerows(rows)


def clean_env(patch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(("BATON_", "GOOGLE_CLOUD")):
            patch.delenv(name)


@pytest.fixture(scope="module")
def forced_failure(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Lake, Any]]:
    """The lake after `baton run` of the 14 dates, and the run's result."""
    home = tmp_path_factory.mktemp("report") / "home"
    (home / "lake").mkdir(parents=True)
    seed_days(home / "lake", DAYS)
    landing = home / "lake" / "landing" / "flights"
    (landing / f"{BROKEN}.csv").unlink()
    dirty(landing / f"{DIRTY}.csv")
    lake = Lake(home)
    with pytest.MonkeyPatch.context() as patch:
        clean_env(patch)
        result = CliRunner().invoke(
            app,
            ["run", "--start", str(DAYS[0]), "--end", str(DAYS[-1]), "--concurrency", "2"],
            env={"BATON_HOME": str(home)},
        )
    yield lake, result


def report_path(result: Any) -> Path:
    (line,) = [x for x in result.output.splitlines() if x.startswith("report: ")]
    return Path(line.removeprefix("report: ").strip())


def keep(shot: Path, name: str) -> None:
    """Copy a screenshot where `make screenshots` asked for it."""
    where = os.environ.get("BATON_SCREENSHOTS")
    if where:
        shutil.copyfile(shot, Path(where) / name)


@pytest.fixture(scope="module")
def page(forced_failure: tuple[Lake, Any], tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    _, result = forced_failure
    with browser(tmp_path_factory.mktemp("chromium")) as b:
        b.open(report_path(result).as_uri())
        yield b


def test_the_run_fails_and_ends_by_printing_the_report_path(forced_failure):
    _, result = forced_failure
    assert result.exit_code == 1, result.output
    path = report_path(result)
    assert path.is_file() and path.name == "report.html"
    assert result.output.rstrip().splitlines()[-1].startswith(("report: ", "to rerun"))


def test_the_report_opens_with_no_console_error_and_no_network_request(page, tmp_path):
    log = page.log()
    assert log.console_errors == []
    assert log.requests == []
    shot = page.screenshot(tmp_path / "report.png")
    assert shot.stat().st_size > 10_000
    keep(shot, "report.png")


def test_every_date_and_step_appears_in_the_grid(page):
    dates = page.evaluate(
        "[...document.querySelectorAll('table.grid tr[data-date]')].map(r => r.dataset.date)"
    )
    assert dates == [d.isoformat() for d in DAYS]
    steps = page.evaluate("[...document.querySelectorAll('table.grid th')].map(t => t.textContent)")
    assert steps == ["date", "extract", "transform", "validate", "load"]
    assert page.evaluate("document.querySelectorAll('svg.gantt text.day').length") == len(DAYS)


def test_the_failed_cell_shows_its_reason_and_rerun_command(page):
    failed = page.evaluate(
        "[...document.querySelectorAll('td.c.failed')].map(c => "
        "[c.closest('tr').dataset.date, c.dataset.step, c.innerText])"
    )
    ((day, step, text),) = failed
    assert (day, step) == (BROKEN.isoformat(), "extract")
    assert "missing_input" in text
    assert f"baton rerun --date {BROKEN} --step extract --downstream" in text
    skipped = page.evaluate(
        f"[...document.querySelectorAll('tr[data-date=\"{BROKEN}\"] td.c.skipped')].length"
    )
    assert skipped == 3


def test_the_timeline_shows_the_failed_attempt_and_its_retry(page):
    titles = page.evaluate(
        "[...document.querySelectorAll('svg.gantt rect.o-failed')].map(r => "
        "[r.classList.contains('retry'), r.textContent])"
    )
    assert [retry for retry, _ in titles] == [False, True]  # the task's first try and its retry
    assert all(t.startswith(f"{BROKEN} extract: failed") for _, t in titles)
    waits = page.evaluate("document.querySelectorAll('svg.gantt line.wait').length")
    assert waits == len(DAYS)  # every partition ran something, so every row has its span


def test_the_row_flow_totals_equal_the_warehouse_and_the_quarantine_files(page, forced_failure):
    lake, _ = forced_failure
    with duckdb.connect(str(lake.warehouse), read_only=True) as con:
        (warehouse,) = con.execute("SELECT count(*) FROM flights").fetchone()
    quarantined = (
        pl.scan_parquet(str(lake.root / "quarantine" / "**" / "*.parquet"))
        .select(pl.len())
        .collect()
        .item()
    )
    shown = page.evaluate(
        "[document.getElementById('total-loaded').textContent,"
        " document.getElementById('total-quarantined').textContent]"
    )
    assert [int(x.replace(",", "")) for x in shown] == [warehouse, quarantined]
    assert quarantined == 5
    dirty_row = page.evaluate(
        f"document.querySelector('table.flow tr[data-date=\"{DIRTY}\"]').innerText"
    )
    assert "carrier_known 3" in dirty_row and "distance_positive 2" in dirty_row
    assert "balances" in dirty_row


def test_a_year_report_is_under_a_megabyte_and_shows_every_date(tmp_path):
    """The rendered report of 365 dates (synthetic records, all four steps each) stays small and
    renders every date without a console error. How fast it opens is a benchmark figure
    (docs/benchmarks.md), never a timed assertion in the suite."""
    from test_report import report

    from baton_cli.report.render import render_report

    path = tmp_path / "year.html"
    path.write_text(render_report(report(365)))
    assert path.stat().st_size < 1_000_000
    with browser(tmp_path / "profile") as b:
        b.open(path.as_uri())
        assert b.evaluate("document.querySelectorAll('table.grid tr[data-date]').length") == 365
        assert b.log().console_errors == []
