"""The operator's target configuration: local twin or GCP, and where the deployed pieces live.

Read once from flags and `BATON_*` variables (flags win) into a frozen `OpsConfig`; nothing
here reads the environment on import.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from baton import typed_record
from baton.errors import ConfigError
from baton.jobs import JOB_PREFIX

Kind = Literal["local", "gcp"]

# field -> (environment variable, command-line flag) for error messages.
SOURCES = {
    "target": ("BATON_TARGET", "--target"),
    "gcp_project": ("BATON_GCP_PROJECT", "--project"),
    "gcp_region": ("BATON_GCP_REGION", "--region"),
    "workflow": ("BATON_WORKFLOW", "--workflow"),
    "job_prefix": ("BATON_JOB_PREFIX", "--job-prefix"),
    "workflows_endpoint": ("BATON_WORKFLOWS_ENDPOINT", "--workflows-endpoint"),
    "run_endpoint": ("BATON_RUN_ENDPOINT", "--run-endpoint"),
}


@dataclass(frozen=True, kw_only=True)
class OpsConfig:
    """Where `baton run|backfill|rerun|executions` act: the local twin or a GCP deployment."""

    target: Kind = "local"
    gcp_project: str | None = None
    gcp_region: str | None = None
    workflow: str = "baton-pipeline"  # the deployed workflow (infra: `<name>-pipeline`)
    job_prefix: str = JOB_PREFIX  # Cloud Run job name = prefix + step (infra: `<name>-<step>`)
    workflows_endpoint: str | None = None  # Workflow Executions API (gRPC host:port) for tests
    run_endpoint: str | None = None  # Cloud Run Admin API root (REST) for tests

    def __post_init__(self) -> None:
        typed_record.validate(self)

    @property
    def project(self) -> str:
        """The GCP project; ConfigError naming the flag and variable when unset."""
        return self._required("gcp_project")

    @property
    def region(self) -> str:
        """The GCP region; ConfigError naming the flag and variable when unset."""
        return self._required("gcp_region")

    def _required(self, field: str) -> str:
        value = getattr(self, field)
        if not value:
            variable, flag = SOURCES[field]
            raise ConfigError(
                f"the GCP target needs {field.removeprefix('gcp_')}: pass {flag} or set {variable}",
                reason="missing_setting",
            )
        return value

    @property
    def workflow_parent(self) -> str:
        """`projects/{p}/locations/{r}/workflows/{w}`: the parent of its executions."""
        return f"projects/{self.project}/locations/{self.region}/workflows/{self.workflow}"

    def job_name(self, step: str) -> str:
        """The full name of a step's Cloud Run job."""
        return f"projects/{self.project}/locations/{self.region}/jobs/{self.job_prefix}{step}"


def load_ops_config(
    overrides: Mapping[str, object | None] | None = None, environ: Mapping[str, str] | None = None
) -> OpsConfig:
    """The config from `environ` (`BATON_*`; the project also from GOOGLE_CLOUD_PROJECT), with
    explicit `overrides` (flags; None means not given) on top."""
    environ = environ or {}
    values: dict[str, object] = {
        field: environ[variable] for field, (variable, _) in SOURCES.items() if variable in environ
    }
    if "gcp_project" not in values and environ.get("GOOGLE_CLOUD_PROJECT"):
        values["gcp_project"] = environ["GOOGLE_CLOUD_PROJECT"]
    values |= {k: v for k, v in (overrides or {}).items() if v is not None}
    unknown = sorted(set(values) - set(SOURCES))
    if unknown:
        raise ConfigError(
            f"invalid configuration: unknown settings {', '.join(unknown)}",
            reason="invalid_setting",
        )
    try:
        return OpsConfig(**values)  # type: ignore[arg-type]
    except typed_record.RecordError as err:
        field = str(err.loc[0]) if err.loc else ""
        where = " / ".join(reversed(SOURCES[field])) if field in SOURCES else "settings"
        raise ConfigError(
            f"invalid configuration: {where}: {err.msg}", reason="invalid_setting"
        ) from err
