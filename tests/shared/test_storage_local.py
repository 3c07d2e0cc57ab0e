"""LocalStorage: a directory standing in for the bucket; keys cannot escape it."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from baton.errors import ConfigError
from baton.storage import LocalStorage, open_storage


@pytest.fixture
def storage(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path)


def test_write_then_read_stat_list_and_delete(storage):
    storage.write_bytes("raw/a/x.json", b"{}")
    storage.write_bytes("raw/b.json", b"[1]")
    assert storage.read_bytes("raw/a/x.json") == b"{}"
    info = storage.stat("raw/b.json")
    assert (info.key, info.size) == ("raw/b.json", 3)
    assert info.digest.startswith("crc32c:")
    assert storage.list("raw") == ["raw/a/x.json", "raw/b.json"]
    storage.delete("raw/b.json")
    storage.delete("raw/b.json")  # deleting what is gone is fine
    assert storage.stat("raw/b.json") is None
    assert storage.size("raw/b.json") is None
    assert storage.list("nothing/here") == []


def test_a_write_replaces_the_object_whole_and_leaves_no_temporary_file(storage, tmp_path):
    storage.write_bytes("m/_manifest.json", b"old")
    storage.write_bytes("m/_manifest.json", b"new")
    assert storage.read_bytes("m/_manifest.json") == b"new"
    assert [p.name for p in (tmp_path / "m").iterdir()] == ["_manifest.json"]


def test_the_digest_is_crc32c_in_gcs_form(storage):
    # RFC 3720's check value for CRC32C ("123456789" -> 0xE3069283), base64 of its big-endian
    # bytes as the GCS object resource writes `crc32c`.
    storage.write_bytes("k", b"123456789")
    assert storage.stat("k").digest == "crc32c:4waSgw=="


def test_the_digest_changes_with_the_content(storage):
    storage.write_bytes("k", b"one")
    first = storage.stat("k").digest
    storage.write_bytes("k", b"two")
    assert storage.stat("k").digest != first


@pytest.mark.parametrize("key", ["../outside", "raw/../../outside", "/etc/passwd"])
def test_a_key_may_not_escape_the_lake_root(storage, key):
    with pytest.raises(ValueError, match="escapes the lake root"):
        storage.read_bytes(key)


def test_a_failed_sink_removes_its_partial_files(storage, tmp_path):
    with pytest.raises(RuntimeError), storage.sink_targets(["z/part.parquet"]) as (target,):
        Path(target).write_bytes(b"partial")
        raise RuntimeError("crash mid-write")
    assert not (tmp_path / "z" / "part.parquet").exists()


def test_parquet_and_csv_scan_from_keys(storage):
    with storage.sink_targets(["p/one.parquet"]) as (target,):
        pl.DataFrame({"a": [1, 2]}).write_parquet(target)
    storage.write_bytes("c/one.csv", b"a\n3\n")
    assert storage.scan_parquet(["p/one.parquet"]).collect()["a"].to_list() == [1, 2]
    assert storage.scan_csv("c/one.csv").collect()["a"].to_list() == [3]


def test_open_storage_refuses_a_missing_directory_with_what_to_do(tmp_path):
    with pytest.raises(ConfigError) as caught:
        open_storage(str(tmp_path / "nope"))
    assert caught.value.reason == "lake_missing"
    assert str(tmp_path / "nope") in caught.value.message
    assert "BATON_LAKE" in caught.value.message


@pytest.mark.parametrize("uri", ["s3://bucket/x", "file:///tmp/x"])
def test_open_storage_refuses_other_schemes(uri):
    with pytest.raises(ConfigError, match="only directories and gs:// URIs"):
        open_storage(uri)


def test_a_gs_uri_without_a_bucket_is_a_config_error():
    with pytest.raises(ConfigError, match="names no bucket"):
        open_storage("gs://")
