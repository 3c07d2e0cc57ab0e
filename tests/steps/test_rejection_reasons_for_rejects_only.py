"""Extract and validate split rows on a cheap flag (`baton.contract.any_failed`) and build
reasons for rejected rows only; the flag must reject exactly the rows `failed_rules` would
give a reason."""

from __future__ import annotations

from datetime import UTC, date, datetime

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from baton.contract import Column, Contract, PartitionContext, any_failed, failed_rules, rule
from baton_extract.core import parse
from baton_validate.core import REASONS, checks, split

flags = st.lists(st.lists(st.one_of(st.none(), st.booleans()), min_size=3, max_size=3), max_size=25)


@given(flags)
def test_the_flag_fails_exactly_the_rows_that_get_a_reason(rows):
    frame = pl.DataFrame(rows, schema=dict.fromkeys("abc", pl.Boolean()), orient="row")
    rules = [(name, pl.col(name)) for name in ("a", "b", "c")]
    reasons = frame.select(failed_rules(rules).list.len() > 0).to_series()
    assert frame.select(any_failed(rules)).to_series().to_list() == reasons.to_list()


def test_no_checks_fail_no_row():
    frame = pl.DataFrame({"a": [1, 2]})
    assert frame.select(any_failed([])).to_series().to_list() == [False]


def test_extract_rejects_only_unparsable_rows_with_their_columns():
    text = pl.LazyFrame(
        {"n": ["1", "x", None, " 4 "], "d": ["2013-01-01", "2013-01-02", "no", None]}
    )
    good, bad = parse(text, {"n": pl.Int32(), "d": pl.Date()}, lambda _: {})
    assert good.collect()["n"].to_list() == [1, 4]
    assert bad.collect()[REASONS].to_list() == [["unparsable:n"], ["unparsable:d"]]


def test_validate_without_repeats_splits_an_unnumbered_frame():
    contract = Contract(
        columns=(Column("day", pl.Date(), nullable=False), Column("q", pl.Int32())),
        rules=(rule("q_positive")(lambda ctx: pl.col("q") > 0),),
    )
    day = date(2013, 1, 2)
    frame = pl.LazyFrame({"day": [day, day, day], "q": [1, -1, None]}, schema=contract.schema())
    rules = checks(contract, PartitionContext(day), "day", pl.Series([], dtype=pl.UInt32))
    valid, rejected = split(frame, contract, rules, "run", datetime(2024, 1, 1, tzinfo=UTC))
    assert valid.collect()["q"].to_list() == [1, None]
    assert rejected.collect()[REASONS].to_list() == [["q_positive"]]
