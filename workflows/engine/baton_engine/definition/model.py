"""A workflow definition: YAML or JSON source parsed into subworkflows, blocks and steps.

Parsing also checks the shape of every step (known keys, one kind per step, well-formed
expressions and assignment targets); `checker` adds the checks that need the whole workflow.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml

from baton_engine.errors import DefinitionError, Issue, WorkflowError
from baton_engine.expr.evaluator import Compiled, compile_node
from baton_engine.expr.nodes import Attr, Index, Name, Node
from baton_engine.expr.parser import parse
from baton_engine.expr.template import Template, compile_template, expression_text
from baton_limits import (
    WORKFLOW_ASSIGNMENTS_PER_STEP,
    WORKFLOW_CONDITIONS_PER_SWITCH,
    WORKFLOW_SOURCE_BYTES,
)

KINDS = ("assign", "call", "switch", "for", "parallel", "try", "raise", "return", "steps")
ALLOWED = {
    "assign": {"assign", "next"},
    "call": {"call", "args", "result", "next"},
    "switch": {"switch", "next"},
    "for": {"for", "next"},
    "parallel": {"parallel", "next"},
    "try": {"try", "retry", "except", "next"},
    "raise": {"raise"},
    "return": {"return"},
    "steps": {"steps", "next"},
    "next": {"next"},
}
MAX_ASSIGNMENTS = WORKFLOW_ASSIGNMENTS_PER_STEP
MAX_CONDITIONS = WORKFLOW_CONDITIONS_PER_SWITCH
MAX_SOURCE_BYTES = WORKFLOW_SOURCE_BYTES
_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


# libyaml's parser when PyYAML was built with it (~8x faster on the pipeline; every start loads
# the source); the resolvers below are the pure-Python Resolver's either way.
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _WorkflowLoader(_SafeLoader):
    """YAML as Workflows reads it: dates stay strings, only true/false (any case) are booleans,
    and a key written twice in one mapping is an error.

    https://cloud.google.com/workflows/docs/reference/syntax: source files "contain only one main
    workflow" and "are either a valid YAML or JSON file"; YAML requires the keys of a mapping to
    be unique (a loader that kept the last one would run a different workflow than the one
    written). Keys brought in by a merge (`<<`) may still be overridden, as YAML allows.
    """

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, Any] = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=deep)
                try:
                    first = seen.setdefault(key, key_node)
                except TypeError:
                    continue
                if first is not key_node:
                    raise yaml.constructor.ConstructorError(
                        None,
                        None,
                        f"key {key!r} is written twice in one mapping (first at line "
                        f"{first.start_mark.line + 1})",
                        key_node.start_mark,
                    )
        return super().construct_mapping(node, deep=deep)


_DROPPED = {"tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:bool"}
_WorkflowLoader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag not in _DROPPED]
    for key, resolvers in _SafeLoader.yaml_implicit_resolvers.items()
}
_WorkflowLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


# ---------------------------------------------------------------------------------------- model


@dataclass(frozen=True)
class AssignTarget:
    """Where an assignment writes: a variable and an optional path of keys and indexes."""

    source: str
    root: str
    path: tuple[tuple[str, Compiled | str], ...]  # ("key", name) | ("index", compiled)


@dataclass
class WorkflowStep:
    """One named step; `next` is a step name, end, break, continue or None."""

    name: str
    path: str
    next: str | None

    kind = "next"
    anonymous = False  # an inline step: a switch condition's body or a one-step try


@dataclass
class AssignStep(WorkflowStep):
    assignments: list[tuple[AssignTarget, Template]] = field(default_factory=list)
    kind = "assign"


@dataclass
class CallStep(WorkflowStep):
    function: str = ""
    args: Template | None = None
    result: str | None = None
    kind = "call"


@dataclass
class Condition:
    """One switch condition and what it does when it is the first true one."""

    condition: Template
    body: WorkflowStep | None
    next: str | None
    path: str


@dataclass
class SwitchStep(WorkflowStep):
    conditions: list[Condition] = field(default_factory=list)
    kind = "switch"


@dataclass
class Loop:
    """A `for`: value and optional index variables over `in` or an inclusive `range`."""

    value: str
    index: str | None
    items: Template | None
    range: Template | None
    body: Block


@dataclass
class ForStep(WorkflowStep):
    loop: Loop | None = None
    kind = "for"


@dataclass
class ParallelStep(WorkflowStep):
    shared: list[str] = field(default_factory=list)
    concurrency_limit: Template | None = None
    branches: list[tuple[str, Block]] = field(default_factory=list)
    loop: Loop | None = None
    kind = "parallel"


@dataclass
class Retry:
    """A retry policy: a policy expression, or predicate + max_retries + backoff."""

    policy: Template | None
    predicate: Template | None
    max_retries: Template | None
    initial_delay: Template | None
    max_delay: Template | None
    multiplier: Template | None


@dataclass
class TryStep(WorkflowStep):
    body: Block | None = None
    retry: Retry | None = None
    except_as: str | None = None
    except_body: Block | None = None
    has_except: bool = False
    kind = "try"


@dataclass
class RaiseStep(WorkflowStep):
    value: Template | None = None
    kind = "raise"


@dataclass
class ReturnStep(WorkflowStep):
    value: Template | None = None
    kind = "return"


@dataclass
class StepsStep(WorkflowStep):
    body: Block | None = None
    kind = "steps"


@dataclass
class Block:
    """A list of steps run in order; `index` finds a `next` target in it."""

    steps: list[WorkflowStep]
    path: str
    index: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for i, step in enumerate(self.steps):
            self.index.setdefault(step.name, i)


@dataclass
class Param:
    """A subworkflow parameter; `default` is used when the caller omits it."""

    name: str
    default: Template | None
    required: bool


@dataclass
class Subworkflow:
    name: str
    params: list[Param]
    body: Block


@dataclass
class Workflow:
    """A parsed workflow: `main` and its subworkflows."""

    subworkflows: dict[str, Subworkflow]
    source: str

    @property
    def main(self) -> Subworkflow:
        """The entry point."""
        return self.subworkflows["main"]


# --------------------------------------------------------------------------------------- parsing


class _Builder:
    """Builds the model and collects every shape problem instead of stopping at the first."""

    def __init__(self) -> None:
        self.issues: list[Issue] = []

    def issue(self, path: str, message: str) -> None:
        self.issues.append(Issue(path, message))

    def known_keys(self, data: dict[Any, Any], known: set[str], path: str, what: str) -> None:
        """An issue naming the keys of `data` outside `known` (`what` says where they are)."""
        unknown = sorted(set(map(str, data)) - known)
        if unknown:
            self.issue(path, f"unknown key(s) {', '.join(unknown)} in {what}")

    def template(self, data: Any, path: str) -> Template:
        problems: list[str] = []
        tpl = compile_template(data, problems)
        for problem in problems:
            self.issue(path, problem)
        return tpl

    def variable(self, value: Any, path: str, what: str) -> str:
        if not isinstance(value, str) or not _VARIABLE.match(value):
            self.issue(path, f"{what} must be a variable name (letters, digits, _), not {value!r}")
            return "_invalid_"
        return value

    def target(self, text: Any, path: str) -> AssignTarget | None:
        if not isinstance(text, str):
            self.issue(path, f"assignment target must be a string, not {text!r}")
            return None
        try:
            node = parse(text)
        except WorkflowError as err:
            self.issue(path, f"bad assignment target {text!r}: {err.value['message']}")
            return None
        segments: list[tuple[str, Compiled | str]] = []
        while isinstance(node, Attr | Index):
            if isinstance(node, Attr):
                segments.append(("key", node.name))
            else:
                segments.append(("index", compile_node(node.index)))
            node = node.obj
        if not isinstance(node, Name):
            self.issue(path, f"assignment target {text!r} must start with a variable name")
            return None
        return AssignTarget(text, node.name, tuple(reversed(segments)))

    # -- blocks and steps

    def block(self, data: Any, path: str) -> Block:
        if not isinstance(data, list) or not data:
            self.issue(path, "steps must be a non-empty list of single-key maps")
            return Block([], path)
        steps = []
        for i, entry in enumerate(data):
            if not isinstance(entry, dict) or len(entry) != 1:
                self.issue(f"{path}[{i}]", "each step must be a map with exactly one key, its name")
                continue
            ((name, body),) = entry.items()
            steps.append(self.step(str(name), body, f"{path}/{name}"))
        return Block(steps, path)

    def step(self, name: str, body: Any, path: str) -> WorkflowStep:
        if not isinstance(body, dict):
            self.issue(path, "a step must be a map (assign, call, switch, ...)")
            return WorkflowStep(name, path, None)
        kinds = [k for k in KINDS if k in body]
        if len(kinds) > 1:
            self.issue(path, f"a step has one kind, this one has {', '.join(kinds)}")
        kind = kinds[0] if kinds else "next"
        self.known_keys(body, ALLOWED[kind], path, f"a {kind} step")
        nxt = body.get("next")
        if nxt is not None and not isinstance(nxt, str):
            self.issue(path, f"next must be a step name, end, break or continue; not {nxt!r}")
            nxt = None
        if kind == "next" and nxt is None:
            self.issue(path, "empty step: give it assign, call, switch, for, ... or next")
        return getattr(self, f"_{kind}")(name, path, nxt, body)

    def entries(self, items: Any, path: str, shape: str, most: int, over: str) -> list[Any]:
        """The entries of a step's list (assign, switch): `shape` is the issue when it is not a
        non-empty list (then none), `over` (with `{}` for the limit) when it has more than
        `most`."""
        if not isinstance(items, list) or not items:
            self.issue(path, shape)
            return []
        if len(items) > most:
            self.issue(path, f"{len(items)} {over.format(most)}")
        return items

    def _next(self, name: str, path: str, nxt: str | None, body: dict[str, Any]) -> WorkflowStep:
        return WorkflowStep(name, path, nxt)

    def _assign(self, name: str, path: str, nxt: str | None, body: dict[str, Any]) -> WorkflowStep:
        step = AssignStep(name, path, nxt)
        items = self.entries(
            body["assign"],
            path,
            "assign must be a non-empty list of `- name: value` entries",
            MAX_ASSIGNMENTS,
            "assignments; at most {} per step",
        )
        for i, item in enumerate(items):
            where = f"{path}/assign[{i}]"
            if not isinstance(item, dict) or len(item) != 1:
                self.issue(where, "each assignment is a map with one key: `- name: value`")
                continue
            ((target_text, value),) = item.items()
            target = self.target(target_text, where)
            if target is not None:
                step.assignments.append((target, self.template(value, where)))
        return step

    def _call(self, name: str, path: str, nxt: str | None, body: dict[str, Any]) -> WorkflowStep:
        function = body["call"]
        if not isinstance(function, str) or not function:
            self.issue(path, f"call must name a function or subworkflow, not {function!r}")
            function = ""
        args = body.get("args")
        # A list gives the arguments by position, as the sys.log page's "argsList" examples do
        # (https://cloud.google.com/workflows/docs/reference/stdlib/sys/log); the checker allows
        # it only for standard-library functions.
        if args is not None and not isinstance(args, dict | list):
            self.issue(path, "args must be a map of argument names to values, or a list")
            args = None
        result = body.get("result")
        if result is not None:
            result = self.variable(result, path, "result")
        tpl = None if args is None else self.template(args, f"{path}/args")
        return CallStep(name, path, nxt, function=function, args=tpl, result=result)

    def _switch(self, name: str, path: str, nxt: str | None, body: dict[str, Any]) -> WorkflowStep:
        step = SwitchStep(name, path, nxt)
        items = self.entries(
            body["switch"],
            path,
            "switch must be a non-empty list of conditions",
            MAX_CONDITIONS,
            "conditions; at most {} per switch",
        )
        for i, item in enumerate(items):
            where = f"{path}/condition[{i}]"
            if not isinstance(item, dict) or "condition" not in item:
                self.issue(where, "each switch entry needs a `condition`")
                continue
            rest = {k: v for k, v in item.items() if k not in ("condition", "next")}
            inner = self.step(name, rest, where) if rest else None
            if inner is not None:
                inner.anonymous = True
            cond_next = item.get("next")
            if cond_next is not None and not isinstance(cond_next, str):
                self.issue(where, f"next must be a step name, not {cond_next!r}")
                cond_next = None
            cond = item["condition"]
            if not isinstance(cond, bool) and expression_text(cond) is None:
                self.issue(where, f"condition must be true/false or an expression, not {cond!r}")
            step.conditions.append(Condition(self.template(cond, where), inner, cond_next, where))
        return step

    def loop(self, data: Any, path: str) -> Loop | None:
        if not isinstance(data, dict):
            self.issue(path, "for must be a map with value, in or range, and steps")
            return None
        self.known_keys(data, {"value", "index", "in", "range", "steps"}, path, "for")
        value = self.variable(data.get("value"), path, "for value")
        index = data.get("index")
        if index is not None:
            index = self.variable(index, path, "for index")
        if ("in" in data) == ("range" in data):
            self.issue(path, "for needs exactly one of `in` (a list) or `range` ([start, end])")
        items = self.template(data["in"], f"{path}/in") if "in" in data else None
        rng = self.template(data["range"], f"{path}/range") if "range" in data else None
        body = self.block(data.get("steps"), f"{path}/steps")
        return Loop(value, index, items, rng, body)

    def _for(self, name: str, path: str, nxt: str | None, body: dict[str, Any]) -> WorkflowStep:
        return ForStep(name, path, nxt, loop=self.loop(body["for"], f"{path}/for"))

    def _parallel(
        self, name: str, path: str, nxt: str | None, body: dict[str, Any]
    ) -> WorkflowStep:
        spec = body["parallel"]
        step = ParallelStep(name, path, nxt)
        if not isinstance(spec, dict):
            self.issue(path, "parallel must be a map with branches or for")
            return step
        known = {"shared", "concurrency_limit", "exception_policy", "branches", "for"}
        self.known_keys(spec, known, path, "parallel")
        policy = spec.get("exception_policy", "continueAll")
        if policy != "continueAll":
            self.issue(path, f"exception_policy {policy!r}: continueAll is the only policy")
        shared = spec.get("shared", [])
        if not isinstance(shared, list):
            self.issue(path, "shared must be a list of variable names")
            shared = []
        step.shared = [self.variable(s, path, "shared variable") for s in shared]
        if "concurrency_limit" in spec:
            step.concurrency_limit = self.template(spec["concurrency_limit"], path)
        if ("branches" in spec) == ("for" in spec):
            self.issue(path, "parallel needs exactly one of branches or for")
        if "for" in spec:
            step.loop = self.loop(spec["for"], f"{path}/for")
        if "branches" in spec:
            step.branches = self._branches(spec["branches"], path)
        return step

    def _branches(self, data: Any, path: str) -> list[tuple[str, Block]]:
        if not isinstance(data, list):
            self.issue(path, "branches must be a list of named branches")
            return []
        branches = []
        for i, entry in enumerate(data):
            if not isinstance(entry, dict) or len(entry) != 1:
                self.issue(f"{path}/branches[{i}]", "each branch is `- name: {steps: [...]}`")
                continue
            ((bname, bbody),) = entry.items()
            where = f"{path}/{bname}"
            if not isinstance(bbody, dict) or set(bbody) != {"steps"}:
                self.issue(where, "a branch is a map with only `steps`")
                continue
            branches.append((str(bname), self.block(bbody["steps"], f"{where}")))
        return branches

    def _try(self, name: str, path: str, nxt: str | None, body: dict[str, Any]) -> WorkflowStep:
        step = TryStep(name, path, nxt)
        inner = body["try"]
        if isinstance(inner, list):
            step.body = self.block(inner, f"{path}/try")
        else:
            if isinstance(inner, dict) and "for" in inner:
                # https://cloud.google.com/workflows/docs/issues, "Placement of for directly
                # after try": "you cannot deploy the workflow ... error in step try: loop step
                # name should not be empty"; "The workaround is to add a named step after the
                # try".
                self.issue(
                    f"{path}/try",
                    "a for loop directly under try cannot be deployed (loop step name should not "
                    "be empty); put it in a named step: try: steps: - loopStep: for: ...",
                )
            single = self.step(name, inner, f"{path}/try")
            single.anonymous = True
            step.body = Block([single], f"{path}/try")
        if "retry" in body:
            step.retry = self.retry(body["retry"], f"{path}/retry")
        if "except" in body:
            step.has_except = True
            exc = body["except"]
            if not isinstance(exc, dict) or not set(exc) <= {"as", "steps"}:
                self.issue(f"{path}/except", "except is a map with `as` and `steps`")
            else:
                if "as" in exc:
                    step.except_as = self.variable(exc["as"], f"{path}/except", "except as")
                # "Note that the steps block is optional." (catching-errors page): an except
                # without steps swallows the error.
                if "steps" in exc:
                    step.except_body = self.block(exc["steps"], f"{path}/except")
        if step.retry is None and not step.has_except:
            self.issue(path, "try needs retry, except, or both")
        return step

    def retry(self, data: Any, path: str) -> Retry:
        if isinstance(data, str):
            if expression_text(data) is None:
                self.issue(path, "retry must be a policy expression such as ${http.default_retry}")
            return Retry(self.template(data, path), None, None, None, None, None)
        if not isinstance(data, dict):
            self.issue(path, "retry must be a policy expression or a map")
            return Retry(None, None, None, None, None, None)
        self.known_keys(data, {"predicate", "max_retries", "backoff"}, path, "retry")
        backoff = data.get("backoff", {})
        if not isinstance(backoff, dict):
            self.issue(path, "backoff must be a map of initial_delay, max_delay, multiplier")
            backoff = {}
        self.known_keys(backoff, {"initial_delay", "max_delay", "multiplier"}, path, "backoff")

        def part(mapping: dict[str, Any], key: str) -> Template | None:
            return self.template(mapping[key], f"{path}/{key}") if key in mapping else None

        if "predicate" not in data:
            self.issue(
                path, "retry needs a predicate (a subworkflow or http.default_retry_predicate)"
            )
        return Retry(
            None,
            part(data, "predicate"),
            part(data, "max_retries"),
            part(backoff, "initial_delay"),
            part(backoff, "max_delay"),
            part(backoff, "multiplier"),
        )

    def _raise(self, name: str, path: str, nxt: str | None, body: dict[str, Any]) -> WorkflowStep:
        return RaiseStep(name, path, nxt, value=self.template(body["raise"], path))

    def _return(self, name: str, path: str, nxt: str | None, body: dict[str, Any]) -> WorkflowStep:
        return ReturnStep(name, path, nxt, value=self.template(body["return"], path))

    def _steps(self, name: str, path: str, nxt: str | None, body: dict[str, Any]) -> WorkflowStep:
        return StepsStep(name, path, nxt, body=self.block(body["steps"], f"{path}"))

    # -- the whole document

    def params(self, data: Any, path: str, main: bool) -> list[Param]:
        if data is None:
            return []
        if not isinstance(data, list):
            self.issue(path, "params must be a list")
            return []
        if main and len(data) > 1:
            self.issue(path, "main takes at most one parameter (the execution argument)")
        params = []
        for item in data:
            if isinstance(item, dict) and len(item) == 1 and not main:
                ((pname, default),) = item.items()
                name = self.variable(pname, path, "parameter")
                params.append(Param(name, self.template(default, f"{path}/{pname}"), False))
            else:
                params.append(Param(self.variable(item, path, "parameter"), None, True))
        names = [p.name for p in params]
        for dup in sorted({n for n in names if names.count(n) > 1}):
            self.issue(path, f"parameter {dup} is declared twice")
        return params

    def workflow(self, doc: Any, source: str) -> Workflow:
        subs: dict[str, Subworkflow] = {}
        if isinstance(doc, list):
            subs["main"] = Subworkflow("main", [], self.block(doc, "main"))
            return Workflow(subs, source)
        if not isinstance(doc, dict):
            self.issue("", "a workflow is a list of steps or a map with `main` and subworkflows")
            return Workflow(subs, source)
        if "main" not in doc:
            self.issue("", "a workflow with subworkflows needs a `main` block")
        for key, body in doc.items():
            name = str(key)
            if not isinstance(body, dict) or "steps" not in body:
                self.issue(name, "a (sub)workflow is a map with `steps` and optional `params`")
                continue
            self.known_keys(body, {"params", "steps"}, name, f"subworkflow {name}")
            params = self.params(body.get("params"), f"{name}/params", name == "main")
            subs[name] = Subworkflow(name, params, self.block(body["steps"], name))
        return Workflow(subs, source)


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object whose keys are unique (RFC 8259 only says they SHOULD be: strict here)."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise DefinitionError([Issue("", f"not valid JSON: key {key!r} is written twice")])
        out[key] = value
    return out


def read_document(source: str) -> Any:
    """Parse YAML (or JSON, a subset) the way Workflows does."""
    if len(source.encode()) > MAX_SOURCE_BYTES:
        raise DefinitionError(
            [Issue("", f"source is {len(source.encode())} bytes; the limit is {MAX_SOURCE_BYTES}")]
        )
    try:
        if source.lstrip().startswith(("{", "[")):
            try:
                return json.loads(source, object_pairs_hook=_unique_pairs)
            except json.JSONDecodeError:
                pass
        return yaml.load(source, Loader=_WorkflowLoader)
    except yaml.YAMLError as err:
        raise DefinitionError([Issue("", f"not valid YAML: {err}")]) from err


def parse_workflow(source: str) -> tuple[Workflow, list[Issue]]:
    """The model and the shape problems found while building it."""
    builder = _Builder()
    workflow = builder.workflow(read_document(source), source)
    return workflow, builder.issues


def iter_steps(block: Block) -> Iterator[WorkflowStep]:
    """Every step in a block and in the blocks nested in it."""
    for step in block.steps:
        yield step
        yield from child_steps(step)


def child_steps(step: WorkflowStep) -> Iterator[WorkflowStep]:
    """The steps nested inside one step."""
    for block in child_blocks(step):
        yield from iter_steps(block)
    if isinstance(step, SwitchStep):
        for cond in step.conditions:
            if cond.body is not None:
                yield cond.body
                yield from child_steps(cond.body)


def child_blocks(step: WorkflowStep) -> Iterator[Block]:
    """The blocks directly inside one step (not inside switch conditions' inline steps)."""
    if isinstance(step, ForStep) and step.loop:
        yield step.loop.body
    elif isinstance(step, ParallelStep):
        if step.loop:
            yield step.loop.body
        for _, block in step.branches:
            yield block
    elif isinstance(step, TryStep):
        if step.body:
            yield step.body
        if step.except_body:
            yield step.except_body
    elif isinstance(step, StepsStep) and step.body:
        yield step.body


def expressions_of(step: WorkflowStep) -> Iterator[Node]:
    """The expression trees a step evaluates itself (not those of nested steps)."""
    templates: list[Template | None] = []
    if isinstance(step, AssignStep):
        templates = [t for _, t in step.assignments]
    elif isinstance(step, CallStep):
        templates = [step.args]
    elif isinstance(step, SwitchStep):
        templates = [c.condition for c in step.conditions]
    elif isinstance(step, ForStep | ParallelStep) and step.loop:
        templates = [step.loop.items, step.loop.range]
    elif isinstance(step, RaiseStep | ReturnStep):
        templates = [step.value]
    if isinstance(step, ParallelStep):
        templates.append(step.concurrency_limit)
    if isinstance(step, TryStep) and step.retry:
        r = step.retry
        templates = [
            r.policy,
            r.predicate,
            r.max_retries,
            r.initial_delay,
            r.max_delay,
            r.multiplier,
        ]
    for tpl in templates:
        if tpl is not None:
            yield from tpl.expressions()
