"""The operator's target configuration: flags over `BATON_*`, and a missing GCP setting is a
configuration error that names both the flag and the variable."""

from __future__ import annotations

import pytest

from baton.errors import ConfigError, ExitCode
from baton_cli.targets.config import load_ops_config
from baton_cli.targets.gcp import is_loopback


def test_the_default_target_is_the_local_twin_with_the_infra_names():
    config = load_ops_config({}, {})
    assert (config.target, config.workflow, config.job_prefix) == (
        "local",
        "baton-pipeline",
        "baton-",
    )


def test_flags_override_the_environment():
    config = load_ops_config(
        {"target": "gcp", "gcp_region": "europe-west1"},
        {"BATON_TARGET": "local", "BATON_GCP_REGION": "us-central1", "BATON_GCP_PROJECT": "p"},
    )
    assert (config.target, config.gcp_region, config.gcp_project) == ("gcp", "europe-west1", "p")


def test_the_project_falls_back_to_google_cloud_project():
    assert load_ops_config({}, {"GOOGLE_CLOUD_PROJECT": "acme"}).project == "acme"


@pytest.mark.parametrize(
    ("attribute", "named"),
    [
        ("project", "--project or set BATON_GCP_PROJECT"),
        ("region", "--region or set BATON_GCP_REGION"),
    ],
)
def test_a_missing_gcp_setting_names_its_flag_and_variable(attribute, named):
    config = load_ops_config({"target": "gcp"}, {})
    with pytest.raises(ConfigError, match=named) as caught:
        getattr(config, attribute)
    assert caught.value.exit_code is ExitCode.CONFIG


def test_an_unknown_target_names_the_flag_and_variable():
    with pytest.raises(ConfigError, match="--target / BATON_TARGET"):
        load_ops_config({}, {"BATON_TARGET": "aws"})


def test_resource_names_follow_the_infra_naming():
    config = load_ops_config({"gcp_project": "p", "gcp_region": "r"}, {"BATON_JOB_PREFIX": "etl-"})
    assert config.workflow_parent == "projects/p/locations/r/workflows/baton-pipeline"
    assert config.job_name("load") == "projects/p/locations/r/jobs/etl-load"


@pytest.mark.parametrize(
    ("endpoint", "loopback"),
    [
        ("127.0.0.1:8081", True),
        ("http://localhost:8080", True),
        ("http://[::1]:8080", True),
        ("workflowexecutions.googleapis.com", False),
        ("https://run.googleapis.com", False),
        (None, False),
    ],
)
def test_only_loopback_endpoints_get_anonymous_credentials(endpoint, loopback):
    assert is_loopback(endpoint) is loopback
