"""The JSON decoders behind the landing formats: text rows in bounded batches, a malformed
JSON Lines record kept with why (never its content), a broken array failing the file."""

from __future__ import annotations

import io

import polars as pl
import pytest

from baton.errors import DataError
from baton.sources import records
from baton.sources.landing import MALFORMED
from baton.sources.records import json_array_batches, ndjson_batches


def _ndjson(text: str) -> pl.DataFrame:
    return pl.concat(
        list(ndjson_batches(io.BytesIO(text.encode()), ["a", "b"])), how="diagonal_relaxed"
    )


def _array(text: str) -> list[dict]:
    batches = json_array_batches(io.BytesIO(text.encode()), ["a", "b"], "landing/x.json")
    return [row for batch in batches for row in batch.to_dicts()]


def test_json_values_become_the_text_extract_parses():
    frame = _ndjson('{"a": 1, "b": true}\n\n{"a": 2.5, "b": null, "extra": "ignored"}\n')
    assert frame.to_dicts() == [{"a": "1", "b": "true"}, {"a": "2.5", "b": None}]


def test_a_malformed_line_is_kept_as_a_row_saying_why_not_what():
    frame = _ndjson('{"a": 1}\n{"a": "secret", oops}\n[1, 2]\n{"a": 3}\n')
    assert frame["a"].to_list() == ["1", "3", None, None]
    assert frame[MALFORMED].to_list()[2:] == [
        "line 2: Expecting property name enclosed in double quotes at column 17",
        "line 3: a JSON list, not an object",
    ]
    assert "secret" not in "".join(frame[MALFORMED].drop_nulls())


def test_json_lines_come_in_bounded_chunks_of_whole_lines(monkeypatch):
    monkeypatch.setattr(records, "NDJSON_CHUNK_BYTES", 12)  # a line and a bit
    batches = list(ndjson_batches(io.BytesIO(b'{"a": 1}\n' * 5), ["a"]))
    assert [b.height for b in batches] == [2, 2, 1]


def test_a_malformed_line_is_numbered_across_chunks(monkeypatch):
    monkeypatch.setattr(records, "NDJSON_CHUNK_BYTES", 12)
    frame = _ndjson('{"a": 1}\n{"a": 2}\n\n{"a": 3}\n{"a": }\n')
    assert frame[MALFORMED].drop_nulls().to_list() == ["line 5: Expecting value at column 7"]


def test_an_array_is_decoded_across_chunk_boundaries(monkeypatch):
    monkeypatch.setattr(records, "CHUNK_BYTES", 3)
    assert _array('[{"a": "x,y"}, {"b": [1, {"c": 2}]}]') == [
        {"a": "x,y", "b": None},
        {"a": None, "b": '[1, {"c": 2}]'},
    ]


@pytest.mark.parametrize("text", ['[{"a": 1},', '[{"a": 1}', '[{"a": "unfinished'])
def test_an_array_that_never_closes_fails_the_file(text):
    with pytest.raises(DataError, match=r"landing/x.json: the JSON array never closes") as caught:
        _array(text)
    assert caught.value.reason == "unreadable_input"


def test_an_array_of_something_other_than_objects_names_the_element():
    with pytest.raises(DataError, match=r"element 1 is a JSON int, not an object"):
        _array('[{"a": 1}, 7]')


def test_a_document_that_is_not_an_array_is_refused():
    with pytest.raises(DataError, match=r"is not a JSON array"):
        _array('{"a": 1}')
