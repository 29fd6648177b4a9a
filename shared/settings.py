"""Typed settings: one catalogue of every setting the function reads, and a parser that validates them all.

The catalogue (SETTINGS) is the single source of truth: the README's configuration reference, the
`local.settings.json.example` test and the Bicep tests all read it.
"""

from __future__ import annotations

import ipaddress
import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

MAX_CLOCK_SKEW_SECONDS = 300
MAX_CONTACT_TOKEN_TTL_SECONDS = 600  # Amazon Connect: "10 minute maximum"
MAX_APP_CONFIG_REFRESH_SECONDS = 3600
MAX_APP_CONFIG_SECRET_REFRESH_SECONDS = 86400
MULTI_TENANT = "organizations"
ENTRA_PUBLIC_AUTHORITY_HOST = "login.microsoftonline.com"
_ATTRIBUTE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,32767}$")


@dataclass(frozen=True)
class SettingSpec:
    name: str
    description: str
    required: bool = False
    secret: bool = False
    default: str | None = None
    aliases: tuple[str, ...] = ()


SETTINGS: tuple[SettingSpec, ...] = (
    SettingSpec("ENTRA_TENANT_ID", "Tenant GUID, or `organizations` for multi-tenant use.", required=True),
    SettingSpec(
        "ENTRA_ALLOWED_TENANT_IDS",
        "Comma-separated tenant GUIDs accepted when ENTRA_TENANT_ID is `organizations`.",
    ),
    SettingSpec(
        "ENTRA_API_CLIENT_ID",
        "Client id of the API app registration; `aud` may be it or `api://<it>`.",
        required=True,
    ),
    SettingSpec("ENTRA_API_AUDIENCES", "Extra accepted audiences (App ID URIs), comma-separated."),
    SettingSpec(
        "ENTRA_AUTHORITY",
        "OpenID authority; `<it>/.well-known/openid-configuration` gives issuer and keys. "
        "Plain http only for loopback hosts.",
        default="https://login.microsoftonline.com/<tenant>/v2.0",
    ),
    SettingSpec(
        "REQUIRED_SCOPES",
        "Delegated scopes, space- or comma-separated; any one suffices.",
        default="JWT.Read",
    ),
    SettingSpec("ALLOWED_CLIENT_APP_IDS", "When set, `azp` (v2) / `appid` (v1) must be one of these."),
    SettingSpec("CLOCK_SKEW_SECONDS", "Allowed clock skew for exp/nbf/iat, 0..300.", default="60"),
    SettingSpec("CONNECT_WIDGET_ID", "Amazon Connect widget id: the contact JWT's `sub`.", required=True),
    SettingSpec(
        "CONNECT_WIDGET_SECRET",
        "The widget's security key (HS256 key). Keep it in Key Vault.",
        required=True,
        secret=True,
    ),
    SettingSpec("CONNECT_TOKEN_TTL_SECONDS", "Contact JWT lifetime, 1..600.", default="600"),
    SettingSpec("CONNECT_SEGMENT_ATTRIBUTES", "JSON object copied into `segmentAttributes`."),
    SettingSpec("CONNECT_CUSTOMER_ID_CLAIM", "Claim whose value becomes `customerId`."),
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
    SettingSpec("APP_CONFIG_ENDPOINT", "Azure App Configuration endpoint; its values win over the environment."),
    SettingSpec("APP_CONFIG_LABEL", "Label to read from App Configuration (default: no label)."),
    SettingSpec(
        "APP_CONFIG_SENTINEL_KEY",
        "Key (same label) whose change makes every instance reload the store; bump it after changing settings.",
        default="connect-sso:sentinel",
    ),
    SettingSpec(
        "APP_CONFIG_REFRESH_SECONDS",
        "Seconds between sentinel checks (one conditional request each), 1..3600.",
        default="30",
    ),
    SettingSpec(
        "APP_CONFIG_SECRET_REFRESH_SECONDS",
        "Seconds between re-reads of Key Vault referenced secrets, 1..86400.",
        default="600",
    ),
)
SETTING_NAMES: tuple[str, ...] = tuple(spec.name for spec in SETTINGS)
REQUIRED_SETTING_NAMES: tuple[str, ...] = tuple(spec.name for spec in SETTINGS if spec.required)
SECRET_SETTING_NAMES: frozenset[str] = frozenset(spec.name for spec in SETTINGS if spec.secret)
_SPEC_BY_NAME = {spec.name: spec for spec in SETTINGS}


