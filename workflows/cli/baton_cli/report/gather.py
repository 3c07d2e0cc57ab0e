"""Reads what the run report shows: the local execution record (`$BATON_HOME/executions/<id>/`),
the summary line each task attempt logged, and the lake's manifests and attempt records; and
assembles the report from an execution, the lake and its step attempts for any target
(`baton_cli.report.remote` reads a GCP execution).

Timeline bars come from the steps' summary log lines (`step finished` / `step failed`: the end
time and the step's own duration), so the gap before a bar is the job's queueing, process start
and imports: on the timeline it shows as a wait.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

from baton import datasets
from baton.config import Settings
from baton.lake import STEPS, manifest_key, parse_date
from baton.manifest import Manifest
from baton.storage import Storage, open_storage
from baton_cli.report.cells import build_cell, last_attempts, rerun_all_command
from baton_cli.report.model import Attempt, Cell, Flow, Header, RunReport
from baton_cli.status import Observation, classify, observe
from baton_engine import ExecutionStore
from baton_twin.execution_info import ExecutionInfo, from_record

ZONES = ("raw", "staged", "validated", "loaded")  # the output of each step, in STEPS order


def load_execution(settings: Settings, execution_id: str) -> tuple[ExecutionInfo, Path]:
    """The local record of one execution and its folder; LookupError when there is none."""
    store = ExecutionStore(settings.home / "executions")
    record = store.get(execution_id)
    folder = store.folder(record.id)
    info = from_record(record, record.id, str(folder))
    return info, folder


def _epoch(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _attempt_of(line: Mapping[str, Any], job: str, task: int, log_uri: str) -> Attempt | None:
    try:
        end = _epoch(str(line["time"]))
        return Attempt(
            day=parse_date(str(line["partition_date"])),
            step=str(line["step"]),
            job_execution=job,
            task_index=task,
            attempt=int(line.get("attempt", 0)),
            start=end - float(line.get("duration_s") or 0.0),
            end=end,
            outcome=str(line["outcome"]),
            exit_code=int(line.get("exit_code", 0)),
            log_uri=log_uri,
        )
    except (KeyError, TypeError, ValueError):
        return None  # not a step summary line


def task_attempts(path: Path, job: str) -> Iterator[Attempt]:
    """The step runs one task's log records: one per date per attempt."""
    task = int(path.stem.removeprefix("task-") or 0)
    for raw in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if not raw.startswith("{") or '"outcome"' not in raw:
            continue
        try:
            line = json.loads(raw)
        except json.JSONDecodeError:
            continue
        if isinstance(line, dict):
            found = _attempt_of(line, job, task, str(path))
            if found is not None:
                yield found


def execution_attempts(folder: Path) -> list[Attempt]:
    """Every step run the execution's job executions logged."""
    out: list[Attempt] = []
    for job_dir in sorted((folder / "jobs").glob("*")):
        for log in sorted(job_dir.glob("task-*.log")):
            out.extend(task_attempts(log, job_dir.name))
    return out


def argument_days(argument: Any) -> set[date]:
    """The dates an argument names (a list or start..end), best effort."""
    if not isinstance(argument, dict):
        return set()
    found: set[date] = set()
    try:
        for text in argument.get("dates") or ():
            found.add(parse_date(str(text)))
        if argument.get("start") and argument.get("end"):
            first, last = parse_date(argument["start"]), parse_date(argument["end"])
            found.update(
                date.fromordinal(d) for d in range(first.toordinal(), last.toordinal() + 1)
            )
    except (ValueError, TypeError):
        return found
    return found


def _flow(seen: Observation, day: date, storage: Storage) -> Flow:
    m: dict[str, Manifest] = {step: hit[0] for step, hit in seen.manifests.items()}
    rows = [m[s].rows_out if s in m else None for s in STEPS]
    return Flow(
        day,
        m["extract"].rows_in if "extract" in m else None,
        *rows,
        quarantined={s: m[s].rows_quarantined for s in STEPS if s in m and m[s].rows_quarantined},
        rules={
            s: dict(m[s].quarantine_reasons) for s in STEPS if s in m and m[s].quarantine_reasons
        },
        quarantine_uris=tuple(storage.uri(q.key) for s in STEPS if s in m for q in m[s].quarantine),
    )


