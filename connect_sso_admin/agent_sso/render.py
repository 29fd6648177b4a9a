"""Renders the stack-specific template: infra/aws/agent-sso.yaml plus one IAM SAML provider per metadata file.

CloudFormation parameters stop at 4 KB, so federation metadata cannot be a parameter. The rendered template
embeds each validated document in an ``AWS::IAM::SAMLProvider`` (``SamlMetadataDocument``), lets the role
trust all providers (new and existing ARNs), and outputs the exact ``Role`` claim value for each. Output is
deterministic (no timestamps): re-rendering unchanged inputs gives the same bytes, so a diff shows exactly
what a certificate roll changes.
"""

import copy
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from connect_sso_admin.agent_sso.aws_names import (
    provider_account,
    require_account,
    require_instance_id,
    require_provider_arn,
    require_provider_name,
    require_region,
    require_role_name,
)
from connect_sso_admin.agent_sso.cfn_yaml import dump_template, load_template
from connect_sso_admin.agent_sso.findings import Finding, Level
from connect_sso_admin.agent_sso.metadata import MetadataReport

BASE_TEMPLATE = Path(__file__).resolve().parents[2] / "infra" / "aws" / "agent-sso.yaml"
ROLE = "ConnectFederationRole"
# CloudFormation: a template passed inline may have 51,200 bytes; one uploaded to S3, 1 MB.
INLINE_TEMPLATE_LIMIT = 51_200
S3_TEMPLATE_LIMIT = 1_000_000


class RenderError(ValueError):
    """The inputs cannot make a sound template."""


@dataclass(frozen=True)
class NewProvider:
    name: str
    metadata: MetadataReport


@dataclass(frozen=True)
class ExistingProvider:
    name: str
    arn: str


Provider = NewProvider | ExistingProvider


@dataclass(frozen=True)
class StackSettings:
    instance_id: str | None = None
    role_name: str | None = None
    regional_signin: tuple[str, ...] = ()
    max_session_duration: int | None = None
    account_id: str | None = None  # the Connect instance's account: existing providers must be in it
    allow_session_tags: bool = False


@dataclass(frozen=True)
class Rendered:
    text: str
    findings: tuple[Finding, ...]


def _label(name: str) -> str:
    """Alphanumeric logical-id part for a provider name (IAM allows ._- which logical ids do not)."""
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", name) if part)


def _validate(providers: list[Provider], settings: StackSettings) -> list[Finding]:
    if not providers:
        raise RenderError("at least one provider is needed (a metadata file or an existing provider ARN)")
    account = require_account(settings.account_id) if settings.account_id else None
    findings: list[Finding] = []
    labels: dict[str, str] = {}
    for provider in providers:
        require_provider_name(provider.name)
        if isinstance(provider, ExistingProvider):
            require_provider_arn(provider.arn)
            # A role trusts SAML providers of its own account only: another account's ARN can never sign anyone in.
            owner = provider_account(provider.arn)
            if account and owner != account:
                raise RenderError(
                    f"existing provider {provider.name} ({provider.arn}) is in account {owner}, not in the Connect "
                    f"instance's account {account}: create the provider in {account}"
                )
            if not account:
                findings.append(
                    Finding(
                        Level.WARNING,
                        f"cannot check that {provider.name} is in the Connect instance's account: give --instance-arn",
                    )
                )
        elif not provider.metadata.ok:
            raise RenderError(f"metadata for {provider.name} ({provider.metadata.source}) has errors: fix them first")
        label = _label(provider.name)
        if label in labels:
            raise RenderError(f"provider names {labels[label]!r} and {provider.name!r} are too alike (both {label})")
        labels[label] = provider.name
    return findings


def _apply_settings(template: dict[str, Any], settings: StackSettings) -> None:
    parameters = template["Parameters"]
    if settings.instance_id:
        parameters["ConnectInstanceId"]["Default"] = require_instance_id(settings.instance_id)
    if settings.role_name:
        parameters["RoleName"]["Default"] = require_role_name(settings.role_name)
    if settings.regional_signin:
        parameters["RegionalSignInEndpoints"]["Default"] = ",".join(
            require_region(region) for region in settings.regional_signin
        )
    if settings.max_session_duration is not None:
        if not 3600 <= settings.max_session_duration <= 43200:
            raise RenderError("the maximum session duration must be 3600 to 43200 seconds")
        parameters["MaxSessionDuration"]["Default"] = settings.max_session_duration
    if settings.allow_session_tags:
        parameters["AllowSessionTags"]["Default"] = "true"


