"""The catalogue: every setting the function reads, with its aliases, default and where it may come from.

It is the single source of truth for names: the settings parser, the App Configuration reader, the postprovision
hook (which writes every optional setting it finds in the azd environment), docs/configuration.md's table, the
example settings and the deployment tests all read it. Its imports stay standard library only (the hook runs it
with a bare `python3`; tests/shared/test_catalogue.py checks).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from shared.widget import (
    SECRET_SETTING_MEMBER,
    WIDGET_OPTIONS,
    WIDGET_SECRET_PREFIX,
    is_widget_secret_setting,
)

MULTI_TENANT = "organizations"
ENTRA_PUBLIC_AUTHORITY_HOST = "login.microsoftonline.com"
TENANT_PLACEHOLDER = "<tenant>"


@dataclass(frozen=True)
class SettingSpec:
    name: str
    description: str
    required: bool = False
    secret: bool = False
    default: str | None = None
    aliases: tuple[str, ...] = ()
    # How to read App Configuration: only the environment can say it (the store cannot configure its own reading).
    environment_only: bool = False
    # Set by the Azure deployment from what it creates (infra/azure/main.bicep's APP_CONFIG_SETTINGS), not chosen.
    derived_by_deployment: bool = False
    # For local development only (Azurite's connection string): the deployment never writes it.
    development_only: bool = False

    @property
    def names(self) -> tuple[str, ...]:
        """Every spelling: the canonical name first, then the legacy aliases (e.g. the .NET service's)."""
        return (self.name, *self.aliases)

    @property
    def optional(self) -> bool:
        """An operator's choice that App Configuration holds: the postprovision hook writes it when it is set."""
        return not (
            self.required or self.secret or self.environment_only or self.derived_by_deployment or self.development_only
        )


_OPTIONAL_MEMBERS = ", ".join(f"`{option.member}`" for option in WIDGET_OPTIONS)

SETTINGS: tuple[SettingSpec, ...] = (
    SettingSpec(
        "ENTRA_TENANT_ID",
        "Tenant GUID, or `organizations` for multi-tenant use.",
        required=True,
        derived_by_deployment=True,
    ),
    SettingSpec(
        "ENTRA_ALLOWED_TENANT_IDS",
        "Comma-separated tenant GUIDs accepted when ENTRA_TENANT_ID is `organizations`.",
    ),
    SettingSpec(
        "ENTRA_API_CLIENT_ID",
        "Client id of the API app registration; `aud` may be it or `api://<it>`.",
        required=True,
        derived_by_deployment=True,
    ),
    SettingSpec("ENTRA_API_AUDIENCES", "Extra accepted audiences (App ID URIs), comma-separated."),
    SettingSpec(
        "ENTRA_AUTHORITY",
        "OpenID authority; `<it>/.well-known/openid-configuration` gives issuer and keys. "
        "Plain http only for loopback hosts.",
        default=f"https://{ENTRA_PUBLIC_AUTHORITY_HOST}/{TENANT_PLACEHOLDER}/v2.0",
    ),
    SettingSpec(
        "REQUIRED_SCOPES",
        "Delegated scopes, space- or comma-separated; any one suffices.",
        default="JWT.Read",
        derived_by_deployment=True,
    ),
    SettingSpec(
        "ALLOWED_CLIENT_APP_IDS",
        "When set, `azp` (v2) / `appid` (v1) must be one of these.",
        derived_by_deployment=True,
    ),
    SettingSpec("CLOCK_SKEW_SECONDS", "Allowed clock skew for exp/nbf/iat, 0..300.", default="60"),
    SettingSpec(
        "CONNECT_WIDGET_ID",
        "Amazon Connect widget id: the contact JWT's `sub`.",
        required=True,
        derived_by_deployment=True,
    ),
    SettingSpec(
        "CONNECT_WIDGET_SECRET",
        "The widget's security key (HS256 key). Keep it in Key Vault.",
        required=True,
        secret=True,
    ),
    SettingSpec(
        "CONNECT_WIDGETS",
        "More widgets, a JSON object keyed by widget id (UUID): each value has "
        f"`{SECRET_SETTING_MEMBER}` (required: the name of the `{WIDGET_SECRET_PREFIX}*` setting holding its key) and "
        f"optionally {_OPTIONAL_MEMBERS} (the global setting applies where one is left out).",
    ),
    SettingSpec("CONNECT_TOKEN_TTL_SECONDS", "Contact JWT lifetime, 1..600.", default="600"),
    SettingSpec("CONNECT_SEGMENT_ATTRIBUTES", "JSON object copied into `segmentAttributes`."),
    SettingSpec("CONNECT_CUSTOMER_ID_CLAIM", "Claim whose value becomes `customerId`."),
    SettingSpec(
        "CONNECT_REQUIRED_AUTH_CONTEXT",
        "Step-up: a Conditional Access authentication context id, `c1`..`c25`, the access token must satisfy "
        "(its `acrs` claim); otherwise a claims challenge (docs/step-up.md). Default: none.",
    ),
    SettingSpec(
        "SSO_CUSTOM_ATTRIBUTES",
        "Comma-separated `claim` or `claim:attributeName` entries added to the contact attributes.",
        aliases=("sso_custom_attributes",),
    ),
    SettingSpec(
        "VERBOSE_LOG",
        "`true` logs the claim names and values received (never the token).",
        default="false",
        aliases=("verboselog",),
    ),
    SettingSpec(
        "CONNECT_PERSISTENT_CHAT",
        "`true`: a returning user's contact token carries `previousContactId` (their last chat with the widget, "
        "docs/persistent-chat.md); a widget's `persistentChat` member overrides it either way.",
        default="false",
    ),
    SettingSpec(
        "CHAT_HISTORY_ENDPOINT",
        "Table endpoint of the storage account holding chat history (`https://<account>.table.core.windows.net`), "
        "reached with the managed identity. Required when persistent chat is on (or the connection string below).",
        derived_by_deployment=True,
    ),
    SettingSpec(
        "CHAT_HISTORY_CONNECTION_STRING",
        "Instead of CHAT_HISTORY_ENDPOINT, for local development against Azurite only: a storage connection string. "
        "Never in Azure (the account refuses shared keys).",
        secret=True,
        development_only=True,
    ),
    SettingSpec(
        "CHAT_HISTORY_TABLE",
        "Table holding chat history (created by the deployment; the function never creates tables).",
        default="chathistory",
        derived_by_deployment=True,
    ),
    SettingSpec(
        "CHAT_HISTORY_RETENTION_DAYS",
        "Days a stored last contact counts (older entries are ignored and deleted when met), 1..365.",
        default="30",
    ),
    SettingSpec(
        "APP_CONFIG_ENDPOINT",
        "Azure App Configuration endpoint; its values win over the environment.",
        environment_only=True,
    ),
    SettingSpec(
        "APP_CONFIG_LABEL",
        "Label to read from App Configuration (default: no label).",
        environment_only=True,
    ),
    SettingSpec(
        "APP_CONFIG_SENTINEL_KEY",
        "Key (same label) whose change makes every instance reload the store; bump it after changing settings.",
        default="connect-sso:sentinel",
        environment_only=True,
    ),
    SettingSpec(
        "APP_CONFIG_REFRESH_SECONDS",
        "Seconds between sentinel checks (one conditional request each), 1..3600.",
        default="30",
        environment_only=True,
    ),
    SettingSpec(
        "APP_CONFIG_SECRET_REFRESH_SECONDS",
        "Seconds between re-reads of Key Vault referenced secrets, 1..86400.",
        default="600",
        environment_only=True,
    ),
)
SETTING_NAMES: tuple[str, ...] = tuple(spec.name for spec in SETTINGS)
ALL_SETTING_NAMES: tuple[str, ...] = tuple(name for spec in SETTINGS for name in spec.names)
REQUIRED_SETTING_NAMES: tuple[str, ...] = tuple(spec.name for spec in SETTINGS if spec.required)
SECRET_SETTING_NAMES: frozenset[str] = frozenset(spec.name for spec in SETTINGS if spec.secret)
ENVIRONMENT_ONLY_SETTING_NAMES: tuple[str, ...] = tuple(spec.name for spec in SETTINGS if spec.environment_only)
DERIVED_SETTING_NAMES: tuple[str, ...] = tuple(spec.name for spec in SETTINGS if spec.derived_by_deployment)
OPTIONAL_SETTING_NAMES: tuple[str, ...] = tuple(spec.name for spec in SETTINGS if spec.optional)
DEVELOPMENT_ONLY_SETTING_NAMES: frozenset[str] = frozenset(spec.name for spec in SETTINGS if spec.development_only)
_ALL_NAMES = frozenset(ALL_SETTING_NAMES)
_SPEC_BY_NAME = {spec.name: spec for spec in SETTINGS}


def is_setting_name(name: str) -> bool:
    """A name the function reads: one in the catalogue, or a widget key setting."""
    return name in _ALL_NAMES or is_widget_secret_setting(name)


def is_secret_setting(name: str) -> bool:
    return name in SECRET_SETTING_NAMES or is_widget_secret_setting(name)


def select_settings(sources: Mapping[str, str]) -> dict[str, str]:
    """The function's settings among `sources` (an environment, a store's keys)."""
    return {name: value for name, value in sources.items() if is_setting_name(name)}


def default_of(name: str) -> str | None:
    spec = _SPEC_BY_NAME.get(name)
    return spec.default if spec is not None else None


def effective_values(sources: Mapping[str, str]) -> dict[str, str]:
    """Canonical name -> raw value, taking a legacy alias (e.g. `verboselog`) when the canonical name is absent."""
    values: dict[str, str] = {}
    for spec in SETTINGS:
        for name in spec.names:
            raw = sources.get(name)
            if raw is not None and raw.strip() != "":
                values[spec.name] = raw.strip()
                break
    for name, raw in sources.items():
        if is_widget_secret_setting(name) and raw is not None and raw.strip() != "":
            values[name] = raw.strip()
    return values


def overlay(environment: Mapping[str, str], store: Mapping[str, str]) -> dict[str, str]:
    """The environment with the store's values on top: a setting in the store replaces the environment's,
    whichever spelling either used."""
    sources = dict(environment)
    for spec in SETTINGS:
        if any(name in store for name in spec.names):
            for name in spec.names:
                sources.pop(name, None)
    sources.update(store)
    return sources
