"""Cloud Run task identity and batched-mode sharding: every date goes to exactly one task."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from baton.errors import ConfigError
from baton.task import TaskContext, shard

dates = st.lists(st.dates(min_value=date(2000, 1, 1), max_value=date(2030, 12, 31)), max_size=60)


@given(dates, st.integers(min_value=1, max_value=20))
def test_shares_cover_every_date_exactly_once(days, count):
    taken = Counter(d for index in range(count) for d in shard(days, index, count))
    assert set(taken) == set(days)
    assert all(n == 1 for n in taken.values())


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=1, max_value=5000), st.integers(min_value=1, max_value=10_000))
def test_shares_cover_every_date_exactly_once_for_any_date_and_task_count(n, count):
    days = [date(2000, 1, 1) + timedelta(days=i) for i in range(n)]
    taken = Counter(d for index in range(min(count, n + 2)) for d in shard(days, index, count))
    # Tasks past the number of dates get nothing; the first min(count, n) take them all.
    assert sorted(taken) == days and set(taken.values()) == {1}
    assert shard(days, count - 1, count) == ([] if count > n else days[count - 1 :: count])


@given(dates, st.integers(min_value=1, max_value=20))
def test_shares_differ_in_size_by_at_most_one(days, count):
    sizes = [len(shard(days, index, count)) for index in range(count)]
    assert max(sizes) - min(sizes) <= 1


@given(dates, st.integers(min_value=1, max_value=8), st.randoms())
def test_a_share_does_not_depend_on_the_order_dates_are_listed(days, count, rnd):
    shuffled = list(days)
    rnd.shuffle(shuffled)
    for index in range(count):
        assert shard(days, index, count) == shard(shuffled, index, count)


def test_dates_are_dealt_round_robin_in_date_order():
    days = [date(2013, 1, d) for d in (5, 1, 3, 2, 4)]
    assert shard(days, 0, 2) == [date(2013, 1, 1), date(2013, 1, 3), date(2013, 1, 5)]
    assert shard(days, 1, 2) == [date(2013, 1, 2), date(2013, 1, 4)]


@pytest.mark.parametrize(("index", "count"), [(2, 2), (-1, 2), (0, 0)])
def test_an_index_outside_the_task_count_is_refused(index, count):
    with pytest.raises(ValueError, match="outside"):
        shard([date(2013, 1, 1)], index, count)


def test_task_context_reads_the_cloud_run_variables():
    ctx = TaskContext.from_env(
        {
            "CLOUD_RUN_JOB": "baton-extract",
            "CLOUD_RUN_EXECUTION": "baton-extract-abc",
            "CLOUD_RUN_TASK_INDEX": "2",
            "CLOUD_RUN_TASK_COUNT": "3",
            "CLOUD_RUN_TASK_ATTEMPT": "1",
        }
    )
    assert ctx == TaskContext("baton-extract", "baton-extract-abc", 2, 3, 1)


def test_task_context_defaults_to_a_single_local_task():
    assert TaskContext.from_env({}) == TaskContext()


@pytest.mark.parametrize(
    ("environ", "fragment"),
    [
        ({"CLOUD_RUN_TASK_INDEX": "one"}, "CLOUD_RUN_TASK_* must be integers"),
        ({"CLOUD_RUN_TASK_INDEX": "3", "CLOUD_RUN_TASK_COUNT": "3"}, "CLOUD_RUN_TASK_INDEX=3"),
    ],
)
def test_bad_task_variables_are_config_errors(environ, fragment):
    with pytest.raises(ConfigError, match=fragment.replace("*", r"\*")):
        TaskContext.from_env(environ)
