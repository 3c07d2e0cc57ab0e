"""One Cloud Run v2 Job per entry of the shared jobs list, configured from it."""

from __future__ import annotations

import pytest
from infra_stacks import DIGESTS

from baton.jobs import load_jobs
from baton_infra.stack_config import image_path

JOB = "gcp:cloudrunv2/job:Job"


def _job(full, step):
    return full.one(JOB, f"{step}-job").inputs


def _container(full, step):
    return _job(full, step)["template"]["template"]["containers"][0]


def _env(full, step):
    return {e["name"]: e.get("value", e.get("valueSource")) for e in _container(full, step)["envs"]}


def test_there_is_one_job_per_entry_of_the_jobs_list(full):
    steps = [r.inputs["name"] for r in full.of_type(JOB) if r.name != "gc-job"]
    assert sorted(steps) == sorted(f"baton-{j.name}" for j in load_jobs())


@pytest.mark.parametrize("job", load_jobs(), ids=lambda j: j.name)
def test_each_job_sets_retries_and_timeout_from_the_jobs_list(full, job):
    template = _job(full, job.name)["template"]["template"]
    assert template["maxRetries"] == job.max_retries
    assert template["timeout"] == f"{job.timeout_s}s"


@pytest.mark.parametrize("job", load_jobs(), ids=lambda j: j.name)
def test_each_job_runs_its_step_module_with_the_listed_cpu_and_memory(full, job):
    container = _container(full, job.name)
    assert container["commands"] == ["python", "-m", job.module]
    assert container["resources"]["limits"] == {"cpu": job.cpu, "memory": job.memory}


@pytest.mark.parametrize("step", [j.name for j in load_jobs()])
def test_each_job_runs_its_image_by_digest_and_records_it_as_the_code_version(full, step):
    assert _container(full, step)["image"] == (
        f"{image_path('europe-west1', 'acme-data', 'baton', step)}@{DIGESTS[step]}"
    )
    assert _env(full, step)["BATON_CODE_VERSION"] == DIGESTS[step]


def test_every_job_is_configured_for_the_gcs_lake_and_bigquery(full):
    for job in load_jobs():
        env = _env(full, job.name)
        assert env["BATON_LAKE"] == "gs://acme-lake"
        assert env["BATON_WAREHOUSE"] == "bigquery"
        assert (env["BATON_BQ_PROJECT"], env["BATON_BQ_DATASET"]) == ("acme-data", "baton")
        assert env["BATON_BQ_LOCATION"] == "europe-west1"


def test_only_extract_gets_the_source_credentials_as_secret_references(full):
    secret_env = {
        job.name: sorted(n for n in _env(full, job.name) if n.startswith("BATON_SECRET_"))
        for job in load_jobs()
    }
    assert secret_env == {
        "extract": ["BATON_SECRET_FLIGHTS_API_TOKEN", "BATON_SECRET_FLIGHTS_DB_PASSWORD"],
        "transform": [],
        "validate": [],
        "load": [],
    }
    ref = _env(full, "extract")["BATON_SECRET_FLIGHTS_API_TOKEN"]["secretKeyRef"]
    assert ref == {"secret": "flights-api-token", "version": "latest"}


def test_jobs_can_be_replaced_and_destroyed(full):
    # Stateless: the image and this program rebuild them, so protection would only block.
    assert all(r.inputs["deletionProtection"] is False for r in full.of_type(JOB))
