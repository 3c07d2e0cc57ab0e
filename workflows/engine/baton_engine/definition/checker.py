"""Static checks of a whole workflow, before anything runs (what a deployment would reject).

Undefined `next` targets, duplicate step names, calls to undefined subworkflows or functions
(in call steps and in expressions) and wrong argument names, break/continue outside a loop,
parallel nesting deeper than 2, more than 10 branches, `shared` variables never assigned,
branch writes to parent variables not listed in `shared`, and reads of a variable outside the
`for` loop or `except` block that created it (`scopes`). Each issue names its step path.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from baton_engine.definition.model import (
    AssignStep,
    Block,
    CallStep,
    ForStep,
    ParallelStep,
    ReturnStep,
    StepsStep,
    Subworkflow,
    SwitchStep,
    TryStep,
    Workflow,
    WorkflowStep,
    expressions_of,
    iter_steps,
    parse_workflow,
)
from baton_engine.definition.scopes import scope_issues
from baton_engine.errors import DefinitionError, Issue
from baton_engine.expr.nodes import Call, dotted, walk
from baton_engine.expr.template import Template, expression_text
from baton_engine.stdlib import REQUIRED, library
from baton_limits import WORKFLOW_PARALLEL_BRANCHES, WORKFLOW_PARALLEL_DEPTH

MAX_BRANCHES = WORKFLOW_PARALLEL_BRANCHES
MAX_PARALLEL_DEPTH = WORKFLOW_PARALLEL_DEPTH
LOOP_JUMPS = ("break", "continue")


@dataclass(frozen=True)
class _Where:
    """Where a step sits: the blocks a `next` may reach and the enclosing constructs."""

    sub: Subworkflow
    visible: tuple[Block, ...]
    loop: str | None  # "for" | "parallel" | None
    parallel_depth: int
    in_branch: bool
    names: dict[str, str]  # step names of this jump scope -> first path


class _Checker:
    def __init__(self, workflow: Workflow, connectors: Collection[str]) -> None:
        self.workflow = workflow
        self.connectors = set(connectors)
        self.issues: list[Issue] = []

    def issue(self, path: str, message: str, severity: str = "error") -> None:
        self.issues.append(Issue(path, message, severity))

    def run(self) -> list[Issue]:
        for sub in self.workflow.subworkflows.values():
            self.block(sub.body, _Where(sub, (), None, 0, False, {}))
            self.issues.extend(scope_issues(sub))
        return self.issues

    # -- walking

    def block(self, block: Block, where: _Where) -> None:
        inner = replace(where, visible=(*where.visible, block))
        for step in block.steps:
            self.unique(step, where.names)
            if where.loop is not None and not step.anonymous and step.name in LOOP_JUMPS:
                # https://cloud.google.com/workflows/docs/reference/syntax/iteration: "break and
                # continue are reserved jump targets defined implicitly within a loop. Named
                # steps called break or continue within a for loop are not allowed"
                self.issue(step.path, f"a step inside a for loop cannot be named {step.name}")
            self.step(step, inner)

    def unique(self, step: WorkflowStep, names: dict[str, str]) -> None:
        """Step names are unique among the blocks a `next` can reach from one another."""
        if step.anonymous:
            return
        if step.name in names:
            self.issue(step.path, f"duplicate step name {step.name} (first at {names[step.name]})")
        else:
            names[step.name] = step.path

    def step(self, step: WorkflowStep, where: _Where) -> None:
        if step.next is not None:
            self.jump(step.next, step.path, where)
        self.expressions(step)
        nested = {
            CallStep: self.call_step,
            SwitchStep: self.switch,
            ForStep: self.for_step,
            ParallelStep: self.parallel,
            TryStep: self.try_step,
            StepsStep: self.steps_step,
            ReturnStep: self.return_step,
        }.get(type(step))
        if nested is not None:
            nested(step, where)

    def switch(self, step: SwitchStep, where: _Where) -> None:
        for cond in step.conditions:
            if cond.next is not None:
                self.jump(cond.next, cond.path, where)
            if cond.body is not None:
                self.step(cond.body, where)

    def for_step(self, step: ForStep, where: _Where) -> None:
        if step.loop:
            self.block(step.loop.body, replace(where, visible=(), loop="for", names={}))

    def steps_step(self, step: StepsStep, where: _Where) -> None:
        if step.body:
            self.block(step.body, where)

    def return_step(self, step: ReturnStep, where: _Where) -> None:
        if where.in_branch:
            self.issue(step.path, "return cannot leave a parallel branch; assign a shared variable")

    def jump(self, target: str, path: str, where: _Where) -> None:
        if target == "end":
            return
        if target in ("break", "continue"):
            if where.loop is None:
                self.issue(path, f"next: {target} outside a for loop")
            elif where.loop == "parallel" and target == "break":
                self.issue(path, "next: break cannot stop a parallel for; use continue")
            return
        if not any(target in block.index for block in where.visible):
            self.issue(path, f"next: {target} names no step reachable from here")

    def try_step(self, step: TryStep, where: _Where) -> None:
        if step.body:
            self.block(step.body, where)
        if step.except_body:
            self.block(step.except_body, where)
        retry = step.retry
        if retry is not None and retry.predicate is not None:
            self.predicate(retry.predicate, f"{step.path}/retry")

    def predicate(self, tpl: Template, path: str) -> None:
        text = expression_text(tpl.source)
        nodes = list(tpl.expressions())
        if text is None or len(nodes) != 1:
            self.issue(
                path, "predicate must be an expression naming a subworkflow, e.g. ${my_predicate}"
            )
            return
        name = dotted(nodes[0])
        if name is None:
            return
        if name not in self.workflow.subworkflows and name not in library().functions:
            self.issue(path, f"retry predicate {name} is not a subworkflow or library function")

    # -- calls

    def call_step(self, step: CallStep, where: _Where | None = None) -> None:
        name = step.function
        if not name:
            return
        if step.args is not None and isinstance(step.args.source, list):
            self.positional_call(name, len(step.args.source), step.path)
            return
        arg_names = self.literal_keys(step.args)
        sub = self.workflow.subworkflows.get(name)
        if sub is not None:
            if arg_names is not None:
                self.sub_args(sub, arg_names, step.path)
            return
        builtin = library().functions.get(name)
        if builtin is not None:
            if arg_names is not None:
                self.builtin_args(name, builtin.params, arg_names, step.path)
            return
        if name in self.connectors:
            return
        if name.startswith("googleapis."):
            self.issue(step.path, f"connector {name} is not available locally", "warning")
            return
        self.issue(step.path, f"call to undefined subworkflow or function {name}")

    def builtin_args(
        self, name: str, params: Sequence[tuple[str, Any]], given: set[str], path: str
    ) -> None:
        unknown = sorted(given - {p for p, _ in params})
        if unknown:
            self.issue(path, f"{name} has no argument(s) {', '.join(unknown)}")
        missing = [p for p, d in params if d is REQUIRED and p not in given]
        if missing:
            self.issue(path, f"{name}: missing argument(s) {', '.join(missing)}")

    def positional_call(self, name: str, count: int, path: str) -> None:
        """`args` as a list: documented for library functions only (the sys.log page)."""
        builtin = library().functions.get(name)
        if builtin is None:
            self.issue(
                path,
                f"args of {name} is a list; only standard-library functions take arguments by "
                "position in a call step (give a map of parameter names)",
            )
            return
        required = sum(d is REQUIRED for _, d in builtin.params)
        if not required <= count <= len(builtin.params):
            self.issue(
                path, f"{name} takes {required}..{len(builtin.params)} arguments, given {count}"
            )

    @staticmethod
    def literal_keys(args: Template | None) -> set[str] | None:
        if args is None:
            return set()
        return set(map(str, args.source)) if isinstance(args.source, dict) else None

    def sub_args(self, sub: Subworkflow, given: set[str], path: str) -> None:
        names = {p.name for p in sub.params}
        unknown = sorted(given - names)
        if unknown:
            self.issue(path, f"subworkflow {sub.name} has no parameter(s) {', '.join(unknown)}")
        missing = [p.name for p in sub.params if p.required and p.name not in given]
        if missing:
            self.issue(path, f"subworkflow {sub.name}: missing argument(s) {', '.join(missing)}")

    def expressions(self, step: WorkflowStep) -> None:
        for tree in expressions_of(step):
            for node in walk(tree):
                if isinstance(node, Call):
                    self.expression_call(node, step.path)

    def expression_call(self, node: Call, path: str) -> None:
        name, count = node.function, len(node.args)
        sub = self.workflow.subworkflows.get(name)
        if sub is not None:
            required = sum(p.required for p in sub.params)
            if not required <= count <= len(sub.params):
                self.issue(
                    path,
                    f"{name}() takes {required}..{len(sub.params)} arguments, given {count}",
                )
            return
        builtin = library().functions.get(name)
        if builtin is None:
            self.issue(path, f"call to undefined function {name}() in an expression")
            return
        if builtin.call_only:
            self.issue(path, f"{name} blocks; call it from a call step, not inside ${{}}")
        required = sum(d is REQUIRED for _, d in builtin.params)
        if not required <= count <= len(builtin.params):
            self.issue(
                path, f"{name}() takes {required}..{len(builtin.params)} arguments, given {count}"
            )

    # -- parallel

    def parallel(self, step: ParallelStep, where: _Where) -> None:
        depth = where.parallel_depth + 1
        if depth > MAX_PARALLEL_DEPTH:
            self.issue(
                step.path, f"parallel steps nested {depth} deep; the limit is {MAX_PARALLEL_DEPTH}"
            )
        if step.branches and not 2 <= len(step.branches) <= MAX_BRANCHES:
            self.issue(
                step.path,
                f"{len(step.branches)} branches; a parallel step has 2 to {MAX_BRANCHES}",
            )
        names = [n for n, _ in step.branches]
        for dup in sorted({n for n in names if names.count(n) > 1}):
            self.issue(step.path, f"duplicate branch name {dup}")
        if step.concurrency_limit is not None and not step.concurrency_limit.constant:
            self.issue(
                step.path,
                "concurrency_limit is an expression; the Workflows JSON schema requires a literal "
                "integer",
                "warning",
            )
        parent_vars = self.parent_variables(where.sub, step)
        for name in step.shared:
            if name not in parent_vars:
                self.issue(
                    step.path, f"shared variable {name} is never assigned before the parallel step"
                )
        inner = replace(
            where,
            visible=(),
            loop="parallel" if step.loop else None,
            parallel_depth=depth,
            in_branch=True,
        )
        for block in _blocks_of(step):
            self.block(block, replace(inner, names={}))
            for path, name in _writes(block):
                if name in parent_vars and name not in step.shared:
                    self.issue(
                        path,
                        f"assigns {name}, a variable of the enclosing scope not listed in "
                        f"`shared` of {step.path}",
                    )

    def parent_variables(self, sub: Subworkflow, parallel: ParallelStep) -> set[str]:
        inside = {id(s) for block in _blocks_of(parallel) for s in iter_steps(block)}
        names = {p.name for p in sub.params}
        for step in iter_steps(sub.body):
            if id(step) not in inside and step is not parallel:
                names.update(name for _, name in _step_writes(step))
        return names


def _blocks_of(step: ParallelStep) -> list[Block]:
    return [step.loop.body] if step.loop else [b for _, b in step.branches]


def _step_writes(step: WorkflowStep) -> Iterator[tuple[str, str]]:
    if isinstance(step, AssignStep):
        for target, _ in step.assignments:
            yield step.path, target.root
    elif isinstance(step, CallStep) and step.result:
        yield step.path, step.result
    elif isinstance(step, SwitchStep):
        for cond in step.conditions:
            if cond.body is not None:
                yield from _step_writes(cond.body)


def _writes(block: Block) -> Iterator[tuple[str, str]]:
    for step in iter_steps(block):
        yield from _step_writes(step)


def check_workflow(workflow: Workflow, connectors: Collection[str] = ()) -> list[Issue]:
    """Every whole-workflow problem of a parsed workflow."""
    return _Checker(workflow, connectors).run()


def check_source(
    source: str, connectors: Collection[str] = ()
) -> tuple[Workflow | None, list[Issue]]:
    """Parse and check a workflow's source; the workflow (None if unreadable) and all issues."""
    try:
        workflow, issues = parse_workflow(source)
    except DefinitionError as err:
        return None, err.issues
    if "main" not in workflow.subworkflows:
        return workflow, issues
    return workflow, issues + check_workflow(workflow, connectors)


def load(source: str, connectors: Collection[str] = ()) -> Workflow:
    """A workflow ready to run; DefinitionError listing every error otherwise."""
    workflow, issues = check_source(source, connectors)
    errors = [i for i in issues if i.severity == "error"]
    if workflow is None or errors:
        raise DefinitionError(errors or issues)
    return workflow
