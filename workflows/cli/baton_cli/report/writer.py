"""Writes an execution's report file: for a local execution by default `report.html` in its
record folder, with links relative to wherever the file is written; for a GCP execution by
default `$BATON_HOME/reports/<id>.html`, with `gs://` objects linked to their Cloud Console
pages."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from baton.config import Settings
from baton_cli.report.gather import build_report
from baton_cli.report.remote import build_gcp_report, object_url
from baton_cli.report.render import render_report
from baton_cli.targets.protocol import Target
from baton_engine import ExecutionStore

REPORT_FILE = "report.html"


def default_path(settings: Settings, execution_id: str) -> Path:
    """Where `baton report ID` writes when not told otherwise."""
    return settings.home / "executions" / execution_id / REPORT_FILE


def newest_execution(settings: Settings) -> str:
    """The id of the newest local execution; LookupError when there is none."""
    found = ExecutionStore(settings.home / "executions").list()
    if not found:
        raise LookupError(
            f"no executions in {settings.home / 'executions'}; start one with baton run"
        )
    return found[0].id


def relative_link(folder: Path) -> Callable[[str], str]:
    """An href maker: local paths become paths relative to `folder`; URIs stay as they are."""

    def link(target: str) -> str:
        if "://" in target:
            return target
        path = Path(target)
        if not path.is_absolute():
            return target
        return Path(os.path.relpath(path, folder)).as_posix()

    return link


def write_report(settings: Settings, execution_id: str, out: Path | None = None) -> Path:
    """Build, render and write the report of one local execution; its path.

    LookupError when there is no such execution; OSError when `out` cannot be written.
    """
    report = build_report(settings, execution_id)
    path = (out or default_path(settings, execution_id)).resolve()
    return _write(path, render_report(report, relative_link(path.parent)))


def gcp_default_path(settings: Settings, execution_id: str) -> Path:
    """Where the report of a GCP execution goes when not told otherwise."""
    return settings.home / "reports" / f"{execution_id}.html"


def write_gcp_report(
    settings: Settings, target: Target, project: str, execution_id: str, out: Path | None = None
) -> Path:
    """Build, render and write the report of one GCP execution (the Executions API and the
    `gs://` lake); its path. LookupError when the API has no such execution; ConfigError when
    the lake is not on GCS; OSError when `out` cannot be written."""
    report = build_gcp_report(settings, target, project, execution_id)
    path = (out or gcp_default_path(settings, report.header.id)).resolve()
    return _write(path, render_report(report, lambda uri: object_url(uri, project)))


def _write(path: Path, html: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(html, encoding="utf-8")
    os.replace(tmp, path)
    return path
