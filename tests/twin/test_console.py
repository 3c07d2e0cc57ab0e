"""The console of `baton serve`, in headless chromium and over plain HTTP: the executions page
lists a real failed run with its state, duration and failed partition and links to its report;
the status page shows the partitions x steps grid of a date range; no page needs a script
(only the 5 s refresh, a meta refresh, is automatic). A screenshot goes to the tmp dir (and to
$BATON_SCREENSHOTS if set)."""

from __future__ import annotations

import os
import shutil
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from chromium import browser
from lakes import JAN_2, Lake
from typer.testing import CliRunner

from baton.config import load_settings
from baton_cli.app import app
from baton_cli.report.pages import console_pages
from baton_twin.server import ServeOptions, Server, build_server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def served(
    seeded_template: Lake, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Server, str]]:
    """`baton serve` (free loopback ports) over a lake where `baton run` of Jan 1-3 failed
    Jan 2 (its landing file removed); the failed execution's id."""
    lake = seeded_template.copy_to(tmp_path_factory.mktemp("console") / "home")
    landing = lake.root / "landing" / "flights" / f"{JAN_2}.csv"
    kept = landing.read_bytes()
    landing.unlink()
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("BATON_", "GOOGLE_"))}
    environ["BATON_HOME"] = str(lake.home)
    with pytest.MonkeyPatch.context() as patch:
        for name in [n for n in os.environ if n.startswith(("BATON_", "GOOGLE_CLOUD"))]:
            patch.delenv(name)
        result = CliRunner().invoke(
            app,
            ["run", "--start", "2013-01-01", "--end", "2013-01-03", "--no-report"],
            env={"BATON_HOME": str(lake.home)},
        )
    assert result.exit_code == 1, result.output
    assert "report: " not in result.output  # --no-report
    execution = result.output.split("baton rerun --execution ")[-1].split()[0]
    landing.write_bytes(kept)
    rerun = CliRunner().invoke(
        app, ["rerun", "--execution", execution], env={"BATON_HOME": str(lake.home)}
    )
    assert rerun.exit_code == 0, rerun.output  # a second, succeeded execution to list
    settings = load_settings(environ=environ)
    options = ServeOptions(host="127.0.0.1", port=0, grpc_port=0, fast_retries=True)
    server = build_server(settings, environ, options, console_pages(settings))
    with server:
        yield server, execution


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


@pytest.fixture(scope="module")
def console(served: tuple[Server, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    server, _ = served
    with browser(tmp_path_factory.mktemp("chromium")) as b:
        b.open(f"{server.rest_endpoint}/")
        yield b


def test_the_console_lists_the_failed_execution_with_its_failed_partition(console, served):
    _, execution = served
    states = console.evaluate(
        "[...document.querySelectorAll('tr[data-execution] td:nth-child(2)')].map(t => t.innerText)"
    )
    assert states == ["SUCCEEDED", "FAILED"]  # newest first: the rerun, then the failed run
    row = console.evaluate(
        f"[...document.querySelectorAll('tr[data-execution=\"{execution}\"] td')]"
        ".map(td => td.innerText)"
    )
    assert row[1] == "FAILED" and row[3].endswith(" s")
    assert row[5] == "2013-01-02"
    assert row[6] == "report"


def test_the_console_opens_with_no_console_error_and_no_other_request(console, tmp_path):
    log = console.log()
    assert log.console_errors == []
    assert log.requests == []
    shot = console.screenshot(tmp_path / "console.png")
    where = os.environ.get("BATON_SCREENSHOTS")
    if where:
        shutil.copyfile(shot, Path(where) / "console.png")


def test_the_report_link_serves_the_execution_report_with_the_rerun_command(served, tmp_path):
    server, execution = served
    with browser(tmp_path / "profile") as b:
        b.open(f"{server.rest_endpoint}/")
        href = b.evaluate(f"document.querySelector('tr[data-execution=\"{execution}\"] a').href")
        b.open(href)
        text = b.evaluate("document.body.innerText")
        assert b.log().console_errors == [] and b.log().requests == []
    assert f"baton rerun --date {JAN_2} --step extract --downstream" in text
    assert f"baton rerun --execution {execution}" in text


def test_the_status_page_shows_the_grid_of_a_date_range(served):
    server, _ = served
    status, page = get(f"{server.rest_endpoint}/status?start=2013-01-01&end=2013-01-03")
    assert status == 200
    assert page.count("<tr data-date=") == 3
    assert page.count('class="c committed"') == 12  # the rerun repaired Jan 2
    assert '<td class="c committed">committed (842 rows)</td>' in page


def test_no_console_page_needs_a_script(served):
    server, execution = served
    for path in ("/", "/status", f"/executions/{execution}/report"):
        status, page = get(server.rest_endpoint + path)
        assert status == 200, path
        if path != f"/executions/{execution}/report":
            assert "<script" not in page, path
    # The report's one script only offers a filter; the grid is there without it.
    _, report = get(f"{server.rest_endpoint}/executions/{execution}/report")
    assert 'class="c failed"' in report.split("<script>")[0]


def test_an_unknown_execution_is_a_404_page_naming_it(served):
    server, _ = served
    status, page = get(f"{server.rest_endpoint}/executions/no-such-run/report")
    assert status == 404 and "no execution no-such-run" in page


def test_a_half_given_range_is_a_400_page_saying_what_to_give(served):
    server, _ = served
    status, page = get(f"{server.rest_endpoint}/status?start=2013-01-01")
    assert status == 400 and "give both start and end" in page
    status, page = get(f"{server.rest_endpoint}/status?start=2013-01-03&end=2013-01-01")
    assert status == 400 and "before start" in page
