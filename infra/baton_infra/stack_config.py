"""The stack's configuration: read once from Pulumi config, validated, frozen.

Every problem is reported at once, naming the config key and the `pulumi config set` that
fixes it; nothing else in the program reads Pulumi config.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from baton import datasets
from baton.errors import ConfigError
from baton.jobs import load_jobs
from baton.sources.secret import injected_env_name

NAMESPACE = "baton"
"""The Pulumi project name, hence the namespace of baton's own config keys."""

IMAGE_PREFIX = "baton-"
"""Images are named for the code they hold (`baton-<step>`), whatever the stack is called."""

_PROJECT = re.compile(r"[a-z][a-z0-9-]{4,28}[a-z0-9]")
_NAME = re.compile(r"[a-z](?:[a-z0-9-]{0,18}[a-z0-9])?")  # + "-scheduler" fits 30 chars
_BUCKET = re.compile(r"[a-z0-9][a-z0-9_.-]{1,61}[a-z0-9]")
_PREFIX = re.compile(r"[A-Za-z0-9_.=-]+(?:/[A-Za-z0-9_.=-]+)*")
_BQ_DATASET = re.compile(r"[A-Za-z0-9_]{1,1024}")
_REPOSITORY = re.compile(r"[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?")
_SECRET = re.compile(r"[A-Za-z0-9_-]{1,255}")
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
_FULL_REF = re.compile(rf"[a-z0-9.-]+(?::\d+)?/[a-z0-9._/-]+(?::{_TAG.pattern}|@{_DIGEST.pattern})")
_CHANNEL = re.compile(r"projects/[^/]+/notificationChannels/[^/]+")


def secret_env_name(secret_id: str) -> str:
    """The environment variable the extract job receives a secret in: `BATON_SECRET_<ID>`
    (the rule lives with the code that reads it, baton.sources.secret)."""
    return injected_env_name(secret_id)


def registry_path(region: str, project: str, repository: str) -> str:
    """The Artifact Registry Docker repository's path, which image paths start with."""
    return f"{region}-docker.pkg.dev/{project}/{repository}"


def image_path(region: str, project: str, repository: str, step: str) -> str:
    """The Artifact Registry path (no tag or digest) of `step`'s image."""
    return f"{registry_path(region, project, repository)}/{IMAGE_PREFIX}{step}"


@dataclass(frozen=True)
class StackConfig:
    """Everything the program needs to know about the stack it deploys."""

    project: str
    region: str
    name: str
    repository: str
    images: Mapping[str, str] | None
    """Step -> full image reference (tag or digest); None only when `foundation_only`."""
    foundation_only: bool
    """Deploy only what exists before any image: APIs, registry, lake, warehouse, secrets."""
    lake_bucket: str
    lake_prefix: str
    lake_location: str
    bq_dataset: str
    bq_location: str
    default_dataset: str
    schedule: str
    time_zone: str
    schedule_paused: bool
    landing_trigger: bool
    quarantine_retention_days: int
    noncurrent_retention_days: int
    source_secrets: tuple[str, ...]
    alert_email: str | None
    alert_channel: str | None
    protect_data: bool

    @property
    def job_prefix(self) -> str:
        """Cloud Run job name = prefix + step name (the workflow's BATON_JOB_PREFIX)."""
        return f"{self.name}-"

    @property
    def lake_uri(self) -> str:
        """The steps' BATON_LAKE."""
        root = f"gs://{self.lake_bucket}"
        return f"{root}/{self.lake_prefix}" if self.lake_prefix else root

    def image(self, step: str) -> str:
        """The image reference `step`'s job runs."""
        if self.images is None:
            raise ConfigError(
                f"no image configured for {step}: set baton:images first", reason="no_images"
            )
        return self.images[step]

    def code_version(self, step: str) -> str:
        """What the step records as its code version: the image digest, else its tag."""
        ref = self.image(step)
        if "@" in ref:
            return ref.rsplit("@", 1)[1]
        return ref.rsplit(":", 1)[1]


ConfigGetter = Callable[[str, str], str | None]
"""(namespace, key) -> the raw string value, or None when unset."""

_Problems = list[str]


def _fix(key: str, example: str) -> str:
    return f"`pulumi config set {key} {example}`"


