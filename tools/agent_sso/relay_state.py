"""Relay state URLs (where the AWS sign-in endpoint sends the browser after SAML) and SAML sign-in endpoints.

Amazon Connect supports only IdP-initiated sign-in: the IdP posts the assertion to the AWS sign-in endpoint
with one of these relay states, and the Connect federation page signs the user in to the instance.
"""

from collections.abc import Sequence

from tools.agent_sso.aws_names import InvalidName, partition_of, require_instance_id, require_region

AGENT_CCP_DESTINATION = "?destination=%2Fccp-v2%2Fchat&new_domain=true"
AGENT_WORKSPACE_DESTINATION = "?destination=%2Fagent-app-v2"


def federate_url(region: str, instance_id: str) -> str:
    """The instance's federation page: administrators land on the Connect admin website from here."""
    require_instance_id(instance_id)
    if partition_of(region) == "aws-us-gov":
        return f"https://console.amazonaws-us-gov.com/connect/federate/{instance_id}"
    return f"https://{region}.console.aws.amazon.com/connect/federate/{instance_id}"


def relay_states(region: str, instance_id: str) -> dict[str, str]:
    """Relay state per audience: ``admin``, ``agent-ccp`` (Contact Control Panel), ``agent-workspace``."""
    base = federate_url(region, instance_id)
    return {
        "admin": base,
        "agent-ccp": base + AGENT_CCP_DESTINATION,
        "agent-workspace": base + AGENT_WORKSPACE_DESTINATION,
    }


def signin_endpoints(govcloud: bool, regional: Sequence[str] = ()) -> list[str]:
    """SAML sign-in endpoints (the IdP's reply URL, the role's SAML:aud): global first, then regional ones."""
    domain = "signin.amazonaws-us-gov.com" if govcloud else "signin.aws.amazon.com"
    endpoints = [f"https://{domain}/saml"]
    for region in regional:
        if (partition_of(region) == "aws-us-gov") != govcloud:
            raise InvalidName(f"region {region} is not in the same AWS partition as the sign-in endpoint")
        endpoints.append(f"https://{require_region(region)}.{domain}/saml")
    return endpoints
