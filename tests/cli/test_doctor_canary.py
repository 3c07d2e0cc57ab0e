"""`baton doctor --canary` for real: one execution of the pipeline on the reserved canary dataset
through the four real step processes, its rows and table checked, and everything it made removed
(also when it fails), leaving the user's data as it was. `--target local` runs the local engine
on a directory lake and DuckDB; `--target gcp` drives `baton serve` through the official clients
on a gs:// lake (gcp-storage-emulator) with BigQuery as the warehouse (a small stand-in speaking
the REST calls load and the canary make: it proves what baton sends, not what BigQuery does)."""

from __future__ import annotations

import io
import json
import os
import re
import time
from collections.abc import Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from lakes import Lake, committed_snapshot
from loopback import LoopbackServer
from typer.testing import CliRunner

from baton.config import load_settings
from baton.datasets import canary
from baton.storage import LocalStorage
from baton.warehouse import TableSpec
from baton.warehouse.duckdb_warehouse import DuckDBWarehouse
from baton_cli.app import app
from baton_twin.server import ServeOptions, Server, build_server

PROJECT, REGION = "baton-local", "local"


def _environ(home: Path) -> dict[str, str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("BATON_", "GOOGLE_"))}
    environ["BATON_HOME"] = str(home)
    return environ


def line(output: str, name: str) -> str:
    (found,) = [row for row in output.splitlines() if row[6:].startswith(name + " ")]
    return found


def canary_leftovers(home: Path) -> list[str]:
    lake = home / "lake"
    return sorted(str(p.relative_to(lake)) for p in lake.rglob("*") if canary.NAME in p.parts)


def landing(home: Path) -> dict[str, bytes]:
    root = home / "lake" / "landing"
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


# -- the warehouse parts the canary needs (real DuckDB)


def test_duckdb_counts_a_partition_and_drops_a_table(tmp_path):
    import duckdb

    path = tmp_path / "warehouse.duckdb"
    spec = TableSpec.of_dataset(canary.DATASET)
    warehouse = DuckDBWarehouse(path, LocalStorage(tmp_path))
    assert warehouse.partition_rows(spec, canary.DAY) is None  # no file yet
    with duckdb.connect(str(path)) as con:
        con.execute(f'CREATE TABLE "{spec.name}" (flight_date DATE)')
        con.execute(
            f"INSERT INTO \"{spec.name}\" VALUES ('2013-01-01'), ('2013-01-01'), ('2013-01-02')"
        )
    assert warehouse.partition_rows(spec, date(2013, 1, 1)) == 2
    assert warehouse.drop_table(spec.name) is True
    assert warehouse.partition_rows(spec, canary.DAY) is None
    assert warehouse.drop_table(spec.name) is False


def test_the_canary_resolves_by_name_but_is_never_registered_so_nothing_watches_or_lists_it():
    from baton import datasets

    assert datasets.get(canary.NAME) is canary.DATASET
    assert canary.NAME not in datasets.registry()


def test_the_canary_dataset_is_reserved_apart_from_every_user_table():
    from baton import datasets

    others = [d for name, d in datasets.builtin().items() if name != canary.NAME]
    tables = {d.destination.table for d in others} | {
        m.destination.table for d in others for m in d.marts
    }
    canary_tables = {
        canary.DATASET.destination.table,
        *(m.destination.table for m in canary.DATASET.marts),
    }
    assert all(t.endswith(canary.TABLE_SUFFIX) for t in canary_tables)
    assert not canary_tables & tables
    assert all(canary.NAME in key.split("/") for key in canary.FILES)


# -- a gs:// lake (gcp-storage-emulator on loopback, the real google-cloud-storage client)


