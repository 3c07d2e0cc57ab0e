"""The stacks the infra policy tests deploy offline, and how they run the program.

The program runs in Pulumi's own mock runtime (baton_infra.mock_runtime): the GCP provider
cannot run here, so the mock stands in for it and computes the ids and emails it would return.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from baton.jobs import load_jobs
from baton_infra.mock_runtime import Recording, run_offline
from baton_infra.workflow_source import read_workflow_source, repo_root

ROOT = repo_root()
DIGESTS = {job.name: "sha256:" + f"{i + 1:x}" * 64 for i, job in enumerate(load_jobs())}

FULL = {
    "gcp:project": "acme-data",
    "gcp:region": "europe-west1",
    "baton:images": json.dumps(DIGESTS),
    "baton:lakeBucket": "acme-lake",
    "baton:landingTrigger": "true",
    "baton:sourceSecrets": json.dumps(["flights-api-token"]),
    "baton:alertEmail": "oncall@example.com",
    "baton:schedule": "30 4 * * *",
    "baton:timeZone": "Europe/Berlin",
}
"""A production-like stack: every optional part switched on."""


def run(values: Mapping[str, str]) -> Recording:
    """One offline run of the program."""
    return run_offline(values, read_workflow_source(), stack="test")
