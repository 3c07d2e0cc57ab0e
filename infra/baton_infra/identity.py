"""Service accounts: one per job or trigger, never shared; the IAM member string of an
identity; and the project-level roles some of them need."""

from __future__ import annotations

import pulumi
import pulumi_gcp as gcp


def service_account(
    resource_name: str, project: str, account_id: str, purpose: str, parent: pulumi.Resource
) -> gcp.serviceaccount.Account:
    """A dedicated service account whose description says what it may do."""
    return gcp.serviceaccount.Account(
        resource_name,
        project=project,
        account_id=account_id,
        display_name=f"baton {account_id}",
        description=purpose,
        opts=pulumi.ResourceOptions(parent=parent),
    )


def member(email: pulumi.Input[str]) -> pulumi.Output[str]:
    """`serviceAccount:<email>`, the form every IAM binding takes."""
    return pulumi.Output.from_input(email).apply(lambda e: f"serviceAccount:{e}")


def project_role(
    resource_name: str,
    project: str,
    role: pulumi.Input[str],
    who: pulumi.Input[str],
    parent: pulumi.Resource,
) -> gcp.projects.IAMMember:
    """`role` on the whole project, for permissions that exist only at project level."""
    return gcp.projects.IAMMember(
        resource_name,
        project=project,
        role=role,
        member=who,
        opts=pulumi.ResourceOptions(parent=parent),
    )
