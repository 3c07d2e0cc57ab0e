"""Credentials a source reads at run time: from Secret Manager in GCP, or locally from an
environment variable or a file. The value is wrapped so that it never reaches a log line, a
manifest, an attempt record or an error message (its repr is a mask).

Secret Manager: `SecretManagerServiceClient.access_secret_version(name=...)`, where
`projects/*/secrets/*/versions/latest` is an alias to the most recently created version
(https://cloud.google.com/secret-manager/docs/reference/rest/v1/projects.secrets.versions/access,
https://cloud.google.com/python/docs/reference/secretmanager/latest/google.cloud.secretmanager_v1.services.secret_manager_service.SecretManagerServiceClient);
it needs `secretmanager.versions.access` on the secret (roles/secretmanager.secretAccessor).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from baton.errors import ConfigError, TransientError, UnavailableError

SECRET_MANAGER_ENDPOINT = "BATON_SECRET_MANAGER_ENDPOINT"
"""Environment variable naming a Secret Manager REST endpoint stand-in (tests, the local
twin): the client then uses it with anonymous credentials."""

INJECTED_PREFIX = "BATON_SECRET_"


def injected_env_name(secret_id: str) -> str:
    """The variable the deployed extract job receives secret `secret_id` in (infra mounts each
    secret a dataset names as `BATON_SECRET_<ID>`, latest version, through Cloud Run)."""
    return INJECTED_PREFIX + re.sub(r"[^A-Z0-9]", "_", secret_id.upper())


_NAME = re.compile(r"projects/[^/]+/(locations/[^/]+/)?secrets/[^/]+(/versions/[^/]+)?")


class SecretValue:
    """A secret's value; shown as a mask everywhere but where it is sent."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The value itself, for the one header that carries it."""
        return self._value

    def __repr__(self) -> str:
        return "SecretValue('****')"

    __str__ = __repr__


@dataclass(frozen=True)
class Secret:
    """Where a credential comes from: `env` (the value) or `file_env` (a path to a file holding
    it) when set in the step's environment, else the value Cloud Run injected from the secret
    (`BATON_SECRET_<ID>`, see infra), else the Secret Manager secret `name`, read now."""

    name: str
    """`projects/<p>/secrets/<s>` (version `latest`) or `.../versions/<v>`."""
    env: str | None = None
    file_env: str | None = None

    def __post_init__(self) -> None:
        if not _NAME.fullmatch(self.name):
            raise ValueError(
                f"secret name {self.name!r} must be projects/<project>/secrets/<secret>"
                "[/versions/<version>]"
            )

    @property
    def version(self) -> str:
        """The full version name accessed (`latest` unless the name pins one)."""
        return self.name if "/versions/" in self.name else f"{self.name}/versions/latest"

    @property
    def secret_id(self) -> str:
        """The secret's short id (infra grants access to it alone)."""
        return self.name.split("/secrets/", 1)[1].split("/", 1)[0]

    def resolve(
        self,
        environ: Mapping[str, str],
        access: Callable[[str, Mapping[str, str]], str] | None = None,
    ) -> SecretValue:
        """The value, read now: the environment variable, the file, or Secret Manager."""
        if self.env and environ.get(self.env):
            return SecretValue(environ[self.env])
        if self.file_env and environ.get(self.file_env):
            path = Path(environ[self.file_env])
            try:
                return SecretValue(path.read_text().strip())
            except OSError as err:
                raise ConfigError(
                    f"secret file {path} (from {self.file_env}) cannot be read: "
                    f"{err.strerror}; fix the path or unset {self.file_env}",
                    reason="secret_missing",
                ) from err
        injected = environ.get(injected_env_name(self.secret_id))
        if injected and "/versions/" not in self.name:  # infra mounts the latest version only
            return SecretValue(injected)
        return SecretValue((access or access_secret_version)(self.version, environ))


def _client(environ: Mapping[str, str]) -> Any:
    from google.cloud import secretmanager

    endpoint = environ.get(SECRET_MANAGER_ENDPOINT)
    if not endpoint:
        return secretmanager.SecretManagerServiceClient()
    from google.auth.credentials import AnonymousCredentials

    return secretmanager.SecretManagerServiceClient(
        credentials=AnonymousCredentials(),
        transport="rest",
        client_options={"api_endpoint": endpoint},
    )


def access_secret_version(version: str, environ: Mapping[str, str]) -> str:
    """The payload of one Secret Manager secret version, as UTF-8 text."""
    from google.api_core import exceptions as gexc
    from google.auth import exceptions as auth_exc

    try:
        response = _client(environ).access_secret_version(request={"name": version})
    except auth_exc.DefaultCredentialsError as err:
        raise ConfigError(
            f"secret {version}: no Google credentials to read it with; run where a service "
            "account is attached, or set the source's environment variable locally",
            reason="secret_missing",
        ) from err
    except (gexc.Forbidden, gexc.Unauthorized) as err:  # REST: 403/401 (gRPC subclasses too)
        raise UnavailableError(
            f"secret {version}: access denied; grant roles/secretmanager.secretAccessor on this "
            "secret to the extract job's service account",
            reason="secret_denied",
        ) from err
    except gexc.NotFound as err:
        raise ConfigError(
            f"secret {version} does not exist; create it (or a version of it) or fix the "
            "dataset's secret name",
            reason="secret_missing",
        ) from err
    except (gexc.ServiceUnavailable, gexc.TooManyRequests, gexc.InternalServerError) as err:
        raise TransientError(
            f"secret {version}: Secret Manager is unavailable ({type(err).__name__}); retry",
            reason="secret_transient",
        ) from err
    return _verified(version, response.payload)


def _verified(version: str, payload: Any) -> str:
    """The payload's text, its CRC32C checked when the service sent one."""
    import google_crc32c

    data: bytes = payload.data
    sent = payload.data_crc32c if "data_crc32c" in payload else None
    if sent is not None and int(google_crc32c.value(data)) != int(sent):
        raise TransientError(
            f"secret {version}: the payload's checksum does not match; retry",
            reason="secret_transient",
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ConfigError(f"secret {version} is not UTF-8 text", reason="secret_invalid") from err
