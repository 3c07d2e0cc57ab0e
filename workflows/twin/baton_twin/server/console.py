"""The console pages of `baton serve`: the served workflow's executions, newest first, each
linking to its run report, and a status page; plain HTML forms and links, so everything but
the periodic refresh (a meta refresh) works with JavaScript disabled.

The report and status pages are drawn by callables the server is given (`Pages`): the twin
does not know how a report looks, the `baton` command does (see `baton_cli.report.pages`).
"""

from __future__ import annotations

import html
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import quote

from baton_twin.execution_info import ExecutionInfo, execution_info
from baton_twin.server.executions import WorkflowExecutions

Query = Mapping[str, Sequence[str]]


@dataclass(frozen=True)
class Pages:
    """The pages beyond the executions list: `report(execution_id)` and `status(query)` return
    HTML; LookupError means no such execution, ValueError a bad query (its message says why)."""

    report: Callable[[str], str] | None = None
    status: Callable[[Query], str] | None = None


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="5">
<link rel="icon" href="data:,">
<title>baton: {parent}</title>
<style>body{{font-family:system-ui,sans-serif;margin:2em}}td,th{{padding:.2em .8em;text-align:left}}
th{{background:#f3f3f3}}.SUCCEEDED{{color:#187a2f}}.FAILED,.CANCELLED{{color:#b3261e}}
.ACTIVE{{color:#1a5fb4}}nav a{{margin-right:1em}}</style></head>
<body><h1>{workflow}</h1><nav>{nav}</nav><p>{parent} (local engine; refreshes every 5 s)</p>
<table id="executions"><tr><th>execution</th><th>state</th><th>started</th><th>duration</th>
<th>argument</th><th>failed partitions</th><th>report</th></tr>
{rows}</table></body></html>
"""


def report_href(execution_id: str) -> str:
    """Where the server answers an execution's report."""
    return f"/executions/{quote(execution_id)}/report"


def _row(info: ExecutionInfo, pages: Pages) -> str:
    started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(info.start))
    duration = f"{info.duration:.1f} s" if info.duration is not None else "running"
    failed = ", ".join((info.summary or {}).get("failed") or [])
    if info.state == "FAILED" and not failed:
        failed = info.error_message
    argument = json.dumps(info.argument, default=str)
    cells = [
        html.escape(str(c)) for c in (info.id, info.state, started, duration, argument, failed)
    ]
    report = (
        f'<a href="{report_href(info.id)}">report</a>'
        if pages.report is not None and info.finished
        else ""
    )
    return (
        f'<tr class="{html.escape(info.state)}" data-execution="{html.escape(info.id)}">'
        + "".join(f"<td>{c}</td>" for c in cells)
        + f"<td>{report}</td></tr>"
    )


def render_console(
    workflows: WorkflowExecutions, limit: int = 200, pages: Pages | None = None
) -> str:
    """The executions page."""
    pages = pages or Pages()
    records = [r for r in workflows.engine.list() if r.workflow == workflows.workflow][:limit]
    nav = '<a href="/">executions</a>' + (
        '<a href="/status">partition status</a>' if pages.status is not None else ""
    )
    return PAGE.format(
        parent=html.escape(workflows.parent),
        workflow=html.escape(workflows.workflow),
        nav=nav,
        rows="\n".join(_row(execution_info(workflows.engine, r), pages) for r in records)
        or '<tr><td colspan="7">no executions yet</td></tr>',
    )


def error_page(title: str, message: str) -> str:
    """A small HTML page for a console error (unknown execution, bad query)."""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,">'
        f"<title>{html.escape(title)}</title></head><body><h1>{html.escape(title)}</h1>"
        f'<p>{html.escape(message)}</p><p><a href="/">back to the executions</a></p></body></html>'
    )
