"""A real full disk for tests: a small tmpfs mounted for the test (root only, as in this
sandbox and in CI containers), holding a copy of a lake, then filled to the last byte."""

from __future__ import annotations

import contextlib
import errno
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


@contextlib.contextmanager
def tmpfs(where: Path, size: str) -> Iterator[Path]:
    """A tmpfs of `size` mounted at `where` for the block; skips the test where mounting is
    not permitted (not root, no CAP_SYS_ADMIN)."""
    where.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.strip()}): needs root")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def fill(folder: Path) -> None:
    """Write a filler file in `folder` until its filesystem has not one byte left."""
    with (folder / "filler").open("wb", buffering=0) as fh:
        for block in (1 << 20, 1 << 12, 1):
            try:
                while True:
                    fh.write(b"\0" * block)
            except OSError as err:
                if err.errno != errno.ENOSPC:
                    raise
