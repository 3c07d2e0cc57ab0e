"""Fixtures of the step tests: test datasets installed as a plugin distribution."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


@pytest.fixture
def format_datasets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Register tests/steps/format_datasets.py's datasets through the `baton.datasets`
    entry-point group, exactly as an installed plugin would."""
    site = tmp_path / "plugin-site"
    info = site / "baton_test_formats-0.1.dist-info"
    info.mkdir(parents=True)
    shutil.copyfile(HERE / "format_datasets.py", site / "baton_test_formats.py")
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: baton-test-formats\nVersion: 0.1\n"
    )
    from format_datasets import DATASETS

    (info / "entry_points.txt").write_text(
        "[baton.datasets]\n"
        + "".join(f"{name} = baton_test_formats:{name.upper()}\n" for name in DATASETS)
    )
    monkeypatch.syspath_prepend(str(site))
