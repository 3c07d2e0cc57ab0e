"""Conditional writes on both lakes: a write conditional on a generation (0: the object must not
exist) replaces the object only if it is still at that generation, else CommitConflictError
(retryable) and the object is unchanged. On gs:// this runs against the gcp-storage-emulator
behind tests/gcs_proxy.py, which enforces `ifGenerationMatch` as GCS does (the emulator alone
ignores it: the first test shows it)."""

from __future__ import annotations

import pytest
from gcs_proxy import PreconditionProxy
from lakes import BUCKET

from baton.errors import ExitCode
from baton.storage import CommitConflictError, GcsStorage, LocalStorage

KEY = "raw/d/dt=2013-01-02/_manifest.json"


@pytest.fixture
def proxy(gcs, monkeypatch):
    with PreconditionProxy(gcs) as running:
        monkeypatch.setenv("STORAGE_EMULATOR_HOST", running.url)
        yield running


@pytest.fixture(params=["local", "gcs"])
def storage(request, tmp_path):
    if request.param == "local":
        return LocalStorage(tmp_path)
    request.getfixturevalue("proxy")
    return GcsStorage(f"gs://{BUCKET}/generation-{tmp_path.name}")


def test_the_emulator_alone_ignores_a_stale_precondition(gcs, tmp_path):
    lake = GcsStorage(f"gs://{BUCKET}/bare-{tmp_path.name}")
    lake.write_bytes(KEY, b"one")
    lake.write_bytes(KEY, b"two", if_generation_match=12345)  # GCS would answer 412
    assert lake.read_bytes(KEY) == b"two"


def test_a_write_conditional_on_absence_creates_once(storage):
    storage.write_bytes(KEY, b"first", if_generation_match=0)

    with pytest.raises(CommitConflictError) as caught:
        storage.write_bytes(KEY, b"second", if_generation_match=0)

    assert caught.value.exit_code == ExitCode.TRANSIENT
    assert caught.value.reason == "commit_conflict"
    assert storage.read_bytes(KEY) == b"first"


def test_a_write_at_the_generation_read_replaces_and_a_stale_one_is_refused(storage):
    storage.write_bytes(KEY, b"v1")
    data, generation = storage.read_versioned(KEY)
    assert data == b"v1"

    storage.write_bytes(KEY, b"v2", if_generation_match=generation)
    with pytest.raises(CommitConflictError):
        storage.write_bytes(KEY, b"v3", if_generation_match=generation)

    assert storage.read_bytes(KEY) == b"v2"
    assert storage.read_versioned(KEY)[1] != generation


def test_reading_an_absent_object_versioned_is_none(storage):
    assert storage.read_versioned(KEY) is None


def test_the_proxy_is_what_refuses_a_racing_upload(proxy, tmp_path):
    lake = GcsStorage(f"gs://{BUCKET}/proxied-{tmp_path.name}")
    lake.write_bytes(KEY, b"one", if_generation_match=0)

    with pytest.raises(CommitConflictError):
        lake.write_bytes(KEY, b"two", if_generation_match=0)

    assert proxy.refused == 1