def _text(
    get: ConfigGetter,
    problems: _Problems,
    key: str,
    default: str | None,
    pattern: re.Pattern[str],
    what: str,
) -> str:
    namespace, _, name = key.partition(":")
    value = get(namespace, name)
    if value is None:
        if default is None:
            problems.append(f"{key} is required: {what}; set it with {_fix(key, '<value>')}")
            return ""
        return default
    if not pattern.fullmatch(value):
        problems.append(f"{key} = {value!r} is invalid: {what}")
    return value


def _bool(get: ConfigGetter, problems: _Problems, key: str, default: bool) -> bool:
    value = get(NAMESPACE, key)
    if value is None:
        return default
    if value.lower() not in ("true", "false"):
        problems.append(f"{NAMESPACE}:{key} = {value!r} is invalid: write true or false")
        return default
    return value.lower() == "true"


def _days(get: ConfigGetter, problems: _Problems, key: str, default: int) -> int:
    value = get(NAMESPACE, key)
    if value is None:
        return default
    if not value.isdigit() or not 1 <= int(value) <= 3650:
        problems.append(
            f"{NAMESPACE}:{key} = {value!r} is invalid: a whole number of days, 1..3650"
        )
        return default
    return int(value)


def _json(get: ConfigGetter, problems: _Problems, key: str) -> Any:
    value = get(NAMESPACE, key)
    if value is None:
        return None
    try:
        return json.loads(value)
    except json.JSONDecodeError as err:
        problems.append(f"{NAMESPACE}:{key} is not valid structured config ({err.msg})")
        return None


def _images(
    raw: Any, problems: _Problems, region: str, project: str, repository: str
) -> dict[str, str] | None:
    """Each step's image: a full reference, or a bare digest/tag in the stack's registry."""
    if raw is None:
        return None
    steps = [job.name for job in load_jobs()]
    if not isinstance(raw, dict):
        problems.append(f"{NAMESPACE}:images must map each step ({', '.join(steps)}) to an image")
        return None
    missing = [s for s in steps if s not in raw]
    unknown = sorted(set(raw) - set(steps))
    if missing:
        problems.append(
            f"{NAMESPACE}:images lacks {', '.join(missing)}; set each with "
            f"`pulumi config set --path images.<step> <digest or tag>`"
        )
    if unknown:
        problems.append(f"{NAMESPACE}:images names unknown step(s) {unknown}; steps: {steps}")
    images = {}
    for step in steps:
        ref = raw.get(step)
        if ref is None:
            continue
        ref = str(ref)
        path = image_path(region, project, repository, step)
        if _FULL_REF.fullmatch(ref):
            images[step] = ref
        elif _DIGEST.fullmatch(ref):
            images[step] = f"{path}@{ref}"
        elif _TAG.fullmatch(ref):
            images[step] = f"{path}:{ref}"
        else:
            problems.append(
                f"{NAMESPACE}:images.{step} = {ref!r} is not an image reference: write a digest "
                "(sha256:<64 hex>), a tag, or a full <host>/<path>@sha256:... reference"
            )
    return images


def _secrets(raw: Any, problems: _Problems, named: tuple[str, ...] = ()) -> tuple[str, ...]:
    if raw is None:
        raw = []
    if not isinstance(raw, list) or not all(
        isinstance(s, str) and _SECRET.fullmatch(s) for s in raw
    ):
        problems.append(
            f"{NAMESPACE}:sourceSecrets must be a list of secret ids ([A-Za-z0-9_-], at most 255)"
        )
        return ()
    raw = sorted(set(raw) | set(named))
    names = [secret_env_name(s) for s in raw]
    clashes = sorted({n for n in names if names.count(n) > 1})
    if clashes:
        problems.append(
            f"{NAMESPACE}:sourceSecrets ids map to the same variable(s) {clashes}; rename one"
        )
        return ()
    return tuple(raw)


def _time_zone(get: ConfigGetter, problems: _Problems) -> str:
    value = get(NAMESPACE, "timeZone") or "Etc/UTC"
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(
            f"{NAMESPACE}:timeZone = {value!r} is not a tz database name (e.g. Europe/Berlin)"
        )
    return value


def _schedule(get: ConfigGetter, problems: _Problems) -> str:
    value = get(NAMESPACE, "schedule") or "0 3 * * *"
    if len(value.split()) != 5:
        problems.append(
            f"{NAMESPACE}:schedule = {value!r} is not a 5-field cron expression (e.g. '0 3 * * *')"
        )
    return value


