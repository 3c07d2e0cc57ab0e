"""The engine's variable-memory accounting: a nested write is charged exactly what it adds,
every scope gives its bytes back when it ends, and the peak is recorded with the execution.
(The documented sizes and the limit's behaviour are conformance cases: conformance/memory.yaml.)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from baton_engine import Engine, ExecutionStore, Limits, VirtualClock, WorkflowError, load
from baton_engine.runtime.executor import Executor
from baton_engine.runtime.memory import assign_at, size_of

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=12,
)


@st.composite
def writes(draw: st.DrawFn) -> tuple[Any, list[Any], Any]:
    """A container, a path a Workflows assignment could write to in it, and the new value."""
    container = draw(
        st.dictionaries(st.text(max_size=5), values, max_size=4)
        | st.lists(values, min_size=1, max_size=4)
    )
    keys: list[Any] = []
    node: Any = container
    while True:
        if isinstance(node, dict):
            key = draw(
                st.sampled_from(sorted(node))
                if node and draw(st.booleans())
                else st.text(max_size=5)
            )
            keys.append(key)
            node = node.get(key)
            if node is None:
                node = {}  # a missing key or a null becomes a map if the path goes on
        elif isinstance(node, list) and node:
            index = draw(st.integers(0, len(node) - 1))
            keys.append(index)
            node = node[index]
        else:
            break
        if not isinstance(node, dict | list) or not draw(st.booleans()):
            break
    return container, keys, draw(values)


@settings(max_examples=300, deadline=None)
@given(writes())
def test_a_nested_write_is_charged_exactly_the_size_it_adds(
    write: tuple[Any, list[Any], Any],
) -> None:
    container, keys, value = write
    new, delta = assign_at(container, keys, value)
    assert delta == size_of(new) - size_of(container)


def executor(source: str, **limits: int) -> Executor:
    return Executor(
        load(source, {}),
        execution_id="test",
        clock=VirtualClock(),
        env={},
        limits=Limits(**limits),
    )


EVERY_KIND_OF_SCOPE = """
main:
  params: [args]
  steps:
    - init:
        assign:
          - results: {}
    - loop:
        for:
          value: i
          index: n
          in: ${args.items}
          steps:
            - local:
                assign:
                  - scratch: ${"item " + string(i)}
            - call:
                call: twice
                args:
                  x: ${i}
                result: doubled
            - guarded:
                try:
                  steps:
                    - boom:
                        raise: {message: "caught", tags: ["ValueError"]}
                except:
                  as: e
                  steps:
                    - note:
                        assign:
                          - seen: ${e.message}
    - fan:
        parallel:
          shared: [results]
          for:
            value: j
            in: ${args.items}
            steps:
              - mine:
                  assign:
                    - own: ${[j, j, j]}
                    - results[string(j)]: ${own}
    - done:
        return: ${len(keys(results))}
twice:
  params: [x]
  steps:
    - r:
        return: ${x * 2}
"""


def test_every_scope_gives_its_memory_back_when_the_execution_ends() -> None:
    run = executor(EVERY_KIND_OF_SCOPE)
    assert run.run({"items": [1, 2, 3, 4]}) == 4
    assert run.memory.peak > 0
    assert run.memory.used == 0


FAILING_DEEP = """
main:
  params: [args]
  steps:
    - fan:
        parallel:
          for:
            value: j
            in: ${args.items}
            steps:
              - deep:
                  call: fails_on_three
                  args:
                    x: ${j}
fails_on_three:
  params: [x]
  steps:
    - loop:
        for:
          value: i
          in: [1, 2]
          steps:
            - junk:
                assign:
                  - held: ${"held by " + string(x)}
            - boom:
                switch:
                  - condition: ${x == 3}
                    raise: {message: "three", tags: ["ValueError"]}
"""


def test_a_failed_execution_gives_its_memory_back_too() -> None:
    run = executor(FAILING_DEEP)
    with pytest.raises(WorkflowError) as failed:
        run.run({"items": [1, 2, 3, 4]})
    assert failed.value.tags == ["UnhandledBranchError"]
    assert run.memory.used == 0


def test_a_branch_over_the_limit_gives_every_branchs_memory_back() -> None:
    run = executor(EVERY_KIND_OF_SCOPE, max_memory_bytes=400)
    with pytest.raises(WorkflowError) as failed:
        run.run({"items": list(range(20))})
    assert failed.value.tags == ["ResourceLimitError"]
    assert "in step main/fan/" in failed.value.value["message"]
    assert run.memory.used == 0


def test_the_peak_is_recorded_with_the_execution(tmp_path: Path) -> None:
    engine = Engine(ExecutionStore(tmp_path), clock=VirtualClock())
    source = 'main:\n  steps:\n    - a:\n        assign:\n          - a: "This is a string of 28 bytes"\n          - b: ${a}\n          - a: null\n'
    record = engine.run(source)
    assert record.memory_peak_bytes == 72
    assert engine.get(record.id).memory_peak_bytes == 72
