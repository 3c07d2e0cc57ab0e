"""The deployed garbage collector, through the mock runtime: a Cloud Run job running
`python -m baton_transform gc` from the transform image, started daily by Cloud Scheduler with
an OAuth token through the Cloud Run Admin API's jobs.run; its identity may list the lake and
read and delete in the zones steps write, never landing/; the scheduler's may run that one job."""

from __future__ import annotations

from baton.iam import condition_holds
from baton_infra.effective_access import needs, problems, role_permissions
from baton_infra.iam_graph import iam_graph

JOB = "gcp:cloudrunv2/job:Job"
SCHEDULE = "gcp:cloudscheduler/job:Job"
GC = "baton-gc@acme-data.iam.gserviceaccount.com"
GC_SCHEDULER = "baton-gc-scheduler@acme-data.iam.gserviceaccount.com"
ZONES = ("raw", "staged", "validated", "loaded", "quarantine")


def _gc_job(full) -> dict:
    return full.one(JOB, "gc-job").inputs


def _container(full) -> dict:
    (container,) = _gc_job(full)["template"]["template"]["containers"]
    return container


def test_the_gc_job_runs_the_gc_command_of_the_transform_image(full):
    transform = full.one(JOB, "transform-job").inputs["template"]["template"]["containers"][0]

    assert _container(full)["image"] == transform["image"]
    assert _container(full)["commands"] == ["python", "-m", "baton_transform"]
    assert _container(full)["args"] == ["gc", "--older-than", "1d"]


def test_the_gc_job_sweeps_the_stacks_lake_as_its_own_identity(full):
    envs = {e["name"]: e["value"] for e in _container(full)["envs"]}
    template = _gc_job(full)["template"]["template"]

    assert envs["BATON_LAKE"] == "gs://acme-lake"
    assert template["serviceAccount"] == GC
    assert template["timeout"] == "3600s" and template["maxRetries"] == 1
    assert _gc_job(full)["name"] == "baton-gc"


def test_the_schedule_calls_jobs_run_of_the_gc_job_with_an_oauth_token(full):
    job = full.one(SCHEDULE, "gc-schedule").inputs
    target = job["httpTarget"]

    assert target["uri"] == (
        "https://run.googleapis.com/v2/projects/acme-data/locations/europe-west1/jobs/baton-gc:run"
    )
    assert target["httpMethod"] == "POST"
    assert target["oauthToken"] == {
        "serviceAccountEmail": GC_SCHEDULER,
        "scope": "https://www.googleapis.com/auth/cloud-platform",
    }
    assert "oidcToken" not in target  # OIDC is for Cloud Run services, not Google APIs
    assert job["timeZone"] == "Europe/Berlin" and job["schedule"] == "0 5 * * *"


def test_the_gc_identity_may_list_the_bucket_and_get_and_delete_only_in_the_step_zones(full):
    roles = role_permissions(full)
    grants = [g for g in iam_graph(full) if g.identity == "baton-gc"]

    assert {(g.condition, roles[g.role]) for g in grants} == {
        (None, frozenset({"storage.objects.list"})),
        *(
            (f"under {zone}/", frozenset({"storage.objects.get", "storage.objects.delete"}))
            for zone in ZONES
        ),
    }


def test_the_gc_identity_can_neither_read_nor_delete_a_landing_file(full):
    landing = "projects/_/buckets/acme-lake/objects/landing/flights/2013-01-02.csv"
    roles = role_permissions(full)

    reach = [
        p
        for g in iam_graph(full)
        if g.identity == "baton-gc" and condition_holds(g.expression, landing)
        for p in roles[g.role]
    ]

    assert reach == ["storage.objects.list"]  # the bucket-level list grant, names only


def test_the_gc_scheduler_may_only_run_the_gc_job(full):
    grants = [g for g in iam_graph(full) if g.identity == "baton-gc-scheduler"]

    assert [(g.role, g.resource) for g in grants] == [("roles/run.invoker", "job baton-gc")]


def test_every_call_of_the_gc_and_its_scheduler_is_granted_and_nothing_more(full):
    gc_needs = [n for n in needs(full) if n.identity in ("baton-gc", "baton-gc-scheduler")]

    assert len(gc_needs) == 1 + 2 * len(ZONES) + 1
    assert [p for p in problems(full) if "baton-gc" in p] == []
