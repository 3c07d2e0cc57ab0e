"""Extract's I/O sequence: find the landing file(s), check the header, parse, write raw."""

from __future__ import annotations

import polars as pl

from baton.errors import DataError
from baton.manifest import InputRef
from baton.parquet import reason_counts, schema_of, write_with_quarantine
from baton.step import Output, Partition, StepPlan
from baton_extract.core import header_problems, parse


class Extract:
    """Landing -> raw."""

    name = "extract"

    def plan(self, part: Partition) -> StepPlan:
        source = part.dataset.source
        inputs = []
        for key in source.landing_keys(part.dataset.name, part.day):
            info = part.storage.stat(key)
            if info is None:
                raise DataError(
                    f"no landing file for {part.dataset.name} {part.day}: {part.storage.uri(key)} "
                    "does not exist; land it, or check the date",
                    reason="missing_input",
                )
            inputs.append(InputRef(key=key, digest=info.digest))
        return StepPlan(inputs, lambda: self._execute(part, [i.key for i in inputs]))

    def _read(self, part: Partition, key: str) -> pl.LazyFrame:
        source, uri = part.dataset.source, part.storage.uri(key)
        if part.storage.size(key) == 0:
            raise DataError(
                f"landing file {uri} is empty (not even a header)", reason="empty_input"
            )
        try:
            text = source.read(part.storage, key)
            found = list(text.collect_schema())
        except pl.exceptions.PolarsError as err:
            raise DataError(
                f"landing file {uri} cannot be read as CSV: {_first_line(err)}",
                reason="unreadable_input",
            ) from err
        problems = header_problems(found, list(source.schema))
        if problems:
            raise DataError(f"landing file {uri}: {'; '.join(problems)}", reason="bad_header")
        return text.select(list(source.schema))

    def _execute(self, part: Partition, keys: list[str]) -> Output:
        source = part.dataset.source
        text = pl.concat([self._read(part, k) for k in keys])
        good, bad = parse(text, source.schema, source.parse_options)
        out_key = part.data_key()
        try:
            written, quarantine = write_with_quarantine(
                part.storage, (good, out_key), (bad, part.quarantine_key())
            )
        except pl.exceptions.PolarsError as err:
            uris = ", ".join(part.storage.uri(k) for k in keys)
            raise DataError(
                f"landing file {uris} cannot be parsed: {_first_line(err)}",
                reason="unreadable_input",
            ) from err
        rejected = sum(q.rows for q in quarantine)
        rows_in = written.rows + rejected
        if rows_in == 0 and not source.allow_empty:
            part.storage.delete(out_key)
            raise DataError(
                f"landing file {part.storage.uri(keys[0])} has a header but no rows; if this "
                f"partition is legitimately empty, set allow_empty on the {part.dataset.name} source",
                reason="empty_input",
            )
        return Output(
            files=[written],
            rows_in=rows_in,
            rows_out=written.rows,
            quarantine=quarantine,
            rows_quarantined=rejected,
            quarantine_reasons=reason_counts(part.storage, quarantine),
            schema=schema_of(good),
        )


def _first_line(err: Exception) -> str:
    """The reader's own diagnosis (its first line: later ones may quote the data), with what
    to do about it where we know."""
    line = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    if "utf-8" in line.lower() or "utf8" in line.lower():
        return f"{line}; the file must be UTF-8: re-export it as UTF-8 (or convert it, e.g. with iconv) and land it again"
    return line


STEP = Extract()