def _provider_resource(provider: NewProvider) -> dict[str, Any]:
    return {
        "Type": "AWS::IAM::SAMLProvider",
        "Properties": {
            "Name": provider.name,
            "SamlMetadataDocument": provider.metadata.document,
            "Tags": [{"Key": "managed-by", "Value": "connect-sso connect_sso_admin.agent_sso render"}],
        },
    }


def _provider_summary(provider: Provider) -> dict[str, Any]:
    if isinstance(provider, ExistingProvider):
        return {"Name": provider.name, "Arn": provider.arn}
    return {
        "Name": provider.name,
        "EntityId": provider.metadata.entity_id,
        "Source": Path(provider.metadata.source).name,
        "SigningCertificates": [
            {"Sha256": cert.sha256_fingerprint, "NotAfter": f"{cert.not_after:%Y-%m-%dT%H:%M:%SZ}"}
            for cert in provider.metadata.certificates
        ],
    }


def render(base_text: str, providers: list[Provider], settings: StackSettings) -> Rendered:
    """The stack-specific template for ``providers``; raises RenderError when the inputs are unsound."""
    findings = _validate(providers, settings)
    template = copy.deepcopy(load_template(base_text))
    resources, outputs = template["Resources"], template["Outputs"]
    if ROLE not in resources or "SamlProviderArns" not in template.get("Parameters", {}):
        raise RenderError(f"the base template has no {ROLE} role or SamlProviderArns parameter: wrong file?")
    _apply_settings(template, settings)

    # Existing ARNs now come from the command line, so the list parameter and the rule guarding it go.
    del template["Parameters"]["SamlProviderArns"]
    template.get("Rules", {}).pop("ProvidersGiven", None)
    if "Rules" in template and not template["Rules"]:
        del template["Rules"]
    groups = template.get("Metadata", {}).get("AWS::CloudFormation::Interface", {}).get("ParameterGroups", [])
    for group in groups:
        group["Parameters"] = [name for name in group["Parameters"] if name != "SamlProviderArns"]

    trusted: list[Any] = []
    del outputs["SamlProviderArns"]
    for provider in providers:
        label = _label(provider.name)
        if isinstance(provider, NewProvider):
            logical_id = f"SamlProvider{label}"
            resources[logical_id] = _provider_resource(provider)
            reference: Any = {"Ref": logical_id}
            claim = f"${{{ROLE}.Arn}},${{{logical_id}}}"
        else:
            reference = provider.arn
            claim = f"${{{ROLE}.Arn}},{provider.arn}"
        trusted.append(reference)
        outputs[f"ProviderArn{label}"] = {
            "Description": f"ARN of the SAML provider {provider.name}",
            "Value": reference,
        }
        outputs[f"RoleClaim{label}"] = {
            "Description": (
                f"Value of the SAML attribute https://aws.amazon.com/SAML/Attributes/Role for {provider.name} "
                "(the Entra ID app role value, or the Identity Center attribute mapping)"
            ),
            "Value": {"Fn::Sub": claim},
        }
    statement = resources[ROLE]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]
    statement["Principal"]["Federated"] = trusted
    template.setdefault("Metadata", {})["ConnectSsoProviders"] = [_provider_summary(p) for p in providers]

    header = (
        "# Rendered by `python -m connect_sso_admin agent-sso render` from infra/aws/agent-sso.yaml\n"
        "# (read its header).\n"
        "# Do not edit: change the inputs and render again. Deploy with CAPABILITY_NAMED_IAM.\n"
    )
    text = header + dump_template(template)
    return Rendered(text, tuple(findings + _size_findings(len(text.encode("utf-8")))))


def _size_findings(size: int) -> list[Finding]:
    if size > S3_TEMPLATE_LIMIT:
        raise RenderError(f"the rendered template is {size:,} bytes; CloudFormation accepts at most 1 MB")
    if size > INLINE_TEMPLATE_LIMIT:
        return [
            Finding(
                Level.WARNING,
                f"the rendered template is {size:,} bytes, over the {INLINE_TEMPLATE_LIMIT:,} bytes CloudFormation "
                "accepts inline: deploy it with `aws cloudformation deploy --s3-bucket BUCKET ...`",
            )
        ]
    return []
