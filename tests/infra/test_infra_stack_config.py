"""The stack config is read once, validated, and every problem names its key and the fix."""

from __future__ import annotations

import json

import pytest

from baton.errors import ConfigError
from baton.jobs import load_jobs
from baton_infra.stack_config import parse_stack_config

MINIMAL = {"gcp:project": "acme-data", "gcp:region": "europe-west1", "baton:foundationOnly": "true"}
DIGEST = "sha256:" + "a" * 64


def _parse(values: dict[str, str]):
    return parse_stack_config(lambda namespace, key: values.get(f"{namespace}:{key}"))


def _images(**overrides: str) -> str:
    return json.dumps({job.name: DIGEST for job in load_jobs()} | overrides)


def _problems(values: dict[str, str]) -> str:
    with pytest.raises(ConfigError) as err:
        _parse(values)
    return err.value.message


def test_a_minimal_config_takes_the_documented_defaults():
    config = _parse(MINIMAL)
    assert (config.name, config.job_prefix, config.repository) == ("baton", "baton-", "baton")
    assert config.lake_bucket == "acme-data-baton-lake"
    assert config.lake_uri == "gs://acme-data-baton-lake"
    assert (config.bq_dataset, config.bq_location) == ("baton", "europe-west1")
    assert (config.schedule, config.time_zone) == ("0 3 * * *", "Etc/UTC")
    assert config.images is None
    assert config.protect_data is True


def test_images_are_required_unless_only_the_foundation_is_deployed():
    message = _problems({**MINIMAL, "baton:foundationOnly": "false"})
    assert "baton:images is required" in message
    assert "pulumi config set --path images.extract" in message
    assert "baton:foundationOnly" in message


def test_a_missing_project_names_the_key_and_the_command_that_sets_it():
    message = _problems({"gcp:region": "europe-west1", "baton:foundationOnly": "true"})
    assert "gcp:project is required" in message
    assert "pulumi config set gcp:project" in message


def test_every_problem_is_reported_at_once():
    message = _problems({"baton:timeZone": "Mars/Olympus", "baton:schedule": "daily"})
    for key in ("gcp:project", "gcp:region", "baton:timeZone", "baton:schedule"):
        assert key in message


def test_a_bare_digest_becomes_a_reference_in_the_stack_registry():
    config = _parse({**MINIMAL, "baton:images": _images()})
    assert config.image("load") == (
        f"europe-west1-docker.pkg.dev/acme-data/baton/baton-load@{DIGEST}"
    )
    assert config.code_version("load") == DIGEST


def test_a_tag_and_a_full_reference_are_accepted():
    full_ref = f"us-docker.pkg.dev/other/repo/baton-extract@{DIGEST}"
    config = _parse({**MINIMAL, "baton:images": _images(extract=full_ref, load="v1.2.0")})
    assert config.image("extract") == full_ref
    assert config.image("load").endswith("/baton/baton-load:v1.2.0")
    assert config.code_version("load") == "v1.2.0"


def test_images_must_name_every_job_and_no_other():
    images = json.loads(_images())
    del images["validate"]
    images["publish"] = DIGEST
    message = _problems({**MINIMAL, "baton:images": json.dumps(images)})
    assert "lacks validate" in message
    assert "unknown step(s) ['publish']" in message


def test_an_image_that_is_no_reference_is_rejected_with_the_accepted_forms():
    message = _problems({**MINIMAL, "baton:images": _images(load="not a ref!")})
    assert "baton:images.load" in message and "sha256:" in message


def test_the_default_dataset_must_be_registered():
    message = _problems({**MINIMAL, "baton:defaultDataset": "orders"})
    assert "orders" in message and "flights" in message


def test_a_name_too_long_for_service_account_ids_is_rejected():
    assert "baton:name" in _problems({**MINIMAL, "baton:name": "a-very-long-stack-name-x"})


def test_booleans_must_be_true_or_false():
    assert "baton:landingTrigger" in _problems({**MINIMAL, "baton:landingTrigger": "yes"})


def test_an_alert_channel_must_be_a_channel_id():
    assert "baton:alertChannel" in _problems({**MINIMAL, "baton:alertChannel": "email me"})


def test_secret_ids_that_map_to_the_same_variable_are_rejected():
    message = _problems({**MINIMAL, "baton:sourceSecrets": json.dumps(["api-token", "api_token"])})
    assert "baton:sourceSecrets" in message and "BATON_SECRET_API_TOKEN" in message
