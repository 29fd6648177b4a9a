"""Relay state URLs (where the AWS sign-in endpoint sends the browser after SAML) and SAML sign-in endpoints.

Amazon Connect supports only IdP-initiated sign-in: the IdP posts the assertion to the AWS sign-in endpoint
with one of these relay states, and the Connect federation page signs the user in to the instance.
"""

from collections.abc import Sequence

from connect_sso_admin.agent_sso.aws_names import InvalidName, partition_of, require_instance_id, require_region

# new_domain=true: AWS's "Update your Amazon Connect domain" guide asks it of every relay state (my.connect.aws).
ADMIN_DESTINATION = "?new_domain=true"
AGENT_CCP_DESTINATION = "?destination=%2Fccp-v2%2Fchat&new_domain=true"
AGENT_WORKSPACE_DESTINATION = "?destination=%2Fagent-app-v2&new_domain=true"


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
        "admin": base + ADMIN_DESTINATION,
        "agent-ccp": base + AGENT_CCP_DESTINATION,
        "agent-workspace": base + AGENT_WORKSPACE_DESTINATION,
    }


def reply_urls(region: str, extra_regions: Sequence[str] = (), include_global: bool = False) -> list[str]:
    """The IdP's reply URLs: the regional sign-in endpoint of the instance's region first (the default one, as
    Amazon Connect's SAML guide recommends), then further regions, then the global endpoint only when asked."""
    govcloud = partition_of(region) == "aws-us-gov"
    urls = [_regional_endpoint(region, govcloud)]
    urls += [url for url in (_regional_endpoint(r, govcloud) for r in extra_regions) if url not in urls]
    if include_global:
        urls.append(_global_endpoint(govcloud))
    return urls


def _domain(govcloud: bool) -> str:
    return "signin.amazonaws-us-gov.com" if govcloud else "signin.aws.amazon.com"


def _global_endpoint(govcloud: bool) -> str:
    return f"https://{_domain(govcloud)}/saml"


def _regional_endpoint(region: str, govcloud: bool) -> str:
    if (partition_of(region) == "aws-us-gov") != govcloud:
        raise InvalidName(f"region {region} is not in the same AWS partition as the sign-in endpoint")
    return f"https://{require_region(region)}.{_domain(govcloud)}/saml"
