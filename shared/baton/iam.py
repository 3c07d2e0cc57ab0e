"""IAM as Google's APIs check it, the part doctor and infra share: whether an IAM condition of
the kind baton grants holds for a resource name (the lake's object-prefix conditions,
https://cloud.google.com/iam/docs/conditions-resource-attributes#resource-name).
"""

from __future__ import annotations

import re

_TERM = re.compile(r'(!?)resource\.name\.(startsWith|endsWith)\("([^"]*)"\)\Z')


def condition_holds(expression: str | None, resource_name: str) -> bool:
    """Evaluate a baton lake condition (`&&` of [!]resource.name.startsWith/endsWith) on a
    name. Any other CEL is refused rather than guessed."""
    if expression is None:
        return True
    for term in expression.split("&&"):
        match = _TERM.match(term.strip())
        if match is None:
            raise ValueError(f"condition term the model cannot evaluate: {term.strip()!r}")
        negated, test, value = match.groups()
        hit = (
            resource_name.startswith(value)
            if test == "startsWith"
            else resource_name.endswith(value)
        )
        if hit == bool(negated):
            return False
    return True
