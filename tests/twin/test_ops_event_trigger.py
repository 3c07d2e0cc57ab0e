"""The pipeline started by Eventarc: the CloudEvent about a finalized landing file is the
argument, and the YAML runs the partition that file names; any other object is nothing to do.

Both delivery shapes are covered: a Cloud Storage event (`data.name`) and a Pub/Sub bucket
notification (`data.message.attributes.objectId`, how infra's landing trigger delivers it).
The Cloud Run connector is scripted where only the arguments matter; the last test runs the
real steps.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from lakes import JAN_2, Lake

from baton.config import load_settings
from baton_engine import CallContext, Engine, ExecutionStore, VirtualClock
from baton_twin.connector_names import GET_OBJECT, RUN_JOB
from baton_twin.local_engine import PIPELINE, local_engine


def storage_event(name: str) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "type": "google.cloud.storage.object.v1.finalized",
        "source": "//storage.googleapis.com/projects/_/buckets/lake",
        "id": "1",
        "data": {"bucket": "lake", "name": name, "generation": "1", "size": "100"},
    }


def pubsub_event(name: str) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "type": "google.cloud.pubsub.topic.v1.messagePublished",
        "source": "//pubsub.googleapis.com/projects/p/topics/baton-landing",
        "id": "2",
        "data": {
            "subscription": "projects/p/subscriptions/eventarc-sub",
            "message": {
                "attributes": {
                    "bucketId": "lake",
                    "objectId": name,
                    "eventType": "OBJECT_FINALIZE",
                    "payloadFormat": "JSON_API_V1",
                },
                "data": "eyJuYW1lIjogIi4uLiJ9",
                "messageId": "42",
            },
        },
    }


class Jobs:
    """jobs.run that succeeds at once and remembers each call's date and dataset."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str]] = []

    def __call__(self, args: dict[str, Any], ctx: CallContext) -> dict[str, Any]:
        (container,) = args["body"]["overrides"]["containerOverrides"]
        env = {e["name"]: e["value"] for e in container["env"]}
        job = args["name"].rsplit("/", 1)[1]
        self.calls.append((job, container["args"][2], env["BATON_DATASET"]))
        return {"name": f"{args['name']}/executions/x"}


def execute(tmp_path, argument: dict[str, Any]) -> tuple[Any, Jobs]:
    jobs = Jobs()
    engine = Engine(
        ExecutionStore(tmp_path / "executions"),
        connectors={RUN_JOB: jobs, GET_OBJECT: lambda a, c: None},
        clock=VirtualClock(),
    )
    return engine.run(PIPELINE.read_text(), argument, workflow_id="pipeline"), jobs


@pytest.mark.parametrize("event", [storage_event, pubsub_event])
def test_a_landing_file_event_runs_the_partition_its_name_gives(tmp_path, event):
    record, jobs = execute(tmp_path, event("landing/weather/2013-03-01.csv"))
    assert record.state == "SUCCEEDED", record.error
    assert (record.result["dataset"], list(record.result["partitions"])) == (
        "weather",
        ["2013-03-01"],
    )
    assert jobs.calls == [
        (f"baton-{step}", "2013-03-01", "weather")
        for step in ("extract", "transform", "validate", "load")
    ]


@pytest.mark.parametrize(
    "name",
    [
        "landing/reference/airlines.csv",
        "raw/flights/dt=2013-03-01/_manifest.json",
        "landing/flights/2013-03-01.json",
        "landing/flights/readme.csv",
    ],
)
@pytest.mark.parametrize("event", [storage_event, pubsub_event])
def test_any_other_object_is_nothing_to_do(tmp_path, event, name):
    record, jobs = execute(tmp_path, event(name))
    assert record.state == "SUCCEEDED", record.error
    assert record.result["status"] == "nothing_to_do"
    assert record.result["object"] == name
    assert jobs.calls == []


def test_a_plain_argument_is_not_mistaken_for_an_event(tmp_path):
    record, jobs = execute(tmp_path, {"date": "2013-03-04", "steps": ["load"]})
    assert record.state == "SUCCEEDED", record.error
    assert jobs.calls == [("baton-load", "2013-03-04", "flights")]


@pytest.mark.slow
def test_a_landing_event_loads_the_partition_with_the_real_steps(lake: Lake):
    env = {k: v for k, v in os.environ.items() if not k.startswith("BATON_")}
    env["BATON_HOME"] = str(lake.home)
    engine = local_engine(load_settings(environ=env), env, fast_retries=True)
    record = engine.run(
        PIPELINE.read_text(), storage_event("landing/flights/2013-01-02.csv"), workflow_id="p"
    )
    assert record.state == "SUCCEEDED", record.error
    assert lake.manifest("load", JAN_2).rows_out > 0


def execute_in_prefixed_lake(tmp_path, argument: dict[str, Any]) -> tuple[Any, Jobs]:
    """As deployed with `baton:lakePrefix: team/lake`: infra sets BATON_LAKE_PREFIX and the
    bucket notifications fire for `team/lake/landing/...`."""
    jobs = Jobs()
    engine = Engine(
        ExecutionStore(tmp_path / "executions"),
        connectors={RUN_JOB: jobs, GET_OBJECT: lambda a, c: None},
        clock=VirtualClock(),
        user_env={"BATON_LAKE_PREFIX": "team/lake"},
    )
    return engine.run(PIPELINE.read_text(), argument, workflow_id="pipeline"), jobs


@pytest.mark.parametrize("event", [storage_event, pubsub_event])
def test_in_a_prefixed_lake_a_landing_file_runs_the_partition_its_name_gives(tmp_path, event):
    record, jobs = execute_in_prefixed_lake(
        tmp_path, event("team/lake/landing/weather/2013-03-01.csv")
    )
    assert record.state == "SUCCEEDED", record.error
    assert record.result["dataset"] == "weather"
    assert list(record.result["partitions"]) == ["2013-03-01"]
    assert [job for job, _, _ in jobs.calls] == [
        f"baton-{step}" for step in ("extract", "transform", "validate", "load")
    ]


@pytest.mark.parametrize(
    "name",
    [
        "landing/weather/2013-03-01.csv",
        "team/landing/weather/2013-03-01.csv",
        "team/lakeX/landing/weather/2013-03-01.csv",
        "team/lake",
        "team/lake/",
        "team/lake/landing/reference/airlines.csv",
    ],
)
def test_in_a_prefixed_lake_an_object_outside_its_landing_zone_is_nothing_to_do(tmp_path, name):
    record, jobs = execute_in_prefixed_lake(tmp_path, storage_event(name))
    assert record.state == "SUCCEEDED", record.error
    assert record.result["status"] == "nothing_to_do"
    assert record.result["object"] == name
    assert jobs.calls == []


@pytest.mark.parametrize("data", [None, "a string", ["a", "list"], 42])
def test_an_argument_whose_data_is_not_a_map_is_not_an_event(tmp_path, data):
    record, jobs = execute(tmp_path, {"data": data, "date": "2013-03-04", "steps": ["load"]})
    assert record.state == "SUCCEEDED", record.error
    assert jobs.calls == [("baton-load", "2013-03-04", "flights")]


@pytest.mark.parametrize("name", [None, 42, {"not": "a name"}])
def test_an_event_whose_object_name_is_not_a_string_is_nothing_to_do(tmp_path, name):
    record, jobs = execute(tmp_path, storage_event(name))
    assert record.state == "SUCCEEDED", record.error
    assert record.result["status"] == "nothing_to_do"
    assert jobs.calls == []
