"""The console page of `baton serve`: the served workflow's executions, newest first."""

from __future__ import annotations

import html
import time

from baton_twin.execution_info import ExecutionInfo, execution_info
from baton_twin.server.executions import WorkflowExecutions

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><meta http-equiv="refresh" content="5">
<title>baton: {parent}</title>
<style>body{{font-family:sans-serif;margin:2em}}td,th{{padding:.2em .8em;text-align:left}}
.SUCCEEDED{{color:#187a2f}}.FAILED{{color:#b3261e}}.ACTIVE{{color:#1a5fb4}}</style></head>
<body><h1>{workflow}</h1><p>{parent} (local engine; refreshes every 5 s)</p>
<table><tr><th>execution</th><th>state</th><th>started</th><th>duration</th>
<th>argument</th><th>failed partitions</th></tr>
{rows}</table></body></html>
"""


def _row(info: ExecutionInfo) -> str:
    started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(info.start))
    duration = f"{info.duration:.1f} s" if info.duration is not None else "running"
    failed = ", ".join((info.summary or {}).get("failed") or [])
    if info.state == "FAILED" and not failed:
        failed = info.error_message
    cells = (info.id, info.state, started, duration, info.argument, failed)
    return (
        f'<tr class="{html.escape(info.state)}">'
        + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells)
        + "</tr>"
    )


def render_console(workflows: WorkflowExecutions, limit: int = 200) -> str:
    """The HTML page."""
    records = [r for r in workflows.engine.list() if r.workflow == workflows.workflow][:limit]
    return PAGE.format(
        parent=html.escape(workflows.parent),
        workflow=html.escape(workflows.workflow),
        rows="\n".join(_row(execution_info(workflows.engine, r)) for r in records)
        or "<tr><td>no executions yet</td></tr>",
    )
