"""`baton workflow conform`'s cases and verdicts: the conformance cases
(tests/engine/conformance/*.yaml), the probes of behaviours the documentation leaves unsaid,
and the comparison of what the local engine did with what Cloud Workflows did.

Pure: the command reads the case files and runs both sides; this module turns YAML text into
`Case`s and pairs of `Outcome`s into `Verdict`s. A case that lowers the engine's limits
(`limits:`) cannot be run on the service, whose limits are fixed, and is skipped.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

import yaml

from baton.errors import ConfigError

Kind = Literal["result", "error", "refused"]


@dataclass(frozen=True)
class Case:
    """One workflow to run on both sides."""

    name: str  # "<file stem>::<case name>" or "probe::<name>"
    source: str
    argument: Any = None
    env: dict[str, str] = field(default_factory=dict)
    skip: str = ""  # why the case cannot run on the service ("" when it can)
    question: str = ""  # for a probe: the undocumented behaviour it asks about


@dataclass(frozen=True)
class Outcome:
    """What one side did: a result, a raised error value, or a refused definition/argument."""

    kind: Kind
    value: Any = None

    def show(self, width: int = 60) -> str:
        """A one-line rendering for the table."""
        text = f"{self.kind}: {_compact(self.value)}"
        return text if len(text) <= width else text[: width - 3] + "..."


@dataclass(frozen=True)
class Verdict:
    """Whether the twin agrees with the service on one case, and where not, how."""

    case: Case
    local: Outcome | None
    remote: Outcome | None
    agree: bool
    note: str = ""

    @property
    def label(self) -> str:
        """agree, differ or skipped."""
        if self.local is None or self.remote is None:
            return "skipped"
        return "agree" if self.agree else "differ"


def _compact(value: Any) -> str:
    return (
        yaml.safe_dump(value, default_flow_style=True, width=1 << 16)
        .strip()
        .removesuffix("...")
        .strip()
    )


def case_source(case: dict[str, Any]) -> str:
    """The workflow a conformance case runs: its `workflow`, or one returning its `expr`."""
    if "expr" in case:
        return yaml.safe_dump(
            {"main": {"steps": [{"r": {"return": "${" + str(case["expr"]) + "}"}}]}}
        )
    workflow = case["workflow"]
    return workflow if isinstance(workflow, str) else yaml.safe_dump(workflow, sort_keys=False)


def parse_cases(stem: str, text: str) -> list[Case]:
    """The cases of one conformance file; ConfigError naming the file and case when malformed."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise ConfigError(f"{stem}.yaml is not YAML: {err}", reason="bad_conformance_file") from err
    if not isinstance(raw, dict) or not isinstance(raw.get("cases"), list):
        raise ConfigError(
            f"{stem}.yaml: expected a map with a `cases:` list", reason="bad_conformance_file"
        )
    cases = []
    for index, case in enumerate(raw["cases"]):
        if (
            not isinstance(case, dict)
            or "name" not in case
            or not ({"expr", "workflow"} & set(case))
        ):
            raise ConfigError(
                f"{stem}.yaml case #{index + 1}: needs `name` and `expr` or `workflow`",
                reason="bad_conformance_file",
            )
        skip = "lowers the engine's limits; the service's are fixed" if "limits" in case else ""
        cases.append(
            Case(
                name=f"{stem}::{case['name']}",
                source=case_source(case),
                argument=case.get("argument"),
                env={str(k): str(v) for k, v in (case.get("env") or {}).items()},
                skip=skip,
            )
        )
    return cases


def _expr_probe(name: str, expr: str, question: str) -> Case:
    return Case(f"probe::{name}", case_source({"expr": expr}), question=question)