def parse_stack_config(get: ConfigGetter) -> StackConfig:
    """Build the stack config from raw values; raise one ConfigError listing every problem."""
    p: _Problems = []
    project = _text(get, p, "gcp:project", None, _PROJECT, "the GCP project id")
    region = _text(
        get,
        p,
        "gcp:region",
        None,
        re.compile(r"[a-z]+-[a-z]+\d+"),
        "a GCP region such as europe-west1",
    )
    name = _text(
        get,
        p,
        f"{NAMESPACE}:name",
        "baton",
        _NAME,
        "lower case, digits and '-', at most 20 characters (prefix of jobs and identities)",
    )
    repository = _text(
        get,
        p,
        f"{NAMESPACE}:repository",
        "baton",
        _REPOSITORY,
        "an Artifact Registry repository id",
    )
    bucket = _text(
        get,
        p,
        f"{NAMESPACE}:lakeBucket",
        f"{project}-{name}-lake",
        _BUCKET,
        "a Cloud Storage bucket name (3-63 of a-z 0-9 . _ -)",
    )
    prefix = _text(
        get,
        p,
        f"{NAMESPACE}:lakePrefix",
        "",
        re.compile(rf"|{_PREFIX.pattern}"),
        "an object prefix without leading or trailing '/'",
    )
    dataset = get(NAMESPACE, "defaultDataset") or datasets.DEFAULT_DATASET
    known = datasets.registry()
    if dataset not in known:
        p.append(
            f"{NAMESPACE}:defaultDataset = {dataset!r} is not a registered dataset; known: {sorted(known)}"
        )
    foundation_only = _bool(get, p, "foundationOnly", False)
    images = _images(_json(get, p, "images"), p, region, project, repository)
    if images is None and not foundation_only:
        p.append(
            f"{NAMESPACE}:images is required: the image of each step, e.g. "
            "`pulumi config set --path images.extract sha256:<digest>` (Cloud Build sets them); "
            f"for the very first deploy, before any image exists, set {NAMESPACE}:foundationOnly "
            "true"
        )
    config = StackConfig(
        project=project,
        region=region,
        name=name,
        repository=repository,
        images=images,
        foundation_only=foundation_only,
        lake_bucket=bucket,
        lake_prefix=prefix,
        lake_location=get(NAMESPACE, "lakeLocation") or region,
        bq_dataset=_text(
            get,
            p,
            f"{NAMESPACE}:bqDataset",
            name.replace("-", "_"),
            _BQ_DATASET,
            "letters, digits and '_'",
        ),
        bq_location=get(NAMESPACE, "bqLocation") or region,
        default_dataset=dataset,
        schedule=_schedule(get, p),
        time_zone=_time_zone(get, p),
        schedule_paused=_bool(get, p, "schedulePaused", False),
        landing_trigger=_bool(get, p, "landingTrigger", False),
        quarantine_retention_days=_days(get, p, "quarantineRetentionDays", 90),
        noncurrent_retention_days=_days(get, p, "noncurrentRetentionDays", 7),
        # The secrets the datasets name, and any more the stack lists: extract reads these.
        source_secrets=_secrets(_json(get, p, "sourceSecrets"), p, datasets.source_secret_ids()),
        alert_email=_text(
            get,
            p,
            f"{NAMESPACE}:alertEmail",
            "",
            re.compile(r"|[^@\s]+@[^@\s]+\.[^@\s]+"),
            "an email address",
        )
        or None,
        alert_channel=_text(
            get,
            p,
            f"{NAMESPACE}:alertChannel",
            "",
            re.compile(rf"|{_CHANNEL.pattern}"),
            "a channel id projects/<p>/notificationChannels/<id>",
        )
        or None,
        protect_data=_bool(get, p, "protectData", True),
    )
    if p:
        raise ConfigError(
            "invalid stack configuration:\n  - " + "\n  - ".join(p), reason="invalid_stack_config"
        )
    return config


def from_pulumi() -> StackConfig:
    """The stack config of the running Pulumi program."""
    import pulumi

    configs: dict[str, pulumi.Config] = {}

    def get(namespace: str, key: str) -> str | None:
        config = configs.setdefault(namespace, pulumi.Config(namespace))
        return config.get(key)

    return parse_stack_config(get)
