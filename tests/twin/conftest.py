"""Fixtures of the twin tests: the IAM policy the Pulumi program grants, exported once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from baton.iam import Policy
from baton_infra.plan import EXAMPLE_STACK
from baton_infra.policy import export
from baton_infra.workflow_source import repo_root


@pytest.fixture(scope="session")
def deployed_policy() -> Policy:
    """The effective policy of the documented example stack (infra/Pulumi.example.yaml), as
    `python -m baton_infra.policy` exports it: one run of the program in the mock runtime."""
    return export(repo_root() / EXAMPLE_STACK)


@pytest.fixture(scope="session")
def deployed_policy_file(deployed_policy: Policy, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The deployed policy written once for the whole session (do not modify)."""
    path = tmp_path_factory.mktemp("policy") / "policy.json"
    path.write_text(json.dumps(deployed_policy.to_json()))
    return path
