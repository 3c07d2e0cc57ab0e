"""Source credentials through the mock runtime: the stack creates a secret for every one the
datasets' sources name, and the extract identity may read those secrets alone, each through
its own secret-level grant of roles/secretmanager.secretAccessor (secretmanager.versions.access,
grantable on a single secret: https://cloud.google.com/iam/docs/roles-permissions/secretmanager),
never a project-wide one."""

from __future__ import annotations

from baton import datasets
from baton_infra.iam_graph import iam_graph

ACCESSOR = "roles/secretmanager.secretAccessor"


def test_the_datasets_name_the_api_token_and_the_database_password():
    assert datasets.source_secret_ids() == ("flights-api-token", "flights-db-password")


def test_extract_reads_exactly_the_secrets_the_datasets_name(full):
    readers = {(g.identity, g.resource) for g in iam_graph(full) if g.role == ACCESSOR}
    assert readers == {("baton-extract", f"secret {s}") for s in datasets.source_secret_ids()}


def test_no_identity_may_read_every_secret_of_the_project(full):
    assert not [
        g for g in iam_graph(full) if g.role == ACCESSOR and g.resource.startswith("project")
    ]
