"""The run report as one self-contained HTML page (pure: a RunReport in, a string out).

All CSS, the one small script and the SVG timeline are inline; the page loads nothing, so it
opens offline, from a mail attachment or an artifact store. `link` turns a file path or URI
from the report into an href (relative paths for a file on disk; "" drops the link).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from html import escape

from baton_cli.report.gantt import timeline_svg
from baton_cli.report.model import (
    Cell,
    CellState,
    Flow,
    RunReport,
    slowest_partitions,
    step_durations,
)

Link = Callable[[str], str]

CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#1d1d1f}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #ddd}
table{border-collapse:collapse}td,th{padding:.15em .6em;text-align:left;vertical-align:top}
th{background:#f3f3f3}tr:nth-child(even) td{background:#fafafa}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
dl{display:grid;grid-template-columns:max-content auto;gap:.1em 1em}dt{color:#666}dd{margin:0}
code{background:#f3f3f3;padding:0 .25em;border-radius:3px}
.st{font-weight:600}.SUCCEEDED{color:#187a2f}.FAILED,.CANCELLED{color:#b3261e}
.ACTIVE,.QUEUED{color:#1a5fb4}
.c{min-width:7em}.c a{color:inherit}
.committed{background:#d7f0dc!important}.unchanged{background:#e6eef8!important}
.failed{background:#fbd9d6!important}.skipped{background:#f6ecd2!important}
.stale{background:#efe3f7!important}.not-run{color:#888}
.why{font-size:.85em;max-width:32em;white-space:normal;overflow-wrap:anywhere}
.alert{border-left:4px solid #b3261e;padding:.4em .8em;background:#fdf1f0}
.ok{color:#187a2f}.bad{color:#b3261e;font-weight:600}
svg.gantt text{font:10px system-ui,sans-serif;fill:#444}svg.gantt .day{text-anchor:end}
svg.gantt .tick{text-anchor:middle}svg.gantt .grid{stroke:#eee}
svg.gantt .wait{stroke:#bbb;stroke-width:1}
.b.s-extract{fill:#4e79a7}.b.s-transform{fill:#f28e2b}.b.s-validate{fill:#59a14f}
.b.s-load{fill:#b07aa1}.b.o-skipped{fill-opacity:.35}
.b.o-failed{fill:#e15759;stroke:#7a0c0c;stroke-width:1}
.b.retry{stroke:#000;stroke-dasharray:2 1;stroke-width:1}
.legend span{display:inline-block;padding:0 .5em;margin-right:.4em;border-radius:3px}
.note{color:#666;font-size:.9em}
body.only-problems tr.fine{display:none}#filter{display:none}
"""

SCRIPT = """
(function(){var f=document.getElementById('filter');if(!f)return;f.style.display='inline';
var box=f.querySelector('input');box.addEventListener('change',function(){
document.body.classList.toggle('only-problems',box.checked);});})();
"""

STEP_COLOURS = {
    "extract": "#4e79a7",
    "transform": "#f28e2b",
    "validate": "#59a14f",
    "load": "#b07aa1",
}


