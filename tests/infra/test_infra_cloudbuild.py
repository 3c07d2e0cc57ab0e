"""cloudbuild.yaml: valid for Cloud Build's schema, and it builds, smoke-tests, pushes and
deploys exactly the images infra runs, using only substitutions it declares."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from baton.jobs import load_jobs
from baton_infra.stack_config import image_path
from baton_infra.workflow_source import repo_root

ROOT = repo_root()
CLOUDBUILD = ROOT / "cloudbuild.yaml"
BUILD = yaml.safe_load(CLOUDBUILD.read_text())
STEPS = BUILD["steps"]
BUILT_INS = {"PROJECT_ID", "COMMIT_SHA"}
# The image path infra deploys, with the build's substitutions in place of the stack's values.
EXPECTED_IMAGES = {
    job.name: f"{image_path('${_REGION}', '$PROJECT_ID', '${_REPOSITORY}', job.name)}:$COMMIT_SHA"
    for job in load_jobs()
}


def _docker(verb: str) -> list[list[str]]:
    return [
        s["args"]
        for s in STEPS
        if s["name"] == "gcr.io/cloud-builders/docker" and s.get("args", [None])[0] == verb
    ]


def test_cloudbuild_yaml_is_valid_for_the_cloud_build_schema():
    check = Path(sys.executable).with_name("check-jsonschema")
    result = subprocess.run(
        [str(check), "--builtin-schema", "vendor.cloudbuild", str(CLOUDBUILD)],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_first_step_runs_the_test_suite():
    assert STEPS[0]["id"] == "test"
    assert "make test" in STEPS[0]["script"]


def test_every_dockerfile_it_builds_exists_and_there_is_one_per_job():
    dockerfiles = [args[args.index("-f") + 1] for args in _docker("build")]
    assert sorted(dockerfiles) == sorted(f"steps/{j.name}/Dockerfile" for j in load_jobs())
    assert all((ROOT / d).is_file() for d in dockerfiles)
    assert all(args[-1] == "." for args in _docker("build")), "the build context is the repo root"


def test_each_image_is_tagged_with_the_commit_in_the_registry_infra_deploys_from():
    tags = {
        args[args.index("-f") + 1].split("/")[1]: args[args.index("-t") + 1]
        for args in _docker("build")
    }
    assert tags == EXPECTED_IMAGES


def test_each_built_image_answers_help_before_it_is_pushed():
    smoked = {args[-2] for args in _docker("run") if args[-1] == "--help"}
    assert smoked == set(EXPECTED_IMAGES.values())
    order = [s["id"] for s in STEPS]
    for step in EXPECTED_IMAGES:
        push = next(s for s in STEPS if s["id"] == f"push-{step}")
        assert push["waitFor"] == [f"smoke-{step}"]
        assert order.index(f"smoke-{step}") < order.index(f"push-{step}")


def test_it_pushes_exactly_the_images_infra_deploys():
    assert sorted(args[1] for args in _docker("push")) == sorted(EXPECTED_IMAGES.values())


def test_the_deploy_pins_every_job_image_by_digest_and_runs_pulumi_up_for_the_stack():
    deploy = next(s for s in STEPS if s["id"] == "deploy")
    assert deploy["dir"] == "infra"
    assert 'pulumi up --yes --stack "${_STACK}"' in deploy["script"]
    assert '--path "images.${step}"' in deploy["script"]
    digests = next(s for s in STEPS if s["id"] == "digests")
    loop = re.search(r"for step in ([a-z ]+); do", digests["script"]).group(1).split()
    assert loop == [job.name for job in load_jobs()]
    assert "RepoDigests" in digests["script"]


def test_every_substitution_used_is_declared_or_built_in_and_every_declared_one_is_used():
    text = CLOUDBUILD.read_text()
    body = text.split("\nsteps:", 1)[1]
    used = set(re.findall(r"\$\{?(_[A-Z0-9_]+|[A-Z][A-Z0-9_]*)\}?", body))
    declared = set(BUILD["substitutions"])
    assert used - declared <= BUILT_INS, used - declared - BUILT_INS
    assert declared <= used, declared - used


@pytest.mark.parametrize("name", ["_STACK", "_REGION", "_REPOSITORY", "_PULUMI_BACKEND"])
def test_the_documented_substitutions_have_defaults(name):
    assert BUILD["substitutions"][name]


def test_the_build_and_the_images_pin_the_same_uv_as_the_makefile():
    """The locked environment is installed by one uv version everywhere: the Makefile's pin
    is the one source, and Cloud Build and every step image must follow it."""
    (pin,) = re.findall(r"^UV_VERSION := (\S+)$", (ROOT / "Makefile").read_text(), re.M)
    found = {"cloudbuild.yaml": re.findall(r"uv==([\w.]+)", CLOUDBUILD.read_text())}
    for dockerfile in sorted(ROOT.glob("steps/*/Dockerfile")):
        found[str(dockerfile.relative_to(ROOT))] = re.findall(
            r"astral-sh/uv:([\w.]+)", dockerfile.read_text()
        )
    assert len(found) == 1 + len(load_jobs())
    assert {where: pins for where, pins in found.items() if pins != [pin]} == {}


def test_after_the_deploy_baton_doctor_checks_the_deployment_and_its_failure_fails_the_build():
    ids = [s["id"] for s in STEPS]
    doctor = STEPS[ids.index("doctor")]
    assert ids.index("doctor") > ids.index("deploy") and doctor["waitFor"] == ["deploy"]
    lines = [line.strip() for line in doctor["script"].splitlines()]
    assert "set -euo pipefail" in lines
    (call,) = [line for line in lines if " doctor " in line]
    assert call.startswith(".venv/bin/baton doctor --target gcp")
    assert "--images /workspace/images.json" in call
    assert "--canary" in call.split(), "the canary run proves the deployment runs"
    assert "||" not in call and not call.endswith("&"), "a failed check must fail the step"
    # The jobs must run the digests this build pinned (written by the digests step).
    assert "/workspace/digests" in doctor["script"]
    assert "BATON_JOB_PREFIX=${_NAME}-" in doctor["env"]
