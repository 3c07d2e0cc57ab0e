"""Typed configuration: `BATON_*` environment variables, overridden by CLI flags, built once.

Nothing reads the environment at import time; `load_settings` is called by CLI layers only.
A frozen dataclass checked by `baton.typed_record` (no pydantic, whose import and model
building every step process would pay), fed by `load_settings`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import date
from pathlib import Path
from typing import Any, Literal

from baton import __version__, typed_record
from baton.errors import ConfigError

ENV_PREFIX = "BATON_"


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Everything a step or tool needs to know about where it runs."""

    home: Path = Path(".baton")  # local state: lake, warehouse, executions
    lake: str | None = None  # lake root: a directory or gs://bucket/prefix
    warehouse: Literal["duckdb", "bigquery"] = "duckdb"
    duckdb_path: Path | None = None  # default $BATON_HOME/warehouse.duckdb
    # The local warehouse's DuckDB memory limit (inserted rows past it are evicted to the file).
    duckdb_memory: str = "160MB"
    bq_project: str | None = None
    bq_dataset: str = "baton"
    bq_location: str = "US"
    bq_api_endpoint: str | None = None  # BigQuery API root of a local stand-in (tests)
    # Override every dataset's bad-row share tolerance.
    quarantine_tolerance: float | None = field(default=None, metadata={"ge": 0.0, "le": 1.0})
    execution_id: str = "local"  # workflow execution id, for lineage and logs
    code_version: str = __version__
    dates: list[date] | None = None  # batched mode: JSON list of dates shared among tasks
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    # Local twin: refuse calls the deployed IAM policy does not allow.
    twin_iam: Literal["off", "enforce"] = "off"
    # Local twin: the policy `python -m baton_infra.policy` exported; default
    # $BATON_HOME/policy.json (where `make policy` writes it).
    twin_policy: Path | None = None
    twin_identity: str | None = None  # local twin: the caller this process runs as

    def __post_init__(self) -> None:
        if isinstance(self.dates, str):
            try:
                object.__setattr__(self, "dates", json.loads(self.dates))
            except json.JSONDecodeError as err:
                raise typed_record.RecordError(
                    ("dates",), f"not a JSON list of dates: {err.msg}"
                ) from err
        typed_record.validate(self)
        # Resolved once: records, logs and child processes must not depend on the cwd.
        object.__setattr__(self, "home", self.home.expanduser().resolve())

    @property
    def lake_root(self) -> str:
        """The lake root URI or directory; defaults to `$BATON_HOME/lake`."""
        return self.lake or str(self.home / "lake")

    @property
    def twin_policy_file(self) -> Path:
        """The IAM policy the twin enforces under BATON_TWIN_IAM=enforce."""
        return self.twin_policy or self.home / "policy.json"

    @property
    def duckdb_file(self) -> Path:
        """Where the local warehouse lives."""
        return self.duckdb_path or self.home / "warehouse.duckdb"


_FIELDS = frozenset(f.name for f in fields(Settings))


def load_settings(
    overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Build settings from `environ` (default: the process environment) plus explicit overrides.

    Raises ConfigError naming the offending variable when a value is invalid.
    """
    clean = {k: v for k, v in (overrides or {}).items() if v is not None}
    source = os.environ if environ is None else environ
    prefixed = {
        k[len(ENV_PREFIX) :].lower(): v
        for k, v in source.items()
        if k.startswith(ENV_PREFIX) and k[len(ENV_PREFIX) :].lower() in _FIELDS
    }
    try:
        return Settings(**{**prefixed, **clean})
    except typed_record.RecordError as err:
        # The field named as its variable (BATON_DATES), and the item within it if any.
        variable = f"{ENV_PREFIX}{str(err.loc[0]).upper()}" if err.loc else "settings"
        if len(err.loc) > 1:
            variable += f" (item {'.'.join(str(p) for p in err.loc[1:])})"
        raise ConfigError(
            f"invalid configuration: {variable}: {err.msg}", reason="invalid_setting"
        ) from err
