"""The roles infra/azure grants (a test keeps this set equal to the role assignments in the Bicep), and the
condition that lets the pipeline identity assign those roles and no other.

`azd pipeline config` gives the pipeline identity Contributor + User Access Administrator on the subscription by
default: any workflow that can get its token could then make itself Owner. Narrowed, it holds Contributor and
"Role Based Access Control Administrator" with an ABAC condition: it may create or delete role assignments only of
the role definitions below.
"""

from __future__ import annotations

# Built-in role definition ids (the same in every Azure cloud).
CONTRIBUTOR = "b24988ac-6180-42dd-ab88-20c0ab3fd4f7"
OWNER = "8e3af657-a8ff-4c67-a5d4-b8cdd86dc1d7"
USER_ACCESS_ADMINISTRATOR = "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9"
RBAC_ADMINISTRATOR = "f58310d9-a9f6-439a-9e8d-f62e7b41a168"

# What the template assigns (infra/azure/modules/*.bicep), by name for the reader.
GRANTED_ROLES = {
    "b7e6dc6d-f1e8-4753-8033-0f276bb0955b": "Storage Blob Data Owner",
    "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3": "Storage Table Data Contributor",
    "3913510d-42f4-4e42-8a64-420c390055eb": "Monitoring Metrics Publisher",
    "4633458b-17de-408a-b874-0445c86b69e6": "Key Vault Secrets User",
    "b86a8fe4-44ce-4948-aee5-eccb2c155cd7": "Key Vault Secrets Officer",
    "21090545-7ca7-4776-b22c-e363652d74d2": "Key Vault Reader",
    "516239f1-63e1-4d78-a4de-a74fb236a071": "App Configuration Data Reader",
    "5ae67dd6-50cb-40e7-96ff-dc2bfa4b606b": "App Configuration Data Owner",
}


def assignment_condition(role_ids: frozenset[str] | None = None) -> str:
    """The ABAC condition (version 2.0) limiting role-assignment writes and deletes to ``role_ids``."""
    ids = ", ".join(sorted(role_ids if role_ids is not None else GRANTED_ROLES))
    return (
        "((!(ActionMatches{'Microsoft.Authorization/roleAssignments/write'})) OR "
        f"(@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {{{ids}}}))"
        " AND "
        "((!(ActionMatches{'Microsoft.Authorization/roleAssignments/delete'})) OR "
        f"(@Resource[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {{{ids}}}))"
    )
