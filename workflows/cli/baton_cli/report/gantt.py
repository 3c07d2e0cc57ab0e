"""The report's timeline: one row per date, one bar per step attempt, as templated SVG (pure).

A thin line spans each partition from its first step's start to its last step's end, so where
only the line shows the partition was waiting (job queueing, process start, a retry's backoff).
Bars carry a `<title>`, which browsers show on hover with no script.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from html import escape

from baton_cli.report.model import Attempt

LABEL_W = 92  # the date labels' column
PLOT_W = 880
AXIS_H = 22
TICKS = 6


def _row_height(rows: int) -> int:
    return 14 if rows <= 60 else 8


def _tick_label(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.1f} min"


def _axis(span: float, height: int) -> list[str]:
    out = []
    for i in range(TICKS + 1):
        x = LABEL_W + PLOT_W * i / TICKS
        out.append(
            f'<line class="grid" x1="{x:.1f}" y1="{AXIS_H - 4}" x2="{x:.1f}" y2="{height}"/>'
            f'<text class="tick" x="{x:.1f}" y="12">{_tick_label(span * i / TICKS)}</text>'
        )
    return out


def _bar(a: Attempt, t0: float, scale: float, y: float, h: float) -> str:
    x = LABEL_W + (a.start - t0) * scale
    w = max(1.0, a.duration_s * scale)
    retry = " retry" if a.attempt > 0 else ""
    title = (
        f"{a.day} {a.step}: {a.outcome} in {a.duration_s:.2f} s "
        f"({a.job_execution} task {a.task_index} attempt {a.attempt}, exit {a.exit_code})"
    )
    return (
        f'<rect class="b s-{escape(a.step)} o-{escape(a.outcome)}{retry}" x="{x:.1f}" '
        f'y="{y:.1f}" width="{w:.1f}" height="{h:.1f}"><title>{escape(title)}</title></rect>'
    )


def timeline_svg(
    attempts: Sequence[Attempt], days: Sequence[date], start: float | None, end: float | None
) -> str:
    """The timeline of every attempt against the execution's clock (start to end)."""
    if not attempts:
        return '<p class="note">No step logged a run in this execution.</p>'
    t0 = min([a.start for a in attempts] + ([start] if start else []))
    t1 = max([a.end for a in attempts] + ([end] if end else []))
    span = max(t1 - t0, 1e-3)
    scale = PLOT_W / span
    row_h = _row_height(len(days))
    height = AXIS_H + row_h * len(days) + 4
    index = {d: i for i, d in enumerate(days)}
    parts = _axis(span, height)
    by_day: dict[date, list[Attempt]] = {}
    for a in attempts:
        by_day.setdefault(a.day, []).append(a)
    for day in days:
        y = AXIS_H + index[day] * row_h
        mid = y + row_h / 2
        parts.append(
            f'<text class="day" x="{LABEL_W - 6}" y="{mid + 3:.1f}">{day.isoformat()}</text>'
        )
        mine = by_day.get(day, [])
        if not mine:
            continue
        first = min(a.start for a in mine)
        last = max(a.end for a in mine)
        parts.append(
            f'<line class="wait" x1="{LABEL_W + (first - t0) * scale:.1f}" y1="{mid:.1f}" '
            f'x2="{LABEL_W + (last - t0) * scale:.1f}" y2="{mid:.1f}"/>'
        )
        parts.extend(_bar(a, t0, scale, y + 1, row_h - 2) for a in mine)
    return (
        f'<svg class="gantt" role="img" aria-label="timeline of every step attempt" '
        f'xmlns="http://www.w3.org/2000/svg" width="{LABEL_W + PLOT_W + 40}" height="{height}" '
        f'viewBox="0 0 {LABEL_W + PLOT_W + 40} {height}">' + "".join(parts) + "</svg>"
    )
