"""Least privilege as data: which lake prefixes each identity may read or write, and the IAM
conditions that scope a bucket-level grant to those prefixes.

The lake is one bucket (the steps' `BATON_LAKE` is one root with zone prefixes), and Cloud
Storage IAM has no prefix-level grants, so every lake grant carries an IAM condition on the
object name (`resource.name.startsWith(...)`). Steps never list, so no grant needs bucket scope.
Shared by infra (which grants it), `baton doctor` (which evaluates a deployed bucket policy) and
the twin (which serves it), so the three read one table.
"""

from __future__ import annotations

from dataclasses import dataclass

from baton.lake import ATTEMPT, INPUT_STEP, LANDING, OUTPUT_ZONE, QUARANTINE

READ_ROLE = "roles/storage.objectViewer"
"""objects.get (metadata and media): manifests, attempt records, data files, landing files."""
WRITE_ROLE = "roles/storage.objectUser"
"""objects.get/create/delete: write files, overwrite `_manifest.json`/`_attempt.json` (an
overwrite needs delete) and remove superseded files."""

REFERENCE_PREFIX = f"{LANDING}/reference/"
"""Where every dataset's reference tables land (transform and validate read them)."""


def zone(step: str) -> str:
    """The prefix `step` commits its output under."""
    return f"{OUTPUT_ZONE[step]}/"


@dataclass(frozen=True)
class LakeAccess:
    """The lake prefixes (relative to the lake root) one identity may read and write."""

    read: tuple[str, ...]
    write: tuple[str, ...]
    read_except: tuple[str, ...] = ()
    """Prefixes carved out of `read` (extract reads landing files, not the reference tables)."""
    read_attempts: tuple[str, ...] = ()
    """Zones whose `_attempt.json` records alone it reads: the next step's, which say whether
    that step found this step's commit corrupt, so the commit is redone (baton.step._intact)."""


_QUARANTINE = f"{QUARANTINE}/"

STEP_LAKE_ACCESS: dict[str, LakeAccess] = {
    "extract": LakeAccess(
        read=(f"{LANDING}/",),
        read_except=(REFERENCE_PREFIX,),
        write=(zone("extract"), _QUARANTINE),
        read_attempts=(zone("transform"),),
    ),
    "transform": LakeAccess(
        read=(zone(INPUT_STEP["transform"]), REFERENCE_PREFIX),
        write=(zone("transform"), _QUARANTINE),
        read_attempts=(zone("validate"),),
    ),
    "validate": LakeAccess(
        read=(zone(INPUT_STEP["validate"]), REFERENCE_PREFIX),
        write=(zone("validate"), _QUARANTINE),
        read_attempts=(zone("load"),),
    ),
    # Load's BigQuery load jobs read gs:// URIs as load's own identity, so reading validated/
    # and writing (hence reading) loaded/ is also what BigQuery needs.
    "load": LakeAccess(read=(zone(INPUT_STEP["load"]),), write=(zone("load"),)),
}
"""Each step's lake access; a policy test compares it to the grants the program makes."""


def object_name(lake_prefix: str, key: str) -> str:
    """The object name of lake key `key` in a lake rooted at `lake_prefix`."""
    return f"{lake_prefix}/{key}" if lake_prefix else key


def _resource(bucket: str, lake_prefix: str, key: str) -> str:
    return f"projects/_/buckets/{bucket}/objects/{object_name(lake_prefix, key)}"


def prefix_condition(
    bucket: str, lake_prefix: str, prefix: str, exclude: tuple[str, ...] = ()
) -> str:
    """CEL: the object lies under lake `prefix` (and under none of `exclude`)."""
    parts = [f'resource.name.startsWith("{_resource(bucket, lake_prefix, prefix)}")']
    parts += [f'!resource.name.startsWith("{_resource(bucket, lake_prefix, p)}")' for p in exclude]
    return " && ".join(parts)


def attempt_records_condition(bucket: str, lake_prefix: str, under: str = "") -> str:
    """CEL: the object is a partition's `_attempt.json` (all the workflow reads), under lake
    prefix `under` when given (the next step's records a step reads)."""
    return (
        f'resource.name.startsWith("{_resource(bucket, lake_prefix, under)}") && '
        f'resource.name.endsWith("/{ATTEMPT}")'
    )