JOBS_RUN_PROBE = """\
main:
  steps:
    - run:
        try:
          call: googleapis.run.v2.projects.locations.jobs.run
          args:
            name: ${"projects/" + sys.get_env("GOOGLE_CLOUD_PROJECT_ID") + "/locations/" + sys.get_env("GOOGLE_CLOUD_LOCATION") + "/jobs/baton-conform-no-such-job"}
            body: {}
        except:
          as: e
          steps:
            - shape:
                return:
                  tags: ${default(map.get(e, "tags"), [])}
                  code: ${default(map.get(e, "code"), null)}
                  keys: ${keys(e)}
    - unreachable:
        return: "jobs.run of a missing job succeeded"
"""

PROBES = (
    _expr_probe(
        "get_type_names",
        '[get_type(1), get_type(1.5), get_type("s"), get_type(true), get_type(null), '
        'get_type([]), get_type({}), get_type(text.encode("b"))]',
        'the names get_type returns (the YAML compares them with "bool", "integer", "map")',
    ),
    _expr_probe(
        "text_substring_end_past_the_string",
        'text.substring("abc", 0, 300)',
        "does text.substring clamp an end past the string, or raise?",
    ),
    _expr_probe(
        "text_substring_start_past_the_string",
        'text.substring("abc", 5, 9)',
        "text.substring with a start past the string",
    ),
    _expr_probe(
        "text_substring_end_before_start",
        'text.substring("abcdef", 4, 2)',
        "text.substring with the end before the start",
    ),
    _expr_probe(
        "text_substring_negative_start",
        'text.substring("abc", -1, 2)',
        "text.substring with a negative start",
    ),
    _expr_probe(
        "math_min_of_len_clamps",
        'text.substring("abc", 0, math.min(len("abc"), 300))',
        "the clamped form the pipeline YAML uses",
    ),
    Case(
        "probe::jobs_run_error_shape",
        JOBS_RUN_PROBE,
        question="the error map jobs.run raises for a job that does not exist (tags, code, keys)",
    ),
)


def strictly_equal(a: Any, b: Any) -> bool:
    """Equality that tells 1, 1.0 and true apart, recursively."""
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(strictly_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(strictly_equal(v, b[k]) for k, v in a.items())
    return a == b


def _error_key(value: Any) -> tuple[Any, ...]:
    """What two raised errors must share to agree: the raised value itself for a string or
    number, else the tag set and the code (messages are the service's own words)."""
    if not isinstance(value, dict):
        return ("value", _compact(value))
    return ("map", tuple(sorted(str(t) for t in value.get("tags") or [])), value.get("code"))


def compare(case: Case, local: Outcome, remote: Outcome) -> Verdict:
    """The verdict on one case run on both sides."""
    if local.kind != remote.kind:
        stricter = local.kind in ("error", "refused") and remote.kind == "result"
        note = (
            "the twin is stricter than the service"
            if stricter
            else "the twin accepts what the service does not"
        )
        return Verdict(case, local, remote, False, note)
    if local.kind == "refused":
        return Verdict(case, local, remote, True, "both refuse the definition")
    if local.kind == "result":
        same = strictly_equal(local.value, remote.value)
        return Verdict(case, local, remote, same, "" if same else "different results")
    same = _error_key(local.value) == _error_key(remote.value)
    if not same:
        return Verdict(case, local, remote, False, "different errors (tags, code or raised value)")
    worded = isinstance(local.value, dict) and local.value.get("message") != remote.value.get(
        "message"
    )
    return Verdict(
        case, local, remote, True, "same tags and code; messages differ" if worded else ""
    )


def skipped(case: Case) -> Verdict:
    """The verdict on a case that cannot run on the service."""
    return Verdict(case, None, None, True, case.skip)


def select(cases: Iterable[Case], match: str | None) -> list[Case]:
    """The cases whose name contains `match` (all when None)."""
    return [c for c in cases if not match or match in c.name]


def summary(verdicts: Iterable[Verdict]) -> dict[str, int]:
    """How many cases agree, differ and were skipped."""
    counts = {"agree": 0, "differ": 0, "skipped": 0}
    for verdict in verdicts:
        counts[verdict.label] += 1
    return counts
