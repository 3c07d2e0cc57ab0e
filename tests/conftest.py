"""Fixtures shared by the whole suite: tiny real lakes built once per session and copied per test."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from gcp_storage_emulator.server import create_server
from lakes import BUCKET, JAN_1, JAN_2, Lake, seed_days

from baton.errors import ExitCode


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory: pytest.TempPathFactory) -> Lake:
    """A lake with real landing files for a few days and nothing run yet (do not modify)."""
    home = tmp_path_factory.mktemp("seeded") / "home"
    (home / "lake").mkdir(parents=True)
    seed_days(home / "lake")
    return Lake(home)


@pytest.fixture(scope="session")
def committed_template(seeded_template: Lake, tmp_path_factory: pytest.TempPathFactory) -> Lake:
    """The seeded lake with flights 2013-01-01 and 2013-01-02 run through load (do not modify)."""
    lake = seeded_template.copy_to(tmp_path_factory.mktemp("committed") / "home")
    for day in (JAN_1, JAN_2):
        assert lake.chain(day) == [ExitCode.OK] * 4
    return lake


@pytest.fixture
def lake(seeded_template: Lake, tmp_path: Path) -> Lake:
    """A private copy of the seeded lake."""
    return seeded_template.copy_to(tmp_path / "home")


@pytest.fixture
def committed_lake(committed_template: Lake, tmp_path: Path) -> Lake:
    """A private copy of the lake with two flights days committed through load."""
    return committed_template.copy_to(tmp_path / "home")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def gcs() -> Iterator[str]:
    """A GCS emulator (gcp-storage-emulator) on loopback with bucket BUCKET, in memory; yields
    its address and sets STORAGE_EMULATOR_HOST for the real google-cloud-storage client."""
    port = _free_port()
    server = create_server("127.0.0.1", port, in_memory=True, default_bucket=BUCKET)
    server.start()
    host = f"http://127.0.0.1:{port}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STORAGE_EMULATOR_HOST", host)
        yield host
    server.stop()
