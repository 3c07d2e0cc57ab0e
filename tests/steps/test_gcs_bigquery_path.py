"""The `gs://` lake and the BigQuery warehouse, through the real clients on loopback.

GCS: `gcp-storage-emulator` serves the JSON API on 127.0.0.1; the real GcsStorage
(google-cloud-storage, honouring STORAGE_EMULATOR_HOST) reads and writes through it, no mocks.
What the emulator does not do, so these tests cannot prove: generation preconditions
(`if_generation_match`), IAM (403s), object metadata such as `md5Hash` on every response
(GcsStorage falls back to crc32c), and the headers polars' own `gs://` reader wants (baton
streams through the client's BlobReader/BlobWriter instead, which the emulator serves).

BigQuery: no emulator on PyPI runs here and keeps partition semantics (bqemulator ignores the
`$YYYYMMDD` decorator and would truncate the whole table), so a small RECORDING server speaks
just enough of the REST API (jobs.insert, jobs.get) for the real google-cloud-bigquery client:
it records the load job baton sends and answers DONE with `statistics.load.outputRows` counted
from the Parquet objects the job names (read back from the GCS emulator). It proves the exact
job configuration and URIs, not that BigQuery would accept them.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import polars as pl
import pytest
from lakes import BUCKET, JAN_2, STEP_OBJECTS
from loopback import LoopbackServer

from baton.config import load_settings
from baton.contract import bigquery_fields
from baton.datasets import flights
from baton.errors import ConfigError, ExitCode
from baton.manifest import read_manifest
from baton.stepcli import execute
from baton.storage import GcsStorage, LocalStorage
from baton.warehouse import open_warehouse
from baton_cli.accounting import ledger
from baton_cli.demo import seed

pytestmark = pytest.mark.slow

PROJECT, BQ_DATASET = "test-project", "baton"


class _Recorder(BaseHTTPRequestHandler):
    jobs: dict[str, dict]
    count_rows: object

    def log_message(self, *args: object) -> None:  # keep test output quiet
        pass

    def _reply(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        match = re.fullmatch(r"/bigquery/v2/projects/([^/]+)/jobs", self.path.split("?")[0])
        if not match:
            self._reply(404, {"error": {"code": 404, "message": f"not recorded: {self.path}"}})
            return
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        ref = request["jobReference"]
        rows = self.count_rows(request["configuration"]["load"]["sourceUris"])
        job = {
            **request,
            "id": f"{ref['projectId']}:{ref.get('location', 'US')}.{ref['jobId']}",
            "status": {"state": "DONE"},
            "statistics": {"load": {"outputRows": str(rows)}},
        }
        self.jobs[ref["jobId"]] = {"request": request, "response": job}
        self._reply(200, job)

    def do_GET(self) -> None:
        match = re.fullmatch(r"/bigquery/v2/projects/([^/]+)/jobs/([^/]+)", self.path.split("?")[0])
        if not match or match[2] not in self.jobs:
            self._reply(404, {"error": {"code": 404, "message": f"not found: {self.path}"}})
            return
        self._reply(200, self.jobs[match[2]]["response"])


@pytest.fixture(scope="module")
def bigquery(gcs: str) -> Iterator[tuple[str, dict[str, dict]]]:
    """The recording BigQuery server: its endpoint and the jobs it received, by job id."""
    jobs: dict[str, dict] = {}
    storage = GcsStorage(f"gs://{BUCKET}")

    def count_rows(uris: list[str]) -> int:
        keys = [u.removeprefix(f"gs://{BUCKET}/") for u in uris]
        return sum(pl.read_parquet(io.BytesIO(storage.read_bytes(k))).height for k in keys)

    handler = type("Recorder", (_Recorder,), {"jobs": jobs, "count_rows": staticmethod(count_rows)})
    with LoopbackServer(handler) as server:
        yield server.base_url, jobs


@pytest.fixture(scope="module")
def gs_lake(gcs: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, str]]:
    """A gs:// lake seeded with one real day; the environment a step would get for it."""
    root = f"gs://{BUCKET}/lake-{int(time.time() * 1000)}"
    seed(GcsStorage(root), JAN_2, JAN_2)
    home = tmp_path_factory.mktemp("gs-home")
    return root, {"BATON_HOME": str(home), "BATON_LAKE": root}


def _run(step: str, env: dict[str, str], **kwargs: object) -> ExitCode:
    with contextlib.redirect_stdout(io.StringIO()):
        return execute(
            STEP_OBJECTS[step],
            JAN_2,
            "flights",
            force=False,
            dry_run=False,
            verbose=False,
            environ=env,
            **kwargs,
        )


def test_extract_transform_validate_commit_to_a_gs_lake(gs_lake):
    root, env = gs_lake
    for step in ("extract", "transform", "validate"):
        assert _run(step, env) == ExitCode.OK
    storage = GcsStorage(root)
    validated, _ = read_manifest(storage, "validated/flights/dt=2013-01-02/_manifest.json")
    assert (validated.rows_in, validated.rows_out) == (943, 943)
    names = storage.list("validated/flights/dt=2013-01-02")
    assert set(names) >= {
        "validated/flights/dt=2013-01-02/_manifest.json",
        *(f.key for f in validated.files),
    }
    for entry in validated.files:
        assert storage.stat(entry.key).size == entry.bytes
    frame = storage.scan_parquet([f.key for f in validated.files]).collect()
    assert frame.height == 943
    assert not Path(env["BATON_HOME"], "lake").exists()  # nothing went to local disk


