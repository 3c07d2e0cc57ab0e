"""GcsStorage through the real google-cloud-storage client against gcp-storage-emulator on
loopback (see tests/steps/test_gcs_bigquery_path.py for what the emulator does not do)."""

from __future__ import annotations

import uuid

import polars as pl
import pytest
from lakes import BUCKET

from baton.storage import GcsStorage, LocalStorage, open_storage

pytestmark = pytest.mark.slow


@pytest.fixture
def storage(gcs: str) -> GcsStorage:
    opened = open_storage(f"gs://{BUCKET}/t-{uuid.uuid4().hex[:8]}")
    assert isinstance(opened, GcsStorage)
    return opened


def test_write_read_stat_list_delete(storage):
    storage.write_bytes("raw/a/_manifest.json", b"{}")
    storage.write_bytes("raw/b.csv", b"a\n1\n")
    assert storage.read_bytes("raw/a/_manifest.json") == b"{}"
    info = storage.stat("raw/b.csv")
    assert (info.key, info.size) == ("raw/b.csv", 4)
    assert info.digest.split(":")[0] in {"md5", "crc32c"}
    assert storage.list("raw") == ["raw/a/_manifest.json", "raw/b.csv"]
    storage.delete("raw/b.csv")
    storage.delete("raw/b.csv")
    assert storage.stat("raw/b.csv") is None
    with pytest.raises(FileNotFoundError, match=r"gs://baton-test/t-.*/raw/b\.csv"):
        storage.read_bytes("raw/b.csv")


def test_a_local_digest_is_the_crc32c_gcs_reports(storage, tmp_path):
    data = b"flight,carrier\n1545,UA\n" * 1000
    storage.write_bytes("landing/x.csv", data)
    blob = storage.bucket.get_blob(storage._name("landing/x.csv"))
    local = LocalStorage(tmp_path)
    local.write_bytes("landing/x.csv", data)
    assert local.stat("landing/x.csv").digest == f"crc32c:{blob.crc32c}"


def test_uris_carry_the_bucket_and_prefix(storage):
    assert storage.uri("raw/x.parquet") == f"{storage.root}/raw/x.parquet"
    assert storage.local_path("raw/x.parquet") is None


def test_a_key_may_not_escape_the_prefix(storage):
    with pytest.raises(ValueError, match="escapes the lake root"):
        storage.read_bytes("../other/x")


def test_parquet_streams_out_and_back_through_blob_writers_and_readers(storage):
    frame = pl.DataFrame({"a": list(range(1000)), "b": ["x"] * 1000})
    with storage.sink_targets(["p/one.parquet"]) as (target,):
        frame.lazy().sink_parquet(target)
    assert storage.scan_parquet(["p/one.parquet"]).collect().equals(frame)
    storage.write_bytes("c/one.csv", b"a,b\n1,x\n")
    assert storage.scan_csv("c/one.csv").collect().rows() == [(1, "x")]


def test_a_failed_sink_leaves_no_object_behind(storage):
    with pytest.raises(RuntimeError), storage.sink_targets(["p/broken.parquet"]) as (target,):
        target.write(b"PAR1 partial")
        raise RuntimeError("crash mid-write")
    assert storage.stat("p/broken.parquet") is None
