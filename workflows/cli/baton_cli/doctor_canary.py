"""`baton doctor --canary`: one real execution of the deployed workflow through all four jobs on
the reserved canary dataset (baton.datasets.canary: its own landing file, references, lake
partitions and `<table>__canary` tables), its row accounting and warehouse rows checked, then
everything it created removed, even when a stage failed.

Stages, one `Check` each: `canary landing` (write the sample), `canary execution` (start it on
the target and wait), `canary rows` (landed == loaded + quarantined, from the manifests),
`canary table` (the warehouse partition holds the loaded rows), `canary cleanup` (what could not
be removed is named, with the command that removes it).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from baton.datasets import canary
from baton.errors import BatonError, TransientError, UnavailableError
from baton.lake import OUTPUT_ZONE, QUARANTINE
from baton.storage import Storage
from baton.warehouse import TableSpec, Warehouse
from baton_cli.accounting import ledger
from baton_cli.argument import PipelineArgument
from baton_cli.doctor import Check, failed, passed
from baton_cli.targets.protocol import ACTIVE_STATES, ExecutionInfo, Target

DEFAULT_TIMEOUT_S = 1800.0
"""Four job executions with cold starts take minutes on Cloud Run; a stuck one is cancelled."""
ZONES = (*OUTPUT_ZONE.values(), QUARANTINE)
MESSAGE_CHARS = 300


@dataclass
class Canary:
    """What the canary runs against, passed in by the command."""

    storage: Storage
    target: Target
    warehouse: Warehouse
    timeout_s: float = DEFAULT_TIMEOUT_S
    poll_s: float = 2.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic


def _status(err: BaseException) -> str:
    """The Unread-like status of a stage's failure, so doctor's exit code tells them apart."""
    if isinstance(err, UnavailableError):
        return "PERMISSION_DENIED"
    if isinstance(err, TransientError | OSError):
        return "UNAVAILABLE"
    return ""


def _message(err: BaseException) -> str:
    if isinstance(err, BatonError):
        return err.message
    if isinstance(err, LookupError) and err.args:
        return str(err.args[0])
    return f"{type(err).__name__}: {err}"


def land(parts: Canary) -> Check:
    """Write the canary landing file and its reference tables."""
    try:
        for key, text in canary.FILES.items():
            parts.storage.write_bytes(key, text.encode())
    except (BatonError, OSError) as err:
        return failed(
            "canary landing",
            f"cannot write {parts.storage.uri(next(iter(canary.FILES)))}: {_message(err)}",
            "run doctor as an identity that may create objects in the lake (the deployer)",
            _status(err),
        )
    where = parts.storage.uri(next(iter(canary.FILES)))
    return passed("canary landing", f"{canary.LANDING_ROWS} rows at {where} (+ 2 reference tables)")


def _wait(parts: Canary, info: ExecutionInfo) -> ExecutionInfo:
    deadline = parts.clock() + parts.timeout_s
    while info.state in ACTIVE_STATES and parts.clock() < deadline:
        parts.sleep(parts.poll_s)
        info = parts.target.get(info.id)
    return info


def _why(info: ExecutionInfo) -> str:
    error: Any = info.error
    text = error.get("payload") or error.get("message") if isinstance(error, dict) else error
    return str(text or "")[:MESSAGE_CHARS]


def execute(parts: Canary) -> tuple[Check, ExecutionInfo | None]:
    """One execution of the deployed workflow on the canary partition, waited for."""
    argument = PipelineArgument(
        (canary.DAY,), force=True, mode="per_partition", concurrency=1, dataset=canary.NAME
    ).to_json()
    try:
        info = _wait(parts, parts.target.start(argument))
    except (BatonError, OSError, LookupError) as err:  # LookupError: no such workflow
        return (
            failed(
                "canary execution",
                f"cannot start or follow the canary execution: {_message(err)}",
                "baton doctor (without --canary) says which part of the deployment is missing",
                _status(err),
            ),
            None,
        )
    kind = parts.target.kind
    if info.state in ACTIVE_STATES:
        parts.target.cancel(info.id)
        return (
            failed(
                "canary execution",
                f"execution {info.id} still {info.state} after {parts.timeout_s:.0f} s; cancelled",
                f"baton executions describe {info.id} --target {kind}; or raise --canary-timeout",
            ),
            info,
        )
    if info.state != "SUCCEEDED":
        return (
            failed(
                "canary execution",
                f"execution {info.id} {info.state}: {_why(info)}",
                f"baton executions describe {info.id} --target {kind} names the failed job and "
                "its logs",
            ),
            info,
        )
    return passed("canary execution", f"execution {info.id} ran all four jobs ({info.where})"), info


def account(parts: Canary) -> tuple[Check, int | None]:
    """landed == loaded + quarantined, from the committed manifests."""
    (row,) = ledger(parts.storage, canary.NAME, [canary.DAY])
    if row.balanced is None:
        return (
            failed(
                "canary rows",
                "the canary partition has no committed extract or load manifest",
                f"baton status --dataset {canary.NAME} --date {canary.DAY}",
            ),
            None,
        )
    detail = f"landed {row.landed} = loaded {row.loaded} + quarantined {row.quarantined}"
    if not row.balanced or row.landed != canary.LANDING_ROWS:
        return (
            failed(
                "canary rows",
                f"{detail} does not hold for the {canary.LANDING_ROWS} landed rows",
                "a step lost rows: baton report on the canary execution shows which",
            ),
            row.loaded,
        )
    return passed("canary rows", detail), row.loaded


def table(parts: Canary, loaded: int) -> Check:
    """The canary table's partition holds exactly the loaded rows."""
    spec = TableSpec.of_dataset(canary.DATASET)
    name = f"canary table {spec.name}"
    try:
        rows = parts.warehouse.partition_rows(spec, canary.DAY)
    except (BatonError, OSError) as err:
        return failed(
            name,
            f"cannot count its rows: {_message(err)}",
            "check the warehouse settings",
            _status(err),
        )
    if rows != loaded:
        seen = "does not exist" if rows is None else f"holds {rows} rows"
        return failed(
            name,
            f"partition {canary.DAY} {seen} in {parts.warehouse.describe()}; load reported {loaded}",
            "doctor reads the warehouse BATON_WAREHOUSE / BATON_BQ_* name: point them at the deployed one",
        )
    return passed(name, f"partition {canary.DAY}: {rows} rows in {parts.warehouse.describe()}")


