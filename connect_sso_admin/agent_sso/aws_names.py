"""AWS names and ARNs the SAML set-up is built from, validated before they reach an IdP or a template."""

import re
from dataclasses import dataclass

_REGION = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d{1,2}$")
_INSTANCE_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_ACCOUNT = re.compile(r"^\d{12}$")
_ROLE_NAME = re.compile(r"^[\w+=,.@-]{1,64}$", re.ASCII)
_PROVIDER_NAME = re.compile(r"^[\w.-]{1,128}$", re.ASCII)
_INSTANCE_ARN = re.compile(r"^arn:(aws|aws-us-gov):connect:([a-z0-9-]+):(\d{12}):instance/([0-9a-f-]{36})$")
_ROLE_ARN = re.compile(r"^arn:(aws|aws-us-gov):iam::(\d{12}):role/(?:[\w+=,.@/-]*/)?([\w+=,.@-]{1,64})$", re.ASCII)
_PROVIDER_ARN = re.compile(r"^arn:(aws|aws-us-gov):iam::(\d{12}):saml-provider/([\w.-]{1,128})$", re.ASCII)

# Microsoft Graph: an app role value is at most 120 characters (appRole resource type).
ENTRA_APP_ROLE_VALUE_MAX = 120


class InvalidName(ValueError):
    """A name or ARN that AWS or the IdP would refuse."""


def _require(pattern: re.Pattern[str], value: str, problem: str) -> str:
    if not pattern.fullmatch(value):
        raise InvalidName(f"{value!r} {problem}")
    return value


def require_region(region: str) -> str:
    return _require(_REGION, region, "is not an AWS region name such as eu-west-2 or us-gov-west-1")


def require_instance_id(instance_id: str) -> str:
    return _require(
        _INSTANCE_ID,
        instance_id,
        "is not an Amazon Connect instance id (a lower-case UUID, the end of the instance ARN)",
    )


def require_account(account: str) -> str:
    return _require(_ACCOUNT, account, "is not a 12-digit AWS account id")


def require_role_name(name: str) -> str:
    return _require(_ROLE_NAME, name, "is not a valid IAM role name (1-64 of letters, digits and +=,.@_-)")


def require_provider_name(name: str) -> str:
    return _require(_PROVIDER_NAME, name, "is not a valid IAM SAML provider name (1-128 of letters, digits and ._-)")


def partition_of(region: str) -> str:
    return "aws-us-gov" if require_region(region).startswith("us-gov-") else "aws"


@dataclass(frozen=True)
class ConnectInstance:
    region: str
    instance_id: str
    account: str | None = None  # known when given as an ARN

    @classmethod
    def from_arn(cls, arn: str) -> "ConnectInstance":
        match = _INSTANCE_ARN.fullmatch(arn)
        if not match:
            raise InvalidName(
                f"{arn!r} is not an Amazon Connect instance ARN (arn:aws:connect:REGION:ACCOUNT:instance/ID)"
            )
        return cls(require_region(match.group(2)), require_instance_id(match.group(4)), match.group(3))


def role_arn(account: str, role_name: str, partition: str = "aws") -> str:
    return f"arn:{partition}:iam::{require_account(account)}:role/{require_role_name(role_name)}"


def provider_arn(account: str, provider_name: str, partition: str = "aws") -> str:
    return f"arn:{partition}:iam::{require_account(account)}:saml-provider/{require_provider_name(provider_name)}"


def require_provider_arn(arn: str) -> str:
    return _require(_PROVIDER_ARN, arn, "is not an IAM SAML provider ARN (arn:aws:iam::ACCOUNT:saml-provider/NAME)")


def provider_account(arn: str) -> str:
    """The AWS account that holds an IAM SAML provider."""
    match = _PROVIDER_ARN.fullmatch(require_provider_arn(arn))
    assert match is not None  # noqa: S101 -- require_provider_arn just matched it
    return match.group(2)


def role_claim_value(role: str, provider: str) -> str:
    """The ``https://aws.amazon.com/SAML/Attributes/Role`` value: ``roleArn,providerArn`` of one account."""
    role_match = _ROLE_ARN.fullmatch(role)
    if not role_match:
        raise InvalidName(f"{role!r} is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)")
    provider_match = _PROVIDER_ARN.fullmatch(require_provider_arn(provider))
    assert provider_match is not None  # noqa: S101 -- require_provider_arn just matched it
    if role_match.group(1, 2) != provider_match.group(1, 2):
        raise InvalidName("the role and the SAML provider must be in the same AWS partition and account")
    value = f"{role},{provider}"
    if len(value) > ENTRA_APP_ROLE_VALUE_MAX:
        raise InvalidName(
            f"the Role claim value is {len(value)} characters; an Entra ID app role value holds at most "
            f"{ENTRA_APP_ROLE_VALUE_MAX}: use shorter role or provider names"
        )
    return value
