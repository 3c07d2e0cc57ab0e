"""Fixtures of the infra policy tests. Each test module runs the program once (module-scoped
fixtures): importing and running pulumi-gcp is the slow part."""

from __future__ import annotations

import pytest
from infra_stacks import FULL, run

from baton_infra.mock_runtime import Recording


@pytest.fixture(scope="module")
def full() -> Recording:
    """The program run once for the production-like stack."""
    return run(FULL)