def _day_cells(
    seen: Observation,
    day: date,
    dataset: str,
    entries: Mapping[str, Any],
    last: Mapping[tuple[date, str], Attempt],
    execution_id: str,
    storage: Storage,
    target: str,
) -> Iterator[tuple[Cell, str]]:
    """Each step's cell of one partition, and the code version it committed ("" when this
    execution committed nothing there)."""
    lake = classify(seen, dataset, day)
    for step in STEPS:
        hit = seen.manifests.get(step)
        manifest = hit[0] if hit else None
        here = manifest is not None and manifest.execution_id == execution_id
        cell = build_cell(
            day,
            step,
            entries.get(step),
            last.get((day, step)),
            (lake.cell(step).state.value, here),
            (dataset, datasets.DEFAULT_DATASET),
            target=target,
        )
        if manifest is not None:
            cell = replace(cell, manifest_uri=storage.uri(manifest_key(step, dataset, day)))
        yield cell, manifest.code_version if here and manifest else ""


def started_by(argument: Any, otherwise: str) -> str:
    """Who started an execution, as far as its argument tells: an event, else `otherwise`."""
    if isinstance(argument, dict) and "data" in argument:
        return "an event (the argument is an event's payload)"
    return otherwise


def build_report(settings: Settings, execution_id: str) -> RunReport:
    """The report of one local execution; LookupError when there is no such execution."""
    info, folder = load_execution(settings, execution_id)
    return assemble(
        info,
        open_storage(settings.lake_root),
        Source(
            "local",
            str(folder),
            started_by(
                info.argument, "baton on this machine (run, backfill, rerun or serve's API)"
            ),
        ),
        execution_attempts(folder),
    )


@dataclass(frozen=True)
class Source:
    """Where an execution's records come from: the target kind (for the rerun commands), the
    record's location, and who started it."""

    target: str
    record_uri: str
    started_by: str


LakeAttempts = Callable[[Observation, date], Iterable[Attempt]]


def assemble(
    info: ExecutionInfo,
    storage: Storage,
    source: Source,
    attempts: Iterable[Attempt] = (),
    lake_attempts: LakeAttempts | None = None,
) -> RunReport:
    """The report of one execution from its info, the lake and its step attempts: `attempts`
    known up front (local task logs) and/or `lake_attempts` read off each partition's records
    (GCP, where the task logs are in Cloud Logging)."""
    summary = info.summary or {}
    argument = info.argument if isinstance(info.argument, dict) else {}
    dataset = str(summary.get("dataset") or argument.get("dataset") or datasets.DEFAULT_DATASET)
    found = list(attempts)
    partitions: Mapping[str, Any] = summary.get("partitions") or {}
    days = sorted(
        {parse_date(d) for d in partitions} | {a.day for a in found} | argument_days(argument)
    )
    dataset_def = datasets.get(dataset)
    with ThreadPoolExecutor(max_workers=8) as pool:  # on GCS each partition is a few GETs
        seen_all = list(pool.map(lambda d: observe(storage, dataset_def, d), days))
    if lake_attempts is not None:
        for day, seen in zip(days, seen_all, strict=True):
            found.extend(lake_attempts(seen, day))
    last = last_attempts(found)
    cells: list[Cell] = []
    flows: list[Flow] = []
    versions: set[str] = set()
    for day, seen in zip(days, seen_all, strict=True):
        flows.append(_flow(seen, day, storage))
        entries = partitions.get(day.isoformat()) or {}
        for cell, version in _day_cells(
            seen, day, dataset, entries, last, info.id, storage, source.target
        ):
            cells.append(cell)
            if version:
                versions.add(version)
    header = Header(
        id=info.id,
        workflow=info.workflow,
        state=info.state,
        argument=json.dumps(info.argument, default=str),
        dataset=dataset,
        mode=str(summary.get("mode") or argument.get("mode") or ""),
        start=info.start,
        end=info.end,
        started_by=source.started_by,
        code_versions=tuple(sorted(versions)),
        error_message=info.error_message if info.state != "SUCCEEDED" else "",
        record_uri=source.record_uri,
    )
    failed = any(c.state.value == "failed" for c in cells)
    return RunReport(
        header,
        STEPS,
        tuple(days),
        tuple(cells),
        tuple(found),
        tuple(flows),
        rerun_all=rerun_all_command(info.id, source.target) if failed and info.finished else "",
    )