@dataclass(frozen=True)
class SettingProblem:
    name: str
    message: str

    def __str__(self) -> str:
        return f"{self.name}: {self.message}"


class ConfigurationError(Exception):
    """One or more settings are missing or invalid. Messages name the setting, never a secret's value."""

    def __init__(self, problems: list[SettingProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(str(problem) for problem in problems))


class Secret:
    """A string that never shows itself in a repr, a log line or a traceback."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True)
class CustomAttribute:
    claim: str
    attribute: str


@dataclass(frozen=True)
class Settings:
    tenant_id: str
    allowed_tenant_ids: frozenset[str]
    api_client_id: str
    audiences: frozenset[str]
    authority: str
    required_scopes: tuple[str, ...]
    allowed_client_app_ids: frozenset[str] | None
    clock_skew_seconds: int
    widget_id: str
    widget_secret: Secret
    token_ttl_seconds: int
    segment_attributes: Mapping[str, object] | None
    customer_id_claim: str | None
    custom_attributes: tuple[CustomAttribute, ...]
    verbose_log: bool
    app_config_endpoint: str | None = None
    app_config_label: str | None = None
    app_config_sentinel_key: str = "connect-sso:sentinel"
    app_config_refresh_seconds: int = 30
    app_config_secret_refresh_seconds: int = 600

    @property
    def multi_tenant(self) -> bool:
        return self.tenant_id == MULTI_TENANT

    @property
    def metadata_url(self) -> str:
        return f"{self.authority}/.well-known/openid-configuration"


def effective_values(sources: Mapping[str, str]) -> dict[str, str]:
    """Canonical name -> raw value, taking a legacy alias (e.g. `verboselog`) when the canonical name is absent."""
    values: dict[str, str] = {}
    for spec in SETTINGS:
        for name in (spec.name, *spec.aliases):
            raw = sources.get(name)
            if raw is not None and raw.strip() != "":
                values[spec.name] = raw.strip()
                break
    return values


def parse_settings(sources: Mapping[str, str]) -> Settings:
    """Validates every setting and reports all problems at once."""
    values = effective_values(sources)
    problems: list[SettingProblem] = []
    parser = _Parser(values, problems)
    settings = parser.build()
    if problems:
        raise ConfigurationError(problems)
    assert settings is not None  # noqa: S101 - build() only returns None when it recorded a problem
    return settings


def is_guid(value: str) -> bool:
    try:
        return str(uuid.UUID(value)) == value.lower() and len(value) == 36
    except ValueError:
        return False


def is_loopback_host(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def app_config_endpoint_problem(endpoint: str | None) -> str | None:
    """What is wrong with an App Configuration endpoint, or None when it is usable (or not set)."""
    if endpoint is None:
        return None
    try:
        parts = urlsplit(endpoint)
        host = parts.hostname
        _ = parts.port
    except ValueError as error:
        return f"is not a valid URL ({error})"
    if parts.scheme != "https" or not host:
        return "must be an https URL like https://<store>.azconfig.io"
    if parts.query or parts.fragment or parts.path not in ("", "/"):
        return "must be the store's endpoint only, without a path, query or fragment"
    return None


STORE_SETTING_NAMES = (
    "APP_CONFIG_ENDPOINT",
    "APP_CONFIG_LABEL",
    "APP_CONFIG_SENTINEL_KEY",
    "APP_CONFIG_REFRESH_SECONDS",
    "APP_CONFIG_SECRET_REFRESH_SECONDS",
)


def store_setting_problems(sources: Mapping[str, str]) -> tuple[SettingProblem, ...]:
    """The problems of the settings that say how to read App Configuration (the others may come from the store)."""
    try:
        parse_settings(sources)
    except ConfigurationError as error:
        return tuple(problem for problem in error.problems if problem.name in STORE_SETTING_NAMES)
    return ()


def split_list(raw: str | None) -> list[str]:
    if not raw:
        return []
    return [item for item in re.split(r"[\s,]+", raw) if item]


class _Parser:
    """Collects problems instead of stopping at the first one, so an admin fixes everything in one go."""

    def __init__(self, values: dict[str, str], problems: list[SettingProblem]) -> None:
        self.values = values
        self.problems = problems

    def problem(self, name: str, message: str) -> None:
        self.problems.append(SettingProblem(name, message))

    def required(self, name: str) -> str:
        value = self.values.get(name)
        if value is None:
            self.problem(name, "is required but not set")
            return ""
        return value

    def integer(self, name: str, low: int, high: int) -> int:
        spec = _SPEC_BY_NAME[name]
        raw = self.values.get(name, spec.default or "0")
        try:
            number = int(raw)
        except ValueError:
            self.problem(name, f"must be a whole number from {low} to {high}")
            return low
        if not low <= number <= high:
            self.problem(name, f"must be from {low} to {high}, got {number}")
        return number

    def guid(self, name: str, value: str) -> None:
        if value and not is_guid(value):
            self.problem(name, f"must be a GUID like 00000000-0000-0000-0000-000000000000, got {value!r}")

    def build(self) -> Settings | None:
        tenant_id = self.required("ENTRA_TENANT_ID").lower()
        if tenant_id and tenant_id != MULTI_TENANT:
            self.guid("ENTRA_TENANT_ID", tenant_id)
        allowed_tenants = [t.lower() for t in split_list(self.values.get("ENTRA_ALLOWED_TENANT_IDS"))]
        for tenant in allowed_tenants:
            self.guid("ENTRA_ALLOWED_TENANT_IDS", tenant)
        if tenant_id == MULTI_TENANT and not allowed_tenants:
            self.problem("ENTRA_ALLOWED_TENANT_IDS", "is required when ENTRA_TENANT_ID is 'organizations'")
        if tenant_id and tenant_id != MULTI_TENANT:
            allowed_tenants = [tenant_id]

        api_client_id = self.required("ENTRA_API_CLIENT_ID").lower()
        self.guid("ENTRA_API_CLIENT_ID", api_client_id)
        audiences = {
            api_client_id,
            f"api://{api_client_id}",
            *split_list(self.values.get("ENTRA_API_AUDIENCES")),
        }

        authority = self.authority(tenant_id)
        scopes = tuple(split_list(self.values.get("REQUIRED_SCOPES", "JWT.Read")))
        if not scopes:
            self.problem("REQUIRED_SCOPES", "must name at least one scope")
        client_apps = [c.lower() for c in split_list(self.values.get("ALLOWED_CLIENT_APP_IDS"))]
        for client_app in client_apps:
            self.guid("ALLOWED_CLIENT_APP_IDS", client_app)

        widget_id = self.required("CONNECT_WIDGET_ID")
        secret = self.values.get("CONNECT_WIDGET_SECRET")
        if secret is None:
            self.problem("CONNECT_WIDGET_SECRET", "is required but not set")
        elif len(secret) < 16:
            # Connect's keys are 44 characters; a short one is a placeholder or a copy-paste accident.
            self.problem("CONNECT_WIDGET_SECRET", "is too short to be an Amazon Connect security key")

        return Settings(
            tenant_id=tenant_id,
            allowed_tenant_ids=frozenset(allowed_tenants),
            api_client_id=api_client_id,
            audiences=frozenset(audiences),
            authority=authority,
            required_scopes=scopes,
            allowed_client_app_ids=frozenset(client_apps) if client_apps else None,
            clock_skew_seconds=self.integer("CLOCK_SKEW_SECONDS", 0, MAX_CLOCK_SKEW_SECONDS),
            widget_id=widget_id,
            widget_secret=Secret(secret or ""),
            token_ttl_seconds=self.integer("CONNECT_TOKEN_TTL_SECONDS", 1, MAX_CONTACT_TOKEN_TTL_SECONDS),
            segment_attributes=self.segment_attributes(),
            customer_id_claim=self.values.get("CONNECT_CUSTOMER_ID_CLAIM"),
            custom_attributes=self.custom_attributes(),
            verbose_log=self.boolean("VERBOSE_LOG"),
            app_config_endpoint=self.app_config_endpoint(),
            app_config_label=self.app_config_label(),
            app_config_sentinel_key=self.sentinel_key(),
            app_config_refresh_seconds=self.integer("APP_CONFIG_REFRESH_SECONDS", 1, MAX_APP_CONFIG_REFRESH_SECONDS),
            app_config_secret_refresh_seconds=self.integer(
                "APP_CONFIG_SECRET_REFRESH_SECONDS", 1, MAX_APP_CONFIG_SECRET_REFRESH_SECONDS
            ),
        )

    def sentinel_key(self) -> str:
        key = self.values.get("APP_CONFIG_SENTINEL_KEY", _SPEC_BY_NAME["APP_CONFIG_SENTINEL_KEY"].default or "")
        # A watched key is one exact key: filter characters would make it something else.
        if any(character in key for character in "*,\\") or key in (".", ".."):
            self.problem("APP_CONFIG_SENTINEL_KEY", "must be one exact key, without '*', ',' or '\\'")
        return key

    def app_config_endpoint(self) -> str | None:
        endpoint = self.values.get("APP_CONFIG_ENDPOINT")
        problem = app_config_endpoint_problem(endpoint)
        if problem:
            self.problem("APP_CONFIG_ENDPOINT", problem)
        return endpoint

    def app_config_label(self) -> str | None:
        label = self.values.get("APP_CONFIG_LABEL")
        if label is not None and ("*" in label or "," in label):
            # In App Configuration's label filter `*` is a wildcard and `,` separates labels: never one label.
            self.problem("APP_CONFIG_LABEL", "must be one label, without '*' or ','")
        return label

    def authority(self, tenant_id: str) -> str:
        raw = self.values.get("ENTRA_AUTHORITY") or f"https://{ENTRA_PUBLIC_AUTHORITY_HOST}/{tenant_id}/v2.0"
        authority = raw.rstrip("/")
        try:
            parts = urlsplit(authority)
            host = parts.hostname or ""
            _ = parts.port  # a port that is not a number in 0..65535 raises here, not at the first fetch
        except ValueError as error:
            self.problem("ENTRA_AUTHORITY", f"is not a valid URL ({error})")
            return authority
        if parts.scheme == "http" and not is_loopback_host(host):
            self.problem("ENTRA_AUTHORITY", "plain http is accepted only for loopback hosts; use https")
        elif parts.scheme not in ("http", "https") or not host:
            self.problem("ENTRA_AUTHORITY", f"must be an https URL, got {raw!r}")
        elif parts.query or parts.fragment:
            self.problem("ENTRA_AUTHORITY", "must not have a query or fragment")
        return authority

    def boolean(self, name: str) -> bool:
        raw = self.values.get(name, _SPEC_BY_NAME[name].default or "false").lower()
        if raw in ("true", "1", "yes", "on"):
            return True
        if raw not in ("false", "0", "no", "off"):
            self.problem(name, f"must be true or false, got {raw!r}")
        return False

    def segment_attributes(self) -> Mapping[str, object] | None:
        raw = self.values.get("CONNECT_SEGMENT_ATTRIBUTES")
        if raw is None:
            return None
        try:
            parsed = json.loads(raw)
        except (ValueError, RecursionError):  # RecursionError: nesting deeper than the parser's stack
            self.problem("CONNECT_SEGMENT_ATTRIBUTES", "is not valid JSON")
            return None
        if not isinstance(parsed, dict):
            self.problem("CONNECT_SEGMENT_ATTRIBUTES", "must be a JSON object")
            return None
        for key, value in parsed.items():
            if not 1 <= len(key) <= 128:
                self.problem("CONNECT_SEGMENT_ATTRIBUTES", f"key {key!r} must be 1 to 128 characters")
            if not isinstance(value, dict) or not isinstance(value.get("ValueString", ""), str):
                self.problem(
                    "CONNECT_SEGMENT_ATTRIBUTES",
                    f'value of {key!r} must be an object like {{"ValueString": "..."}}',
                )
            elif len(value.get("ValueString", "")) > 1024:
                self.problem("CONNECT_SEGMENT_ATTRIBUTES", f"ValueString of {key!r} is over 1024 characters")
        return parsed

    def custom_attributes(self) -> tuple[CustomAttribute, ...]:
        raw = self.values.get("SSO_CUSTOM_ATTRIBUTES")
        entries: list[CustomAttribute] = []
        for entry in (part.strip() for part in (raw or "").split(",")):
            if not entry:
                continue
            claim, _, attribute = entry.rpartition(":") if ":" in entry else (entry, "", entry)
            claim, attribute = claim.strip(), attribute.strip()
            if not claim:
                self.problem("SSO_CUSTOM_ATTRIBUTES", f"entry {entry!r} names no claim")
            elif not _ATTRIBUTE_NAME.match(attribute):
                suggestion = re.sub(r"[^A-Za-z0-9_-]+", "_", claim.rsplit(".", 1)[-1]).strip("_") or "name"
                self.problem(
                    "SSO_CUSTOM_ATTRIBUTES",
                    f"{attribute!r} is not a valid Amazon Connect attribute name (letters, digits, '-' and '_' "
                    f"only); map the claim to one with claim:attributeName, for example {claim}:{suggestion}",
                )
            else:
                entries.append(CustomAttribute(claim=claim, attribute=attribute))
        return tuple(entries)