def test_on_a_gcs_lake_the_canary_lands_its_files_and_its_cleanup_removes_every_object(
    gcs, tmp_path
):
    import uuid

    from lakes import BUCKET

    from baton.storage import open_storage
    from baton_cli.doctor_canary import Canary, cleanup, land

    storage = open_storage(f"gs://{BUCKET}/canary-{uuid.uuid4().hex[:8]}")
    warehouse = DuckDBWarehouse(tmp_path / "warehouse.duckdb", LocalStorage(tmp_path))
    parts = Canary(storage, None, warehouse)  # type: ignore[arg-type]  # no execution here
    assert land(parts).ok
    storage.write_bytes(
        f"raw/{canary.NAME}/dt=2013-01-01/_manifest.json", b"{}"
    )  # as extract would
    storage.write_bytes("landing/flights/2013-01-01.csv", b"user data")
    assert len(storage.list(f"landing/{canary.NAME}/")) == 1
    done = cleanup(parts)
    assert done.ok and "removed 4 objects" in done.detail, done.detail
    assert storage.list("") == ["landing/flights/2013-01-01.csv"]


# -- end to end


@pytest.mark.slow
def test_doctor_local_canary_runs_all_four_jobs_checks_rows_and_removes_what_it_made(lake: Lake):
    before, landed = committed_snapshot(lake), landing(lake.home)
    result = CliRunner().invoke(
        app, ["doctor", "--target", "local", "--canary"], env=_environ(lake.home)
    )
    assert result.exit_code == 0, result.output
    for stage in (
        "canary landing",
        "canary execution",
        "canary rows",
        "canary table flights__canary",
        "canary cleanup",
    ):
        assert line(result.output, stage).startswith("ok"), stage
    assert "landed 6 = loaded 6 + quarantined 0" in result.output
    assert canary_leftovers(lake.home) == []
    assert committed_snapshot(lake) == before and landing(lake.home) == landed
    settings = load_settings(environ=_environ(lake.home))
    warehouse = DuckDBWarehouse(settings.duckdb_file, lake.storage)
    assert warehouse.partition_rows(TableSpec.of_dataset(canary.DATASET), canary.DAY) is None


def test_a_deployment_failing_a_check_gets_no_canary_run_and_says_why(tmp_path):
    env = {"BATON_HOME": str(tmp_path / "home")}  # no lake, no warehouse folder: two checks fail
    result = CliRunner().invoke(app, ["doctor", "--target", "local", "--canary"], env=env)
    assert result.exit_code == 1
    assert "not run: 2 check(s) above failed" in line(result.output, "canary")
    assert not (tmp_path / "home").exists()


class DeployedReads:
    """What the GCP reader returns for a deployed stack (GCP cannot be reached from here)."""

    loopback = False

    def workflow(self, name: str) -> dict[str, object]:
        return {"userEnvVars": {"BATON_LAKE_BUCKET": "acme-lake", "BATON_LAKE_PREFIX": "team-a"}}

    def dataset(self, project: str, dataset: str) -> dict[str, object]:
        return {"location": "europe-west1"}


def test_on_gcp_the_canary_acts_on_the_deployed_lake_and_bigquery_dataset(tmp_path):
    from baton.jobs import load_jobs
    from baton_cli.doctor import Expected
    from baton_cli.doctor_gcp import deployed_settings

    expected = Expected("acme-data", "europe-west1", "baton", "baton-pipeline", "", load_jobs())
    settings = load_settings(environ={"BATON_HOME": str(tmp_path)})
    found = deployed_settings(DeployedReads(), expected, settings, "baton")  # type: ignore[arg-type]
    assert found.lake_root == "gs://acme-lake/team-a"
    assert (found.warehouse, found.bq_project, found.bq_dataset, found.bq_location) == (
        "bigquery",
        "acme-data",
        "baton",
        "europe-west1",
    )


# -- --target gcp on a gs:// lake: baton serve + the GCS emulator + a BigQuery stand-in


