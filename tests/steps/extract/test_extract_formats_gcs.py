"""Decoded landing formats on a `gs://` lake (gcp-storage-emulator on loopback, the real
google-cloud-storage client): the gzip stream is read through the client's BlobReader, the
decoded batches are spooled to the bucket and deleted after the commit, and nothing touches
local disk. The emulator proves the calls, not GCS's performance."""

from __future__ import annotations

import contextlib
import gzip
import io
import time

import polars as pl
import pytest
from lakes import BUCKET, JAN_2, STEP_OBJECTS

from baton.errors import ExitCode
from baton.manifest import read_manifest
from baton.stepcli import execute
from baton.storage import GcsStorage
from baton_cli.demo import seed

pytestmark = pytest.mark.slow


def _ndjson_gz(storage: GcsStorage) -> bytes:
    text = pl.read_csv(
        io.BytesIO(storage.read_bytes(f"landing/flights/{JAN_2}.csv")),
        infer_schema=False,
        null_values=["NA"],
    )
    buffer = io.BytesIO()
    text.write_ndjson(buffer)
    return gzip.compress(buffer.getvalue())


@pytest.mark.parametrize(
    ("dataset", "key"),
    [
        ("flights_ndjson_gz", f"landing/flights_ndjson_gz/{JAN_2}.ndjson.gz"),
        ("flights_glob", f"landing/flights_glob/{JAN_2}/only.csv"),
    ],
)
def test_a_decoded_or_globbed_landing_file_commits_on_a_gs_lake(
    gcs, format_datasets, tmp_path, dataset, key
):
    root = f"gs://{BUCKET}/formats-{time.time_ns()}"
    storage = GcsStorage(root)
    seed(storage, JAN_2, JAN_2)
    data = (
        _ndjson_gz(storage)
        if key.endswith(".gz")
        else storage.read_bytes(f"landing/flights/{JAN_2}.csv")
    )
    storage.write_bytes(key, data)
    env = {"BATON_HOME": str(tmp_path / "home"), "BATON_LAKE": root}

    with contextlib.redirect_stdout(io.StringIO()):
        code = execute(
            STEP_OBJECTS["extract"],
            JAN_2,
            dataset,
            force=False,
            dry_run=False,
            verbose=False,
            environ=env,
        )

    assert code == ExitCode.OK
    manifest, _ = read_manifest(storage, f"raw/{dataset}/dt={JAN_2}/_manifest.json")
    assert (manifest.rows_in, manifest.rows_out) == (943, 943)
    assert manifest.inputs[0].key == key
    written = set(storage.list(f"raw/{dataset}/dt={JAN_2}"))
    prefix = f"raw/{dataset}/dt={JAN_2}"
    assert written == {
        f"{prefix}/_manifest.json",
        f"{prefix}/_attempt.json",
        *(f.key for f in manifest.files),
    }
    assert not (tmp_path / "home" / "lake").exists()
