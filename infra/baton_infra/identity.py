"""Service accounts: one per job or trigger, never shared, and the IAM member string of each."""

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


def member(account: gcp.serviceaccount.Account) -> pulumi.Output[str]:
    """`serviceAccount:<email>`, the form every IAM binding takes."""
    return account.email.apply(lambda email: f"serviceAccount:{email}")
