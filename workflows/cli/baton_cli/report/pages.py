"""The console pages `baton serve` answers with the `baton` command's own views: an execution's
run report, and the partitions x steps status of a date range (what `baton status` prints),
as plain HTML with a GET form (no script)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from html import escape

from baton import datasets
from baton.config import Settings
from baton.dates import days_between
from baton.errors import BatonError
from baton.lake import STEPS, parse_date
from baton.storage import open_storage
from baton_cli.report.gather import build_report
from baton_cli.report.render import CSS, render_report
from baton_cli.status import PartitionStatus, State, known_days, status_grid
from baton_twin.server import Pages

Query = Mapping[str, Sequence[str]]
DEFAULT_DAYS = 14  # the status page shows the newest two weeks the lake holds by default
MOST_DAYS = 366


def _served_link(target: str) -> str:
    """Over HTTP a local path cannot be followed: keep URIs (gs://, https://), drop paths."""
    return target if target.startswith(("gs://", "https://")) else ""


def _one(query: Query, name: str) -> str:
    return (query.get(name) or [""])[0].strip()


def _range(query: Query, known: Sequence[date]) -> tuple[date, date]:
    start, end = _one(query, "start"), _one(query, "end")
    if not start and not end:
        if not known:
            return date.today(), date.today()
        return known[max(0, len(known) - DEFAULT_DAYS)], known[-1]
    if not start or not end:
        raise ValueError("give both start and end (YYYY-MM-DD), or neither")
    first, last = parse_date(start), parse_date(end)
    if last < first:
        raise ValueError(f"end {last} is before start {first}")
    if (last - first).days >= MOST_DAYS:
        raise ValueError(f"at most {MOST_DAYS} days at once; narrow start..end")
    return first, last


def _cell(row: PartitionStatus, step: str) -> str:
    c = row.cell(step)
    text = c.state.value
    if c.state is State.COMMITTED and c.rows_out is not None:
        text += f" ({c.rows_out:,} rows"
        text += f", {c.rows_quarantined:,} quarantined)" if c.rows_quarantined else ")"
    why = f"<br><small>{escape(c.reason)}: {escape(c.message[:300])}</small>" if c.reason else ""
    return f'<td class="c {c.state.value}">{escape(text)}{why}</td>'


def status_page(settings: Settings, query: Query) -> str:
    """The status grid of the asked range (default: the newest two weeks the lake holds)."""
    name = _one(query, "dataset") or datasets.DEFAULT_DATASET
    try:
        dataset = datasets.get(name)
        storage = open_storage(settings.lake_root)
    except BatonError as err:
        raise ValueError(err.message) from err
    first, last = _range(query, known_days(storage, name, landed=False))
    grid = status_grid(storage, dataset, days_between(first, last))
    head = "".join(f"<th>{s}</th>" for s in STEPS)
    rows = "".join(
        f'<tr data-date="{row.day}"><td>{row.day}</td>'
        + "".join(_cell(row, s) for s in STEPS)
        + "</tr>"
        for row in grid
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,">'
        f"<title>baton status {escape(name)} {first}..{last}</title><style>{CSS}</style></head>"
        f'<body><h1>Partition status: {escape(name)} {first}..{last}</h1><p><a href="/">'
        'executions</a></p><form method="get" action="/status">'
        f'<label>start <input name="start" value="{first}" size="10"></label> '
        f'<label>end <input name="end" value="{last}" size="10"></label> '
        f'<label>dataset <input name="dataset" value="{escape(name)}" size="10"></label> '
        '<button type="submit">show</button></form>'
        f'<table class="grid" id="status"><tr><th>date</th>{head}</tr>{rows}</table>'
        "</body></html>"
    )


def console_pages(settings: Settings) -> Pages:
    """The report and status pages for `baton serve` over the twin of `settings`."""
    return Pages(
        report=lambda execution_id: render_report(
            build_report(settings, execution_id), _served_link
        ),
        status=lambda query: status_page(settings, query),
    )
