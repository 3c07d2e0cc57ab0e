"""Manifests and attempt records: round trip, digests, and clear errors for corrupt commits."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from baton import typed_record
from baton.errors import DataError, ExitCode
from baton.manifest import (
    AttemptRecord,
    FileEntry,
    InputRef,
    Manifest,
    digest,
    digest_problems,
    read_attempt,
    read_manifest,
    schema_fingerprint,
    verify_files,
)
from baton.storage import LocalStorage

WRITTEN = Path(__file__).parent / "pydantic_written"
"""Manifests and attempt records written by the pydantic models (main at 79d21f5) before these
dataclasses replaced them: real ones from a one-day run and edge cases (escapes, non-UTC
offsets, microseconds, floats pydantic-core formats its own way, nested extras)."""
KEY = "raw/flights/dt=2013-01-02/_manifest.json"
DATA = "raw/flights/dt=2013-01-02/part-r1-0000.parquet"


def _manifest(**changes: object) -> Manifest:
    fields: dict[str, object] = {
        "dataset": "flights",
        "step": "extract",
        "partition": date(2013, 1, 2),
        "files": (FileEntry(key=DATA, rows=10, bytes=4),),
        "rows_in": 11,
        "rows_out": 10,
        "rows_quarantined": 1,
        "quarantine_reasons": {"unparsable:dep_delay": 1},
        "schema": {"year": "Int32"},
        "schema_fingerprint": schema_fingerprint({"year": "Int32"}),
        "inputs": (InputRef(key="landing/flights/2013-01-02.csv", digest="sha256:ab"),),
        "code_version": "0.1.0",
        "execution_id": "exec-1",
        "run_id": "r1",
        "started_at": datetime(2024, 1, 1, tzinfo=UTC),
        "finished_at": datetime(2024, 1, 1, 0, 0, 1, tzinfo=UTC),
        "duration_s": 1.0,
    }
    return Manifest(**{**fields, **changes})  # type: ignore[arg-type]


@pytest.fixture
def storage(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path)


def test_a_manifest_round_trips_through_storage_with_its_digest(storage):
    manifest = _manifest()
    storage.write_bytes(KEY, manifest.to_bytes())
    found, found_digest = read_manifest(storage, KEY)
    assert found == manifest
    assert found_digest == digest(manifest.to_bytes())
    assert found.schema == {"year": "Int32"}


def test_the_schema_field_is_written_under_its_own_name(storage):
    assert b'"schema": {' in _manifest().to_bytes()


def test_no_manifest_means_nothing_committed(storage):
    assert read_manifest(storage, KEY) is None


@pytest.mark.parametrize(
    "corrupt",
    [b"", b'{"dataset": "flights", "st', b"[]", b'{"dataset": "flights"}'],
    ids=["empty", "truncated", "not-an-object", "fields-missing"],
)
def test_a_corrupt_manifest_is_a_data_error_naming_it_and_the_remedy(storage, corrupt):
    storage.write_bytes(KEY, corrupt)
    with pytest.raises(DataError) as caught:
        read_manifest(storage, KEY)
    assert caught.value.reason == "manifest_corrupt"
    assert caught.value.exit_code == ExitCode.DATA
    assert storage.uri(KEY) in caught.value.message
    assert "--force" in caught.value.message


def test_a_truncated_copy_of_a_real_manifest_is_corrupt(storage):
    data = _manifest().to_bytes()
    storage.write_bytes(KEY, data[: len(data) // 2])
    with pytest.raises(DataError, match="is corrupt"):
        read_manifest(storage, KEY)


def test_verify_files_accepts_files_of_the_recorded_size(storage):
    storage.write_bytes(DATA, b"1234")
    verify_files(storage, _manifest(), KEY)


def test_a_manifest_naming_a_missing_file_is_a_data_error_naming_both(storage):
    with pytest.raises(DataError) as caught:
        verify_files(storage, _manifest(), KEY)
    assert caught.value.reason == "manifest_missing_file"
    assert storage.uri(DATA) in caught.value.message
    assert "is missing" in caught.value.message
    assert "rerun the extract step for 2013-01-02 with --force" in caught.value.message


def test_a_file_of_the_wrong_size_is_a_data_error(storage):
    storage.write_bytes(DATA, b"12")
    with pytest.raises(DataError, match="has 2 bytes, not 4"):
        verify_files(storage, _manifest(), KEY)


def test_schema_fingerprint_depends_on_names_types_and_order():
    a = schema_fingerprint({"a": "Int32", "b": "String"})
    assert a == schema_fingerprint({"a": "Int32", "b": "String"})
    assert a != schema_fingerprint({"b": "String", "a": "Int32"})
    assert a != schema_fingerprint({"a": "Int64", "b": "String"})
    assert len(a) == 16


def test_attempt_records_round_trip_and_unreadable_ones_are_ignored(storage):
    record = AttemptRecord(
        dataset="flights",
        step="validate",
        partition=date(2013, 1, 2),
        outcome="failed",
        exit_code=4,
        reason="tolerance_exceeded",
        message="too many bad rows",
        execution_id="exec-1",
        run_id="r1",
        task_execution="local",
        task_index=0,
        task_attempt=0,
        finished_at=datetime(2024, 1, 1, tzinfo=UTC),
    )
    storage.write_bytes("a/_attempt.json", record.to_bytes())
    assert read_attempt(storage, "a/_attempt.json") == record
    storage.write_bytes("b/_attempt.json", b"{")
    assert read_attempt(storage, "b/_attempt.json") is None
    assert read_attempt(storage, "c/_attempt.json") is None


@pytest.mark.parametrize("name", sorted(p.name for p in WRITTEN.glob("*_manifest.json")))
def test_a_manifest_pydantic_wrote_parses_and_is_rewritten_byte_for_byte(storage, name):
    data = (WRITTEN / name).read_bytes()
    manifest, found_digest = read_manifest_bytes(storage, data)
    assert manifest.to_bytes() == data
    assert digest(manifest.to_bytes()) == found_digest  # downstream digests stay stable


@pytest.mark.parametrize("name", sorted(p.name for p in WRITTEN.glob("*_attempt.json")))
def test_an_attempt_record_pydantic_wrote_parses_and_is_rewritten_byte_for_byte(storage, name):
    data = (WRITTEN / name).read_bytes()
    storage.write_bytes("a/_attempt.json", data)
    record = read_attempt(storage, "a/_attempt.json")
    assert record is not None
    assert record.to_bytes() == data


def read_manifest_bytes(storage: LocalStorage, data: bytes) -> tuple[Manifest, str]:
    storage.write_bytes(KEY, data)
    found = read_manifest(storage, KEY)
    assert found is not None
    return found


def test_a_parsed_manifest_has_typed_fields():
    manifest = Manifest.from_bytes((WRITTEN / "edge_manifest.json").read_bytes())
    assert manifest.partition == date(2013, 1, 2)
    assert manifest.started_at == datetime(2024, 1, 1, tzinfo=UTC)
    assert isinstance(manifest.files, tuple) and isinstance(manifest.files[0], FileEntry)
    assert manifest.quarantine_reasons == {"unparsable:dep_delay": 2, "not_null:carrier": 1}


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda m: m["files"][0].update(rows=-1), "files.0.rows: Input should be greater"),
        (lambda m: m["files"][0].update(bytes="many"), "files.0.bytes: Input should be a valid"),
        (lambda m: m["inputs"][0].pop("digest"), "inputs.0.digest: Field required"),
        (lambda m: m.update(partition="2013-02-30"), "partition: Input should be a valid date"),
        (lambda m: m.update(finished_at=None), "finished_at: Input should be a valid datetime"),
        (lambda m: m.update(quarantine_reasons={"x": "1.5"}), "quarantine_reasons.x:"),
        (lambda m: m.update(files={}), "files: Input should be a valid tuple"),
    ],
    ids=["negative", "wrong-type", "missing-nested", "bad-date", "null", "fraction", "not-a-list"],
)
def test_a_manifest_with_a_bad_field_is_corrupt_naming_the_field_path(storage, change, where):
    fields = json.loads((WRITTEN / "validated_manifest.json").read_bytes())
    change(fields)
    storage.write_bytes(KEY, json.dumps(fields).encode())
    with pytest.raises(DataError, match="is corrupt") as caught:
        read_manifest(storage, KEY)
    assert where in caught.value.message
    assert caught.value.reason == "manifest_corrupt"


def test_a_manifest_is_checked_where_it_is_built_too():
    with pytest.raises(typed_record.RecordError, match="rows: Input should be greater"):
        FileEntry(key=DATA, rows=-1, bytes=4)
    with pytest.raises(typed_record.RecordError, match="partition: Input should be a valid date"):
        _manifest(partition="yesterday")


def test_a_manifest_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        _manifest().rows_out = 3  # type: ignore[misc]


def test_fields_a_newer_writer_added_are_ignored_by_an_older_reader(storage):
    fields = json.loads(_manifest().to_bytes()) | {"added_later": [1, 2]}
    assert Manifest.from_bytes(json.dumps(fields)) == _manifest()


@pytest.mark.parametrize(
    ("recorded", "now", "judged"),
    [
        ("crc32c:4waSgw==", "crc32c:4waSgw==", False),
        ("crc32c:4waSgw==", "crc32c:AAAAAA==", True),
        # Written by a local lake before baton took CRC32C, or by GCS as md5: not comparable.
        ("sha256:" + "ab" * 32, "crc32c:4waSgw==", False),
        ("md5:XUFAKrxLKna5cZ2REBfFkg==", "crc32c:4waSgw==", False),
        ("", "crc32c:4waSgw==", False),  # written before digests were recorded
    ],
)
def test_a_digest_is_judged_only_against_one_of_its_own_scheme(recorded, now, judged):
    manifest = _manifest(files=(FileEntry(key=DATA, rows=10, bytes=4, digest=recorded),))
    assert bool(digest_problems(manifest, {DATA: now})) is judged
