"""The effective IAM policy the Pulumi program grants, exported for the local twin to enforce:
every identity's permissions on every resource (roles expanded with the permission model's
role table and the program's custom roles, conditions kept), computed offline in Pulumi's mock
runtime from the same grants `make plan` checks. Not a second copy: edit infra, re-export.

Usage: python -m baton_infra.policy [STACK_FILE] [--out FILE]   (default: the example stack,
to stdout). Then `BATON_TWIN_IAM=enforce BATON_TWIN_POLICY=FILE baton run ...`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TextIO

from baton.errors import BatonError, ConfigError, ExitCode
from baton.iam import Binding, Deployment, Policy
from baton.jobs import load_jobs
from baton_infra.effective_access import identity_of, role_permissions
from baton_infra.iam_graph import iam_graph, identities
from baton_infra.mock_runtime import Recording, config_values, run_offline
from baton_infra.plan import EXAMPLE_STACK
from baton_infra.workflow_source import read_workflow_source, repo_root

CALLERS = ("workflow", "scheduler", "trigger", "gc", "gc-scheduler")
"""The callers besides the steps whose identity the twin needs to know (the gc job and its
scheduler run only on GCP, but the exported policy covers every caller of the model)."""


def _emails(recording: Recording) -> dict[str, str]:
    """Account id -> email for the program's service accounts."""
    return {
        account: member.removeprefix("serviceAccount:")
        for member, account in identities(recording).items()
    }


def _email(identity: str, emails: dict[str, str]) -> str:
    return emails.get(identity) or identity.split(":", 1)[-1]


def effective_policy(recording: Recording, source: str = "") -> Policy:
    """The policy of one offline run; ConfigError when a grant names a role the model lacks
    (its permissions would be a guess)."""
    config, grants = recording.config, iam_graph(recording)
    roles, emails = role_permissions(recording), _emails(recording)
    unknown = sorted({g.role for g in grants if g.role not in roles})
    if unknown:
        raise ConfigError(
            f"role(s) {', '.join(unknown)} are not in baton.permission_model: add their "
            "permissions from Google's IAM roles reference before exporting the policy",
            reason="role_unknown",
        )
    callers = [f"step:{job.name}" for job in load_jobs()] + list(CALLERS)
    who_is = {who: identity_of(who, config, grants) for who in callers}
    bindings: dict[str, list[Binding]] = {}
    for g in grants:
        bindings.setdefault(_email(g.identity, emails), []).extend(
            Binding(permission, g.resource, g.expression) for permission in sorted(roles[g.role])
        )
    deployment = Deployment(
        project=config.project,
        region=config.region,
        lake_bucket=config.lake_bucket,
        lake_prefix=config.lake_prefix,
        job_prefix=config.job_prefix,
        bq_dataset=config.bq_dataset,
        workflow=f"{config.name}-pipeline",
    )
    return Policy(
        deployment,
        {who: _email(i, emails) for who, i in who_is.items() if i is not None},
        {email: tuple(b) for email, b in bindings.items()},
        source,
    )


def export(stack_file: Path) -> Policy:
    """The effective policy of the stack file, from one offline run of the program."""
    recording = run_offline(config_values(stack_file), read_workflow_source(), "policy")
    return effective_policy(recording, f"{stack_file} (Pulumi mock runtime)")


def main(argv: list[str], out: TextIO = sys.stdout, root: Path | None = None) -> int:
    """Print (or write with --out FILE) the policy of the stack file; the exit code."""
    args = list(argv)
    target = None
    if "--out" in args:
        at = args.index("--out")
        if at + 1 >= len(args):
            print("--out needs a file name", file=sys.stderr)
            return int(ExitCode.USAGE)
        target = Path(args.pop(at + 1))
        args.pop(at)
    stack_file = Path(args[0]) if args else (root or repo_root()) / EXAMPLE_STACK
    if not stack_file.is_file():
        print(f"stack file {stack_file} not found; pass infra/Pulumi.<stack>.yaml", file=sys.stderr)
        return int(ExitCode.USAGE)
    try:
        text = json.dumps(export(stack_file).to_json(), indent=1) + "\n"
    except BatonError as err:
        print(f"{stack_file}: {err.message}", file=sys.stderr)
        return int(err.exit_code)
    if target is None:
        out.write(text)
        return 0
    try:
        target.write_text(text)
    except OSError as err:
        print(f"cannot write {target}: {err.strerror or err}", file=sys.stderr)
        return int(ExitCode.CONFIG)
    print(f"wrote the IAM policy of {stack_file} to {target}", file=out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
