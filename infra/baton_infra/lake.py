"""The data lake: one hardened bucket whose zones are prefixes (landing/, raw/, staged/, ...)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from baton.lake import QUARANTINE
from baton.lake_access import object_name


@dataclass(frozen=True)
class DataLakeArgs:
    """Where the lake lives and how long superseded and quarantined objects are kept."""

    project: str
    bucket: str
    location: str
    prefix: str
    quarantine_retention_days: int
    noncurrent_retention_days: int
    protect_data: bool


def lifecycle_rules(args: DataLakeArgs) -> list[dict]:
    """Delete quarantined rows after their retention, superseded object versions (overwritten
    manifests and attempt records, files a rerun replaced) after theirs, and abandoned uploads."""
    return [
        {
            "action": {"type": "Delete"},
            "condition": {
                "age": args.quarantine_retention_days,
                "matches_prefixes": [object_name(args.prefix, f"{QUARANTINE}/")],
            },
        },
        {
            "action": {"type": "Delete"},
            "condition": {
                "days_since_noncurrent_time": args.noncurrent_retention_days,
                "with_state": "ARCHIVED",
            },
        },
        {"action": {"type": "AbortIncompleteMultipartUpload"}, "condition": {"age": 1}},
    ]


class DataLake(pulumi.ComponentResource):
    """The lake bucket: uniform access, public access prevention enforced, versioned, with
    lifecycle rules. Access is granted per identity and prefix by whoever owns the identity."""

    def __init__(
        self, name: str, args: DataLakeArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("baton:infra:DataLake", name, None, opts)
        self.bucket = gcp.storage.Bucket(
            f"{name}-bucket",
            project=args.project,
            name=args.bucket,
            location=args.location,
            uniform_bucket_level_access=True,
            public_access_prevention="enforced",
            # Versioning keeps the previous commit of a partition recoverable for
            # noncurrentRetentionDays; soft delete would keep the same bytes a second time.
            versioning={"enabled": True},
            soft_delete_policy={"retention_duration_seconds": 0},
            lifecycle_rules=lifecycle_rules(args),
            # Never delete a bucket holding data unless the stack says the data is disposable.
            force_destroy=not args.protect_data,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.name = self.bucket.name
        self.register_outputs({"bucket": self.bucket.name, "url": self.bucket.url})