def _when(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _secs(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.2f} h"


def _a(text: str, target: str, link: Link) -> str:
    href = link(target) if target else ""
    if not href:
        return escape(text)
    # A gs:// URI links to its console page; the URI itself stays readable on hover.
    title = f' title="{escape(target)}"' if "://" in target and href != target else ""
    return f'<a href="{escape(href)}"{title}>{escape(text)}</a>'


def _num(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def _header(r: RunReport, link: Link) -> str:
    h = r.header
    rows = [
        ("execution", escape(h.id)),
        ("workflow", escape(h.workflow)),
        ("state", f'<span class="st {escape(h.state)}">{escape(h.state)}</span>'),
        ("dataset", escape(h.dataset)),
        ("mode", escape(h.mode or "-")),
        ("argument", f"<code>{escape(h.argument)}</code>"),
        ("start", _when(h.start)),
        ("end", _when(h.end)),
        ("duration", _secs(h.duration_s)),
        ("started by", escape(h.started_by)),
        ("code version", escape(", ".join(h.code_versions) or "- (nothing committed by it)")),
        ("record", _a(h.record_uri, h.record_uri, link)),
    ]
    if h.error_message:
        rows.append(("error", escape(h.error_message)))
    counts = r.counts()
    summary = ", ".join(f"{n} {s.value}" for s, n in counts.items() if n)
    parts = [
        f"<h1>baton run report: {escape(h.id)}</h1>",
        "<dl>" + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in rows) + "</dl>",
        f'<p id="counts">{len(r.days)} partitions x {len(r.steps)} steps: {escape(summary)}</p>',
    ]
    if r.failed:
        days = sorted({c.day.isoformat() for c in r.failed})
        parts.append(
            f'<p class="alert">{len(days)} partition(s) failed ({escape(", ".join(days[:20]))}'
            f"{' ...' if len(days) > 20 else ''}). Rerun exactly what failed with "
            f"<code>{escape(r.rerun_all)}</code></p>"
        )
    return "\n".join(parts)


def _cell_html(day_cells: Iterable[Cell], link: Link) -> str:
    out = []
    for c in day_cells:
        cls = c.state.value.replace(" ", "-")
        label = _a(c.state.value, c.manifest_uri, link)
        extra = ""
        if c.state is CellState.FAILED:
            extra = (
                f'<div class="why"><b>{escape(c.reason)}</b>: {escape(c.message)}<br>'
                f'<code class="rerun">{escape(c.rerun)}</code></div>'
            )
        elif c.state is CellState.SKIPPED:
            extra = f'<div class="why">{escape(c.reason)}</div>'
        log = (
            f' <a class="log" href="{escape(link(c.log_uri))}">log</a>'
            if c.log_uri and link(c.log_uri)
            else ""
        )
        out.append(f'<td class="c {cls}" data-step="{escape(c.step)}">{label}{log}{extra}</td>')
    return "".join(out)


def _grid(r: RunReport, link: Link) -> str:
    legend = " ".join(
        f'<span class="{s.value.replace(" ", "-")}">{s.value}</span>' for s in CellState
    )
    head = "".join(f"<th>{escape(s)}</th>" for s in r.steps)
    rows = []
    by_day: dict[date, list[Cell]] = {}
    for c in r.cells:
        by_day.setdefault(c.day, []).append(c)
    flows = {f.day: f for f in r.flows}
    for day in r.days:
        cells = by_day.get(day, [])
        fine = all(c.state is not CellState.FAILED for c in cells) and not (
            flows.get(day) and flows[day].quarantined_total
        )
        rows.append(
            f'<tr class="{"fine" if fine else "problem"}" data-date="{day.isoformat()}">'
            f"<td>{day.isoformat()}</td>{_cell_html(cells, link)}</tr>"
        )
    return (
        '<h2 id="grid">Partitions x steps</h2>'
        f'<p class="legend">{legend} <label id="filter"><input type="checkbox"> '
        "only partitions that failed or quarantined rows</label></p>"
        f'<table class="grid"><tr><th>date</th>{head}</tr>' + "".join(rows) + "</table>"
    )


def _rules(flow: Flow) -> str:
    parts = []
    for step, rules in flow.rules.items():
        listed = ", ".join(f"{escape(k)} {v:,}" for k, v in sorted(rules.items()))
        parts.append(f"{escape(step)} {flow.quarantined.get(step, 0):,} rows ({listed})")
    return "; ".join(parts) or "-"


def _balance(landed: int | None, loaded: int | None, quarantined: int, off: int | None) -> str:
    if off is None:
        return '<span class="note">not loaded</span>'
    verdict = (
        '<span class="ok">balances</span>'
        if off == 0
        else f'<span class="bad">off by {off:,}</span>'
    )
    return f"{_num(landed)} = {_num(loaded)} + {quarantined:,} {verdict}"


def _flow_row(f: Flow, link: Link) -> str:
    files = " ".join(_a(f"file {i}", uri, link) for i, uri in enumerate(f.quarantine_uris, 1))
    return (
        f'<tr data-date="{f.day.isoformat()}"><td>{f.day.isoformat()}</td>'
        + "".join(
            f'<td class="n">{_num(v)}</td>'
            for v in (f.landed, f.raw, f.staged, f.validated, f.loaded)
        )
        + f'<td class="n q">{f.quarantined_total:,}</td><td class="why">{_rules(f)} {files}</td>'
        f'<td class="bal">{_balance(f.landed, f.loaded, f.quarantined_total, f.imbalance)}</td></tr>'
    )


def _flows(r: RunReport, link: Link) -> str:
    rows = [_flow_row(f, link) for f in r.flows]
    done = [f for f in r.flows if f.imbalance is not None]
    landed = sum(f.landed or 0 for f in done)
    loaded = sum(f.loaded or 0 for f in done)
    quarantined = sum(f.quarantined_total for f in done)
    off = landed - loaded - quarantined if done else None
    total = (
        '<tr class="total"><th>total (loaded partitions)</th>'
        f'<th class="n">{landed:,}</th><th></th><th></th><th></th>'
        f'<th class="n" id="total-loaded">{loaded:,}</th>'
        f'<th class="n" id="total-quarantined">{quarantined:,}</th><th></th>'
        f"<th>{_balance(landed, loaded, quarantined, off)}</th></tr>"
    )
    return (
        '<h2 id="rows">Row flow</h2><p class="note">From the committed manifests: landed rows '
        "(extract's input) through each zone; a row quarantined by several rules counts once "
        "in the rows and once per rule it broke. No row's values appear here.</p>"
        '<table class="flow"><tr><th>date</th><th class="n">landed</th><th class="n">raw</th>'
        '<th class="n">staged</th><th class="n">validated</th><th class="n">loaded</th>'
        '<th class="n">quarantined</th><th>by step and rule</th>'
        "<th>landed = loaded + quarantined</th></tr>" + "".join(rows) + total + "</table>"
    )


def _durations(r: RunReport) -> str:
    stats = step_durations(r.attempts, r.steps)
    rows = "".join(
        f'<tr><td>{escape(s.step)}</td><td class="n">{s.count}</td>'
        f'<td class="n">{_secs(s.median_s)}</td><td class="n">{_secs(s.p95_s)}</td>'
        f'<td class="n">{_secs(s.max_s)}</td></tr>'
        for s in stats
    )
    slow = "".join(
        f'<tr><td>{d.isoformat()}</td><td class="n">{_secs(t)}</td></tr>'
        for d, t in slowest_partitions(r.attempts)
    )
    return (
        '<h2 id="durations">Step durations</h2><p class="note">The step\'s own time in each '
        "attempt that committed (unchanged runs did no work), from the steps' summary lines.</p>"
        '<table><tr><th>step</th><th class="n">runs</th><th class="n">median</th>'
        f'<th class="n">p95</th><th class="n">max</th></tr>{rows}</table>'
        '<h3>Slowest partitions</h3><table><tr><th>date</th><th class="n">steps\' time, '
        f"all attempts</th></tr>{slow}</table>"
    )


def _timeline(r: RunReport) -> str:
    legend = " ".join(
        f'<span style="background:{c};color:#fff">{escape(s)}</span>'
        for s, c in STEP_COLOURS.items()
    )
    return (
        '<h2 id="timeline">Timeline</h2>'
        f'<p class="legend">{legend} <span class="note">pale: unchanged; red: failed; dashed '
        "outline: a retry; a grey line alone: waiting (job start, queueing, backoff). Hover a "
        "bar for its job execution and attempt.</span></p>"
        + timeline_svg(r.attempts, r.days, r.header.start, r.header.end)
    )


def render_report(report: RunReport, link: Link = lambda target: target) -> str:
    """The whole page."""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        '<link rel="icon" href="data:,">'  # no favicon fetch
        # No network: this page may not fetch anything, even by accident.
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">"
        f"<title>baton report {escape(report.header.id)}</title><style>{CSS}</style></head>"
        f"<body>{_header(report, link)}{_timeline(report)}{_grid(report, link)}"
        f"{_flows(report, link)}{_durations(report)}"
        f"<script>{SCRIPT}</script></body></html>\n"
    )