def _tables() -> list[str]:
    return [canary.DATASET.destination.table, *(m.destination.table for m in canary.DATASET.marts)]


def _prune_directories(storage: Storage) -> None:
    """On a directory lake, the canary's now empty folders go too (a bucket has none)."""
    tops = [f"{zone}/{canary.NAME}" for zone in (*ZONES, "landing")] + [canary.REFERENCE_DIR]
    for top in tops:
        root = storage.local_path(top)
        if root is None or not root.is_dir():
            continue
        for folder in sorted((p for p in root.rglob("*") if p.is_dir()), reverse=True):
            with contextlib.suppress(OSError):
                folder.rmdir()
        with contextlib.suppress(OSError):
            root.rmdir()


def cleanup(parts: Canary) -> Check:
    """Remove the landing file, references, every canary lake partition and the canary tables;
    name whatever could not be removed."""
    left: list[str] = []
    keys = list(canary.FILES)
    for zone in ZONES:
        try:
            keys += parts.storage.list(f"{zone}/{canary.NAME}/")
        except (BatonError, OSError) as err:
            left.append(f"{parts.storage.uri(f'{zone}/{canary.NAME}/')} ({_message(err)})")
    removed = 0
    for key in dict.fromkeys(keys):
        try:
            if parts.storage.size(key) is not None:
                parts.storage.delete(key)
                removed += 1
        except (BatonError, OSError) as err:
            left.append(f"{parts.storage.uri(key)} ({_message(err)})")
    _prune_directories(parts.storage)
    dropped = []
    for name in _tables():
        try:
            if parts.warehouse.drop_table(name):
                dropped.append(name)
        except (BatonError, OSError) as err:
            left.append(f"table {name} ({_message(err)})")
    if left:
        return failed(
            "canary cleanup",
            f"could not remove {len(left)}: {'; '.join(left[:3])}",
            f"remove what is named, e.g. gcloud storage rm -r {parts.storage.uri(f'raw/{canary.NAME}/')}",
        )
    return passed(
        "canary cleanup", f"removed {removed} objects and tables {', '.join(dropped) or '(none)'}"
    )


def run_canary(parts: Canary) -> list[Check]:
    """Every stage in order; a failed stage stops the ones after it, cleanup always runs."""
    checks: list[Check] = []
    try:
        checks.append(land(parts))
        if not checks[-1].ok:
            return checks
        run, _ = execute(parts)
        checks.append(run)
        if not run.ok:
            return checks
        rows, loaded = account(parts)
        checks.append(rows)
        if rows.ok and loaded is not None:
            checks.append(table(parts, loaded))
        return checks
    finally:
        checks.append(cleanup(parts))
