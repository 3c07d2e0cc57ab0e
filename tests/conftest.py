"""Fixtures shared by the whole suite: tiny real lakes built once per session and copied per test."""

from __future__ import annotations

from pathlib import Path

import pytest
from baton.errors import ExitCode
from lakes import JAN_1, JAN_2, Lake, seed_days


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
