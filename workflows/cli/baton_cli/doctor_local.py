"""`baton doctor --target local`: whether the local twin will run: the lake directory, the
DuckDB warehouse, the jobs list and its step modules, and the pipeline YAML's static check."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from baton.config import Settings
from baton.jobs import load_jobs
from baton_cli.doctor import Check, failed, passed
from baton_engine import check_source
from baton_twin.connector_names import GET_OBJECT, RUN_JOB
from baton_twin.local_engine import PIPELINE

SEED_FIX = "make run (or `baton seed` then `baton run --date 2013-01-01`) creates it"


def check_lake(settings: Settings) -> Check:
    """The lake root is a writable directory (a gs:// lake is the GCP target's business)."""
    root = settings.lake_root
    if root.startswith("gs://"):
        return failed(
            "lake",
            f"BATON_LAKE={root} is a bucket; the local target needs a directory",
            "unset BATON_LAKE (default $BATON_HOME/lake), or use --target gcp",
        )
    path = Path(root)
    if not path.is_dir():
        return failed("lake", f"{path} does not exist", SEED_FIX)
    if not os.access(path, os.W_OK | os.X_OK):
        return failed("lake", f"{path} is not writable", f"chmod u+rwx {path}, or set BATON_HOME")
    zones = sorted(p.name for p in path.iterdir() if p.is_dir())
    return passed("lake", f"{path} ({', '.join(zones) or 'empty'})")


def check_warehouse(settings: Settings) -> Check:
    """The DuckDB warehouse file exists (load creates it) unless BigQuery is configured."""
    if settings.warehouse != "duckdb":
        return failed(
            "warehouse",
            f"BATON_WAREHOUSE={settings.warehouse}; the local target loads into DuckDB",
            "unset BATON_WAREHOUSE",
        )
    path = settings.duckdb_file
    if not path.is_file():
        if path.parent.is_dir() and os.access(path.parent, os.W_OK):
            return passed("warehouse", f"{path} (not created yet: the first load creates it)")
        return failed("warehouse", f"{path.parent} does not exist or is not writable", SEED_FIX)
    return passed("warehouse", f"{path} ({path.stat().st_size} bytes)")


def check_jobs() -> list[Check]:
    """jobs.toml is valid and every step's module is importable in this Python."""
    try:
        jobs = load_jobs()
    except ValueError as err:
        return [failed("jobs", str(err), "fix shared/baton/jobs.toml")]
    checks = []
    for job in jobs:
        name = f"job {job.name}"
        if importlib.util.find_spec(job.module) is None:
            checks.append(failed(name, f"module {job.module} is not installed", "make sync"))
        else:
            checks.append(passed(name, f"python -m {job.module}, timeout {job.timeout_s}s"))
    return checks


def check_pipeline(path: Path = PIPELINE) -> Check:
    """The pipeline YAML passes the engine's static check."""
    workflow, issues = check_source(path.read_text(), {RUN_JOB, GET_OBJECT})
    errors = [str(i) for i in issues if i.severity == "error"]
    if workflow is None or errors:
        return failed(
            "pipeline yaml", "; ".join(errors) or "not a workflow", f"baton workflow check {path}"
        )
    return passed(
        "pipeline yaml", f"{path.name}: {len(workflow.subworkflows)} (sub)workflows, no errors"
    )


def local_checks(settings: Settings) -> list[Check]:
    """Every check of the local twin."""
    return [check_lake(settings), check_warehouse(settings), *check_jobs(), check_pipeline()]
