"""What a full disk or quota under the local lake becomes: `unavailable` (reason no_space) naming
the path and the free space, never a bug or a data error; a failed write leaves no partial copy
and the object it would have replaced intact."""

from __future__ import annotations

import errno

import polars as pl
import pytest
from full_disk import fill, tmpfs

from baton.errors import ExitCode, UnavailableError
from baton.storage import LocalStorage, classify_local_failure, os_error_code


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (OSError(errno.ENOSPC, "No space left on device"), errno.ENOSPC),
        (pl.exceptions.ComputeError("parquet: underlying IO error: x (os error 28)"), errno.ENOSPC),
        (pl.exceptions.ComputeError("underlying IO error: [Errno 122] Disk quota exceeded"), 122),
        (RuntimeError('IO Error: Could not write file "w.duckdb": No space left on device'), 28),
        (RuntimeError("something else"), None),
    ],
)
def test_the_os_error_under_a_failure_is_found_in_any_form(error, code):
    assert os_error_code(error) == code


def test_no_space_is_unavailable_and_names_the_path_and_the_free_space(tmp_path):
    failure = classify_local_failure(OSError(errno.ENOSPC, "full"), "write", tmp_path / "x")
    assert isinstance(failure, UnavailableError)
    assert (failure.exit_code, failure.reason) == (ExitCode.UNAVAILABLE, "no_space")
    assert str(tmp_path / "x") in failure.message
    assert "free on the filesystem holding it" in failure.message


def test_an_unknown_os_error_is_left_alone(tmp_path):
    assert classify_local_failure(OSError(errno.ENOENT, "gone"), "write", tmp_path) is None


def test_a_manifest_write_on_a_full_disk_keeps_the_old_object_and_no_partial_copy(tmp_path):
    with tmpfs(tmp_path / "disk", "1m") as disk:
        storage = LocalStorage(disk)
        storage.write_bytes("m/_manifest.json", b"old")
        fill(disk)
        with pytest.raises(UnavailableError, match="no space left on the device") as caught:
            storage.write_bytes("m/_manifest.json", b"new" * 100_000)
        assert caught.value.reason == "no_space"
        assert str(disk / "m" / "_manifest.json") in caught.value.message
        assert storage.read_bytes("m/_manifest.json") == b"old"
        assert sorted(p.name for p in (disk / "m").iterdir()) == ["_manifest.json"]


def test_a_parquet_sink_on_a_full_disk_leaves_no_file(tmp_path):
    with tmpfs(tmp_path / "disk", "1m") as disk:
        storage = LocalStorage(disk)
        fill(disk)
        frame = pl.LazyFrame({"a": list(range(100_000))})
        with (
            pytest.raises(UnavailableError) as caught,
            storage.sink_targets(["raw/x.parquet"]) as (target,),
        ):
            frame.sink_parquet(target)
        assert caught.value.reason == "no_space"
        assert storage.list("raw") == []