class _BigQuery(BaseHTTPRequestHandler):
    """Just enough of the BigQuery REST API for load and the canary, through the real
    google-cloud-bigquery client: load jobs (rows counted from the Parquet objects they name, in
    the GCS emulator), a `SELECT COUNT(*) ... WHERE <column> = @day` query job and its results,
    tables.get and tables.delete. It encodes our reading of the API, not BigQuery's behaviour."""

    tables: dict[str, dict[str, int]]
    jobs: dict[str, dict[str, Any]]
    storage: Any

    def log_message(self, *args: object) -> None:
        pass

    def _reply(self, status: int, body: dict[str, Any] | None) -> None:
        data = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _missing(self) -> None:
        self._reply(
            404,
            {"error": {"code": 404, "message": f"Not found: {self.path}", "status": "NOT_FOUND"}},
        )

    def _load(self, load: dict[str, Any]) -> dict[str, Any]:
        table, _, day = load["destinationTable"]["tableId"].partition("$")
        keys = [u.split("/", 3)[3] for u in load["sourceUris"]]
        rows = sum(pl.read_parquet(io.BytesIO(self.storage.read_bytes(k))).height for k in keys)
        self.tables.setdefault(table, {})[day] = rows
        return {"load": {"outputRows": str(rows)}}

    def do_POST(self) -> None:
        path = self.path.split("?")[0]
        if not re.fullmatch(r"/bigquery/v2/projects/[^/]+/jobs", path):
            return self._missing()
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        config = request["configuration"]
        if "load" in config:
            statistics = self._load(config["load"])
        else:
            (table,) = re.findall(r"`[^`.]+\.[^`.]+\.([^`]+)`", config["query"]["query"])
            if table not in self.tables:
                return self._missing()
            day = config["query"]["queryParameters"][0]["parameterValue"]["value"]
            statistics = {"query": {"rows": self.tables[table].get(day.replace("-", ""), 0)}}
        job = {**request, "status": {"state": "DONE"}, "statistics": statistics}
        self.jobs[request["jobReference"]["jobId"]] = job
        self._reply(200, job)

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        if m := re.fullmatch(r"/bigquery/v2/projects/[^/]+/jobs/([^/]+)", path):
            return self._reply(200, self.jobs[m[1]]) if m[1] in self.jobs else self._missing()
        if m := re.fullmatch(r"/bigquery/v2/projects/[^/]+/queries/([^/]+)", path):
            job = self.jobs[m[1]]
            return self._reply(
                200,
                {
                    "jobReference": job["jobReference"],
                    "jobComplete": True,
                    "schema": {"fields": [{"name": "n", "type": "INTEGER", "mode": "NULLABLE"}]},
                    "rows": [{"f": [{"v": str(job["statistics"]["query"]["rows"])}]}],
                    "totalRows": "1",
                },
            )
        if m := re.fullmatch(
            r"/bigquery/v2/projects/([^/]+)/datasets/([^/]+)/tables/([^/]+)", path
        ):
            if m[3] not in self.tables:
                return self._missing()
            ref = {"projectId": m[1], "datasetId": m[2], "tableId": m[3]}
            return self._reply(200, {"kind": "bigquery#table", "tableReference": ref})
        return self._missing()

    def do_DELETE(self) -> None:
        m = re.fullmatch(
            r"/bigquery/v2/projects/[^/]+/datasets/[^/]+/tables/([^/]+)", self.path.split("?")[0]
        )
        if not m or m[1] not in self.tables:
            return self._missing()
        del self.tables[m[1]]
        self._reply(204, None)


@pytest.fixture(scope="module")
def served_on_gcs(
    gcs: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Server, dict[str, str], dict[str, dict[str, int]]]]:
    from lakes import BUCKET

    from baton.storage import GcsStorage

    root = f"gs://{BUCKET}/canary-{os.getpid()}-{int(time.time() * 1000)}"
    tables: dict[str, dict[str, int]] = {}
    handler = type(
        "BigQuery",
        (_BigQuery,),
        {"tables": tables, "jobs": {}, "storage": GcsStorage(f"gs://{BUCKET}")},
    )
    home = tmp_path_factory.mktemp("canary-gcs") / "home"
    options = ServeOptions(PROJECT, REGION, "baton-pipeline", "127.0.0.1", 0, 0, fast_retries=True)
    with LoopbackServer(handler) as bigquery:
        environ = {
            **_environ(home),
            "BATON_LAKE": root,
            "BATON_WAREHOUSE": "bigquery",
            "BATON_BQ_PROJECT": PROJECT,
            "BATON_BQ_DATASET": "baton",
            "BATON_BQ_API_ENDPOINT": bigquery.base_url,
        }
        with build_server(load_settings(environ=environ), environ, options) as server:
            yield server, environ, tables


