"""Typed configuration: `BATON_*` environment variables, overridden by CLI flags, built once.

Nothing reads the environment at import time; `load_settings` is called by CLI layers only.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from baton import __version__
from baton.errors import ConfigError


class Settings(BaseSettings):
    """Everything a step or tool needs to know about where it runs."""

    model_config = SettingsConfigDict(env_prefix="BATON_", frozen=True, extra="ignore")

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
    dates: Annotated[list[date] | None, NoDecode] = Field(
        None, description="batched mode: JSON list of partition dates shared among tasks"
    )
    log_level: Literal["debug", "info", "warning", "error"] = "info"

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
    def duckdb_file(self) -> Path:
        """Where the local warehouse lives."""
        return self.duckdb_path or self.home / "warehouse.duckdb"


class _ExplicitSettings(Settings):
    """Settings from the mapping given to `load_settings` alone: with an explicit `environ`,
    the process environment must not leak in (pydantic-settings reads it by default)."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


def load_settings(
    overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Build settings from `environ` (default: the process environment) plus explicit overrides.

    Raises ConfigError naming the offending variable when a value is invalid.
    """
    clean = {k: v for k, v in (overrides or {}).items() if v is not None}
    try:
        if environ is None:
            return Settings(**clean)
        prefixed = {
            k[len("BATON_") :].lower(): v for k, v in environ.items() if k.startswith("BATON_")
        }
        return _ExplicitSettings(**{**prefixed, **clean})
    except ValidationError as err:
        problems = "; ".join(
            f"BATON_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}" for e in err.errors()
        )
        raise ConfigError(f"invalid configuration: {problems}", reason="invalid_setting") from err
