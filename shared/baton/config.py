"""Typed configuration: `BATON_*` environment variables, overridden by CLI flags, built once.

Nothing reads the environment at import time; `load_settings` is called by CLI layers only.
A plain pydantic model fed by `load_settings` (not pydantic-settings, whose sources and dotenv
support every step process would import and never use).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from baton import __version__
from baton.errors import ConfigError

ENV_PREFIX = "BATON_"


class Settings(BaseModel):
    """Everything a step or tool needs to know about where it runs."""

    model_config = ConfigDict(frozen=True, extra="ignore", validate_default=True)

    home: Path = Field(Path(".baton"), description="local state: lake, warehouse, executions")
    lake: str | None = Field(None, description="lake root: a directory or gs://bucket/prefix")
    warehouse: Literal["duckdb", "bigquery"] = "duckdb"
    duckdb_path: Path | None = Field(None, description="default $BATON_HOME/warehouse.duckdb")
    bq_project: str | None = None
    bq_dataset: str = "baton"
    bq_location: str = "US"
    bq_api_endpoint: str | None = Field(
        None, description="BigQuery API root of a local stand-in (anonymous credentials); tests"
    )
    quarantine_tolerance: float | None = Field(
        None, ge=0.0, le=1.0, description="override every dataset's bad-row share tolerance"
    )
    execution_id: str = Field("local", description="workflow execution id, for lineage and logs")
    code_version: str = __version__
    dates: list[date] | None = Field(
        None, description="batched mode: JSON list of partition dates shared among tasks"
    )
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    twin_iam: Literal["off", "enforce"] = Field(
        "off", description="local twin: refuse calls the deployed IAM policy does not allow"
    )
    twin_policy: Path | None = Field(
        None,
        description="local twin: the policy `python -m baton_infra.policy` exported; default "
        "$BATON_HOME/policy.json (where `make policy` writes it)",
    )
    twin_identity: str | None = Field(
        None, description="local twin: the caller this process runs as (set by the job runner)"
    )

    @field_validator("home", mode="after")
    @classmethod
    def _absolute_home(cls, value: Path) -> Path:
        # Resolved once: records, logs and child processes must not depend on the cwd.
        return value.expanduser().resolve()

    @field_validator("dates", mode="before")
    @classmethod
    def _parse_dates(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                return json.loads(value)
            except json.JSONDecodeError as err:
                raise ValueError(f"not a JSON list of dates: {err.msg}") from err
        return value

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
        if k.startswith(ENV_PREFIX) and k[len(ENV_PREFIX) :].lower() in Settings.model_fields
    }
    try:
        return Settings(**{**prefixed, **clean})
    except ValidationError as err:
        problems = "; ".join(
            f"BATON_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}" for e in err.errors()
        )
        raise ConfigError(f"invalid configuration: {problems}", reason="invalid_setting") from err
