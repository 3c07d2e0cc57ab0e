"""Partition dates on the command line and in ranges: `date_option` (a `YYYY-MM-DD` flag, shared
by the step entrypoints and `baton`) and `days_between` (an inclusive range)."""

from __future__ import annotations

from datetime import date, timedelta

import typer

from baton.lake import parse_date


def date_option(value: str | None) -> date | None:
    """Parse a `YYYY-MM-DD` command-line value; a bad one is a usage error (exit 2) naming it."""
    if value is None:
        return None
    try:
        return parse_date(value)
    except ValueError as err:
        raise typer.BadParameter(str(err)) from err


def days_between(start: date, end: date) -> list[date]:
    """Every date from `start` to `end`, inclusive."""
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]