def doctor_gcp(served: tuple[Server, dict[str, str], Any]) -> tuple[int, str]:
    server, environ, _ = served
    env = {
        **environ,
        "BATON_GCP_PROJECT": PROJECT,
        "BATON_GCP_REGION": REGION,
        "BATON_WORKFLOWS_ENDPOINT": server.grpc_endpoint,
        "BATON_RUN_ENDPOINT": server.rest_endpoint,
    }
    result = CliRunner().invoke(app, ["doctor", "--target", "gcp", "--canary"], env=env)
    return result.exit_code, result.output


@pytest.mark.slow
def test_doctor_gcp_canary_on_a_gcs_lake_loads_bigquery_and_leaves_nothing(served_on_gcs):
    from baton.storage import open_storage

    _, environ, tables = served_on_gcs
    code, output = doctor_gcp(served_on_gcs)
    assert code == 0, output
    assert line(output, "iam baton-extract storage").startswith("ok")  # prefixed lake grants
    assert "landed 6 = loaded 6 + quarantined 0" in line(output, "canary rows")
    assert "6 rows in bigquery:" in line(output, "canary table flights__canary")
    assert line(output, "canary cleanup").startswith("ok")
    assert tables == {}  # both canary tables dropped
    assert open_storage(environ["BATON_LAKE"]).list("") == []


def test_a_canary_whose_execution_cannot_start_still_removes_its_landing_files(served_on_gcs):
    # The stages themselves, on the served target with a workflow that does not exist (doctor's
    # own checks would stop before the canary): the start fails, cleanup still runs.
    from baton.config import load_settings as settings_of
    from baton.storage import open_storage
    from baton.warehouse import open_warehouse
    from baton_cli.doctor_canary import Canary, run_canary
    from baton_cli.targets import open_target
    from baton_cli.targets.config import load_ops_config

    server, environ, _ = served_on_gcs
    env = {**environ, "BATON_WORKFLOWS_ENDPOINT": server.grpc_endpoint}
    config = load_ops_config(
        {"target": "gcp", "gcp_project": PROJECT, "gcp_region": REGION, "workflow": "missing"}, env
    )
    settings = settings_of(environ=env)
    storage = open_storage(settings.lake_root)
    with open_target(config, settings, env) as target:
        checks = run_canary(Canary(storage, target, open_warehouse(settings, storage, "t")))
    assert [(c.name, c.ok) for c in checks] == [
        ("canary landing", True),
        ("canary execution", False),
        ("canary cleanup", True),
    ]
    assert "removed 3 objects" in checks[-1].detail
    assert storage.list("") == []


class StuckTarget:
    """A target whose execution never finishes (a hung job on GCP cannot be made here)."""

    kind = "gcp"

    def __init__(self) -> None:
        self.cancelled: list[str] = []

    def start(self, argument: dict[str, Any]) -> Any:
        from baton_cli.targets.protocol import ExecutionInfo

        self.argument = argument
        return ExecutionInfo(
            "e1", "projects/p/locations/l/workflows/w/executions/e1", "w", "ACTIVE"
        )

    def get(self, execution_id: str) -> Any:
        return self.start(self.argument)

    def cancel(self, execution_id: str) -> Any:
        self.cancelled.append(execution_id)


def test_a_canary_execution_past_its_timeout_is_cancelled_and_cleaned_up(tmp_path):
    from baton_cli.doctor_canary import Canary, run_canary

    (tmp_path / "lake").mkdir()
    storage = LocalStorage(tmp_path / "lake")
    target, now = StuckTarget(), [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    parts = Canary(
        storage,
        target,  # type: ignore[arg-type]
        DuckDBWarehouse(tmp_path / "w.duckdb", storage),
        timeout_s=10,
        sleep=sleep,
        clock=lambda: now[0],
    )
    checks = {c.name: c for c in run_canary(parts)}
    assert target.cancelled == ["e1"]
    assert target.argument == {
        "date": "2013-01-01",
        "force": True,
        "mode": "per_partition",
        "concurrency": 1,
        "dataset": "baton_canary",
    }
    assert "still ACTIVE after 10 s; cancelled" in checks["canary execution"].detail
    assert checks["canary cleanup"].ok and storage.list("") == []
