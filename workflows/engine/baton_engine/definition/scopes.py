"""Deploy-time variable scopes: a variable created inside a `for` loop or an `except` block
exists only there, and a step outside that reads it is rejected before anything runs.

https://cloud.google.com/workflows/docs/reference/syntax/variables ("Variable scope"): "A
variable created inside a for loop belongs to the local scope of that loop, and is accessible
only in that scope. For example, the variable is cleared after exiting the loop, and accessing
it outside of the loop will raise an error when deploying the workflow. This local scoping also
applies to any variable created inside an except block." The loop's value and index belong to
the loop too (the page's sample: "outerLoopValue does not exist outside of outerLoop step").

The check is per subworkflow frame and ignores step order within a scope: a name created
anywhere in a scope (outside its loops and except blocks), or given as a parameter, counts as
that scope's own, so only names that exist nowhere but inside a loop or except block are
reported. Parallel branches keep their own variables too, but the page states no deploy error
for reading them afterwards, so those reads are left to run time (a KeyError).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from baton_engine.definition.model import (
    AssignStep,
    Block,
    CallStep,
    ForStep,
    ParallelStep,
    StepsStep,
    Subworkflow,
    SwitchStep,
    TryStep,
    WorkflowStep,
    expressions_of,
    iter_steps,
)
from baton_engine.errors import Issue
from baton_engine.expr.nodes import Name, walk
from baton_engine.expr.parser import parse


@dataclass(frozen=True)
class _Inner:
    """A block with a scope of its own inside a step: a loop body, an except block, a branch."""

    block: Block
    bound: tuple[str, ...]  # variables the construct itself creates (loop value, `as`)
    path: str
    what: str
    local: bool  # the variables page makes its variables invisible after it


def scope_issues(sub: Subworkflow) -> list[Issue]:
    """Every read of a loop- or except-local variable from outside its block, and every loop
    variable reused by a loop nested inside a loop of the same name, in one frame."""
    issues: list[Issue] = []
    _check(sub.body, frozenset(p.name for p in sub.params), {}, issues)
    _nested_loop_names(sub.body, {}, issues)
    return issues


def _nested_loop_names(block: Block, outer: dict[str, str], issues: list[Issue]) -> None:
    """https://cloud.google.com/workflows/docs/reference/syntax/iteration: the loop variable
    (and the index) "The same name can be used in multiple loops, as long as they are not
    nested." """
    for step in block.steps:
        for inner in _inners(step):
            names = dict(outer)
            if inner.what.endswith("for loop"):
                for name in inner.bound:
                    if name in outer:
                        issues.append(
                            Issue(
                                step.path,
                                f"loop variable {name} is already the variable of the "
                                f"enclosing loop {outer[name]}; nested loops need different "
                                "names",
                            )
                        )
                    names[name] = step.path
            _nested_loop_names(inner.block, names, issues)
        for nested in _same_scope_blocks(step):
            _nested_loop_names(nested, outer, issues)


def _same_scope_blocks(step: WorkflowStep) -> Iterator[Block]:
    if isinstance(step, TryStep | StepsStep) and step.body:
        yield step.body
    if isinstance(step, SwitchStep):
        for cond in step.conditions:
            if cond.body is not None:
                yield Block([cond.body], cond.path)


def _check(
    block: Block, inherited: frozenset[str], hidden: dict[str, _Inner], issues: list[Issue]
) -> None:
    steps = list(_level(block))
    own = set(inherited).union(*(_creates(s) for s in steps))
    inners = [inner for s in steps for inner in _inners(s)]
    visible_hidden = {name: inner for name, inner in hidden.items() if name not in own}
    for inner in inners:
        if inner.local:
            for name in (set(inner.bound) | _created_within(inner.block)) - own:
                visible_hidden[name] = inner
    for step in steps:
        for name in sorted(_reads(step) & visible_hidden.keys()):
            inner = visible_hidden[name]
            issues.append(
                Issue(
                    step.path,
                    f"reads {name}, which exists only inside the {inner.what} {inner.path}: a "
                    f"variable created in a for loop or an except block is local to it; assign "
                    f"{name} before that step to use it afterwards",
                )
            )
    for inner in inners:
        _check(inner.block, frozenset(own | set(inner.bound)), visible_hidden, issues)


def _level(block: Block) -> Iterator[WorkflowStep]:
    """The steps sharing the block's scope: its own, and those of nested `try` bodies, `steps`
    blocks and switch conditions' inline steps (not loop bodies, except blocks or branches)."""
    for step in block.steps:
        yield from _same_scope(step)


def _same_scope(step: WorkflowStep) -> Iterator[WorkflowStep]:
    yield step
    if isinstance(step, SwitchStep):
        for cond in step.conditions:
            if cond.body is not None:
                yield from _same_scope(cond.body)
    elif isinstance(step, TryStep | StepsStep) and step.body:
        yield from _level(step.body)


def _inners(step: WorkflowStep) -> Iterator[_Inner]:
    if isinstance(step, ForStep | ParallelStep) and step.loop:
        loop = step.loop
        bound = (loop.value,) if loop.index is None else (loop.value, loop.index)
        kind = "for loop" if isinstance(step, ForStep) else "parallel for loop"
        yield _Inner(loop.body, bound, step.path, kind, True)
    if isinstance(step, ParallelStep):
        for name, block in step.branches:
            yield _Inner(block, (), f"{step.path}/{name}", "parallel branch", False)
    if isinstance(step, TryStep) and step.except_body:
        bound = () if step.except_as is None else (step.except_as,)
        yield _Inner(step.except_body, bound, f"{step.path}/except", "except block", True)


def _creates(step: WorkflowStep) -> set[str]:
    """Variables a step creates in its scope (an assignment to a bare name, a call's result)."""
    if isinstance(step, AssignStep):
        return {target.root for target, _ in step.assignments if not target.path}
    if isinstance(step, CallStep) and step.result:
        return {step.result}
    return set()


def _created_within(block: Block) -> set[str]:
    """Every variable created anywhere inside a block, nested constructs' own ones included."""
    names: set[str] = set()
    for step in iter_steps(block):
        names |= _creates(step)
        for inner in _inners(step):
            names.update(inner.bound)
    return names


def _reads(step: WorkflowStep) -> set[str]:
    """Variable names a step's own expressions read (and the roots of `m.k` / `l[i]` targets,
    which must exist to be written into)."""
    names = {n.name for tree in expressions_of(step) for n in walk(tree) if isinstance(n, Name)}
    if isinstance(step, AssignStep):
        for target, _ in step.assignments:
            if target.path:
                names |= {n.name for n in walk(parse(target.source)) if isinstance(n, Name)}
    return names