def test_a_rerun_on_gs_skips_and_a_forced_one_replaces_the_files(gs_lake):
    root, env = gs_lake
    storage = GcsStorage(root)
    assert _run("extract", env) == ExitCode.OK
    old, _ = read_manifest(storage, "raw/flights/dt=2013-01-02/_manifest.json")
    assert _run("extract", env) == ExitCode.OK
    assert read_manifest(storage, "raw/flights/dt=2013-01-02/_manifest.json")[0] == old
    with contextlib.redirect_stdout(io.StringIO()):
        assert (
            execute(
                STEP_OBJECTS["extract"],
                JAN_2,
                "flights",
                force=True,
                dry_run=False,
                verbose=False,
                environ=env,
            )
            == ExitCode.OK
        )
    new, _ = read_manifest(storage, "raw/flights/dt=2013-01-02/_manifest.json")
    assert new.run_id != old.run_id
    assert [storage.stat(f.key) for f in old.files] == [None]


def test_load_sends_bigquery_one_partition_load_job_per_table(gs_lake, bigquery):
    root, env = gs_lake
    endpoint, jobs = bigquery
    for step in ("extract", "transform", "validate"):
        assert _run(step, env) == ExitCode.OK
    bq_env = {
        **env,
        "BATON_WAREHOUSE": "bigquery",
        "BATON_BQ_PROJECT": PROJECT,
        "BATON_BQ_DATASET": BQ_DATASET,
        "BATON_BQ_LOCATION": "EU",
        "BATON_BQ_API_ENDPOINT": endpoint,
    }
    jobs.clear()
    assert _run("load", bq_env) == ExitCode.OK
    storage = GcsStorage(root)
    validated, _ = read_manifest(storage, "validated/flights/dt=2013-01-02/_manifest.json")
    loaded, _ = read_manifest(storage, "loaded/flights/dt=2013-01-02/_manifest.json")
    requests = {
        job["request"]["configuration"]["load"]["destinationTable"]["tableId"]: job["request"]
        for job in jobs.values()
    }
    assert set(requests) == {"flights$20130102", "carrier_daily_performance$20130102"}

    table = requests["flights$20130102"]
    assert table["jobReference"]["projectId"] == PROJECT
    assert table["jobReference"]["location"] == "EU"
    assert table["jobReference"]["jobId"].startswith("baton_flights_20130102_")
    assert table["configuration"]["load"] == {
        "destinationTable": {
            "projectId": PROJECT,
            "datasetId": BQ_DATASET,
            "tableId": "flights$20130102",
        },
        "sourceUris": [f"{root}/{f.key}" for f in validated.files],
        "sourceFormat": "PARQUET",
        "writeDisposition": "WRITE_TRUNCATE",
        "createDisposition": "CREATE_IF_NEEDED",
        "schema": {"fields": bigquery_fields(flights.CONTRACT.warehouse_columns())},
        "timePartitioning": {"type": "DAY", "field": "flight_date"},
        "clustering": {"fields": ["carrier", "origin"]},
        "schemaUpdateOptions": ["ALLOW_FIELD_ADDITION"],
    }

    (mart_file,) = loaded.files
    mart = requests["carrier_daily_performance$20130102"]["configuration"]["load"]
    assert mart["sourceUris"] == [f"{root}/{mart_file.key}"]
    assert mart["writeDisposition"] == "WRITE_TRUNCATE"
    assert mart["timePartitioning"] == {"type": "DAY", "field": "flight_date"}
    assert mart["clustering"] == {"fields": ["carrier"]}
    assert mart["schema"] == {"fields": bigquery_fields(flights.MART_COLUMNS)}

    assert loaded.extra == {
        "warehouse": f"bigquery:{PROJECT}.{BQ_DATASET}",
        "tables": {"flights": 943, "carrier_daily_performance": mart_file.rows},
    }
    (row,) = ledger(storage, "flights", [JAN_2])
    assert (row.landed, row.loaded, row.balanced) == (943, 943, True)


def test_the_bigquery_warehouse_needs_a_gs_lake_and_a_project(gcs, tmp_path):
    env = {"BATON_WAREHOUSE": "bigquery", "BATON_BQ_PROJECT": PROJECT}
    with pytest.raises(ConfigError, match="set BATON_LAKE=gs://bucket/prefix"):
        open_warehouse(load_settings(environ=env), LocalStorage(tmp_path), "r1")
    with pytest.raises(ConfigError, match="BATON_BQ_PROJECT is required"):
        open_warehouse(
            load_settings(environ={"BATON_WAREHOUSE": "bigquery"}),
            GcsStorage(f"gs://{BUCKET}/x"),
            "r1",
        )
