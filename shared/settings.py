"""Typed settings: one catalogue of every setting the function reads, and a parser that validates them all.

The catalogue (SETTINGS) is the single source of truth for names, aliases and defaults: the README's
configuration reference, the `local.settings.json.example` test and the Bicep tests all read it. Parsed settings
come in one group per consumer: the Entra verification policy, and the widget the contact token is signed for.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from shared.claims import AttributeRules, ClaimAttribute, parse_custom_attributes
from shared.contact_token import MAX_CONTACT_TOKEN_TTL_SECONDS
from shared.urls import fetch_url_problem, split_url
from shared.widget import Secret, Widget

MAX_CLOCK_SKEW_SECONDS = 300
MAX_APP_CONFIG_REFRESH_SECONDS = 3600
MAX_APP_CONFIG_SECRET_REFRESH_SECONDS = 86400
MULTI_TENANT = "organizations"
ENTRA_PUBLIC_AUTHORITY_HOST = "login.microsoftonline.com"
TENANT_PLACEHOLDER = "<tenant>"
MIN_WIDGET_SECRET_LENGTH = 16  # Connect's keys are 44 characters; a short one is a placeholder or a paste accident
# CONNECT_WIDGETS names each extra widget's key setting; those names are dynamic, so the catalogue knows the prefix.
WIDGET_SECRET_PREFIX = "CONNECT_WIDGET_SECRET_"  # noqa: S105 -- a setting name prefix, not a secret
WIDGET_SECRET_SETTING_NAME = re.compile(rf"^{WIDGET_SECRET_PREFIX}[A-Za-z0-9_]+$")
WIDGET_MEMBERS = frozenset({"secretSetting", "ttlSeconds", "segmentAttributes", "customAttributes", "customerIdClaim"})


@dataclass(frozen=True)
class SettingSpec:
    name: str
    description: str
    required: bool = False
    secret: bool = False
    default: str | None = None
    aliases: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        """Every spelling: the canonical name first, then the legacy aliases (e.g. the .NET service's)."""
        return (self.name, *self.aliases)


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
        default=f"https://{ENTRA_PUBLIC_AUTHORITY_HOST}/{TENANT_PLACEHOLDER}/v2.0",
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
    SettingSpec(
        "CONNECT_WIDGETS",
        "More widgets, a JSON object keyed by widget id (UUID): each value has `secretSetting` (required: the name "
        f"of the `{WIDGET_SECRET_PREFIX}*` setting holding its key) and optionally `ttlSeconds`, `segmentAttributes`, "
        "`customAttributes` and `customerIdClaim` (the global setting applies where one is left out).",
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
ALL_SETTING_NAMES: tuple[str, ...] = tuple(name for spec in SETTINGS for name in spec.names)
REQUIRED_SETTING_NAMES: tuple[str, ...] = tuple(spec.name for spec in SETTINGS if spec.required)
SECRET_SETTING_NAMES: frozenset[str] = frozenset(spec.name for spec in SETTINGS if spec.secret)
_ALL_NAMES = frozenset(ALL_SETTING_NAMES)
STORE_SETTING_NAMES = (  # how to read App Configuration: from the environment only
    "APP_CONFIG_ENDPOINT",
    "APP_CONFIG_LABEL",
    "APP_CONFIG_SENTINEL_KEY",
    "APP_CONFIG_REFRESH_SECONDS",
    "APP_CONFIG_SECRET_REFRESH_SECONDS",
)
_SPEC_BY_NAME = {spec.name: spec for spec in SETTINGS}


def is_widget_secret_setting(name: str) -> bool:
    """A `CONNECT_WIDGET_SECRET_<name>` setting: the key of a widget in CONNECT_WIDGETS."""
    return bool(WIDGET_SECRET_SETTING_NAME.match(name))


def is_setting_name(name: str) -> bool:
    """A name the function reads: one in the catalogue, or a widget key setting."""
    return name in _ALL_NAMES or is_widget_secret_setting(name)


def is_secret_setting(name: str) -> bool:
    return name in SECRET_SETTING_NAMES or is_widget_secret_setting(name)


def select_settings(sources: Mapping[str, str]) -> dict[str, str]:
    """The function's settings among `sources` (an environment, a store's keys)."""
    return {name: value for name, value in sources.items() if is_setting_name(name)}


def default_of(name: str) -> str | None:
    return _SPEC_BY_NAME[name].default


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


@dataclass(frozen=True)
class EntraPolicy:
    """What an access token must satisfy. A value: equal policies verify alike (the verifier is cached on it)."""

    tenant_id: str
    allowed_tenant_ids: frozenset[str]
    audiences: frozenset[str]
    authority: str
    required_scopes: tuple[str, ...]
    allowed_client_app_ids: frozenset[str] | None
    clock_skew_seconds: int

    @property
    def multi_tenant(self) -> bool:
        return self.tenant_id == MULTI_TENANT

    @property
    def metadata_url(self) -> str:
        return f"{self.authority}/.well-known/openid-configuration"


@dataclass(frozen=True)
class Settings:
    entra: EntraPolicy
    widgets: Mapping[str, Widget]  # by lower-case widget id, the default widget included
    default_widget_id: str
    verbose_log: bool

    @property
    def widget(self) -> Widget:
        """The default widget (CONNECT_WIDGET_ID / CONNECT_WIDGET_SECRET)."""
        return self.widgets[self.default_widget_id.lower()]

    def widget_for(self, widget_id: str | None) -> Widget | None:
        """The widget a request names (None, empty or the default id: the default); None when it is not configured.
        Empty is the default because Azure drops an empty query parameter before the function sees it."""
        if not widget_id or widget_id.lower() == self.default_widget_id.lower():
            return self.widget
        if not is_guid(widget_id):
            return None
        return self.widgets.get(widget_id.lower())


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


def parse_settings(sources: Mapping[str, str]) -> Settings:
    """Validates every setting and reports all problems at once."""
    problems: list[SettingProblem] = []
    parser = _Parser(effective_values(sources), problems)
    try:
        settings = parser.build()
    except Exception as error:
        problems.append(SettingProblem(parser.reading, f"cannot be read ({type(error).__name__}); check its value"))
    if problems:
        raise ConfigurationError(problems)
    return settings


def store_setting_problems(sources: Mapping[str, str]) -> tuple[SettingProblem, ...]:
    """The problems of the settings that say how to read App Configuration (the others may come from the store)."""
    try:
        parse_settings(sources)
    except ConfigurationError as error:
        return tuple(problem for problem in error.problems if problem.name in STORE_SETTING_NAMES)
    return ()


def is_guid(value: str) -> bool:
    try:
        return str(uuid.UUID(value)) == value.lower() and len(value) == 36
    except ValueError:
        return False


def app_config_endpoint_problem(endpoint: str | None) -> str | None:
    """What is wrong with an App Configuration endpoint, or None when it is usable (or not set)."""
    if endpoint is None:
        return None
    parts = split_url(endpoint)
    if parts is None:
        return "is not a valid URL"
    if parts.scheme != "https" or not parts.hostname:
        return "must be an https URL like https://<store>.azconfig.io"
    if parts.query or parts.fragment or parts.path not in ("", "/"):
        return "must be the store's endpoint only, without a path, query or fragment"
    return None


def split_list(raw: str | None) -> list[str]:
    if not raw:
        return []
    return [item for item in re.split(r"[\s,]+", raw) if item]


class _Parser:
    """Collects problems instead of stopping at the first one, so an admin fixes everything in one go."""

    def __init__(self, values: dict[str, str], problems: list[SettingProblem]) -> None:
        self.values = values
        self.problems = problems
        self.reading = "settings"  # the setting being read, for an error no check foresaw (parse_settings)

    def get(self, name: str) -> str | None:
        self.reading = name
        return self.values.get(name)

    def problem(self, name: str, message: str) -> None:
        self.problems.append(SettingProblem(name, message))

    def value(self, name: str) -> str | None:
        """The setting's value, or its catalogue default."""
        return self.get(name) or default_of(name)

    def required(self, name: str) -> str:
        value = self.get(name)
        if value is None:
            self.problem(name, "is required but not set")
            return ""
        return value

    def integer(self, name: str, low: int, high: int) -> int:
        raw = self.value(name) or "0"
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

    def guids(self, name: str) -> list[str]:
        values = [item.lower() for item in split_list(self.get(name))]
        for value in values:
            self.guid(name, value)
        return values

    def build(self) -> Settings:
        entra = self.entra_policy()
        widget = self.widget()
        widgets = {widget.widget_id.lower(): widget, **self.extra_widgets(widget)}
        verbose_log = self.boolean("VERBOSE_LOG")
        self.widget_secret_names()
        self.store_settings()
        return Settings(entra=entra, widgets=widgets, default_widget_id=widget.widget_id, verbose_log=verbose_log)

    def entra_policy(self) -> EntraPolicy:
        tenant_id = self.required("ENTRA_TENANT_ID").lower()
        if tenant_id and tenant_id != MULTI_TENANT:
            self.guid("ENTRA_TENANT_ID", tenant_id)
        allowed_tenants = self.guids("ENTRA_ALLOWED_TENANT_IDS")
        if tenant_id == MULTI_TENANT and not allowed_tenants:
            self.problem("ENTRA_ALLOWED_TENANT_IDS", "is required when ENTRA_TENANT_ID is 'organizations'")
        if tenant_id and tenant_id != MULTI_TENANT:
            allowed_tenants = [tenant_id]

        api_client_id = self.required("ENTRA_API_CLIENT_ID").lower()
        self.guid("ENTRA_API_CLIENT_ID", api_client_id)
        audiences = {api_client_id, f"api://{api_client_id}", *split_list(self.get("ENTRA_API_AUDIENCES"))}

        scopes = tuple(split_list(self.value("REQUIRED_SCOPES")))
        if not scopes:
            self.problem("REQUIRED_SCOPES", "must name at least one scope")
        client_apps = self.guids("ALLOWED_CLIENT_APP_IDS")
        return EntraPolicy(
            tenant_id=tenant_id,
            allowed_tenant_ids=frozenset(allowed_tenants),
            audiences=frozenset(audiences),
            authority=self.authority(tenant_id),
            required_scopes=scopes,
            allowed_client_app_ids=frozenset(client_apps) if client_apps else None,
            clock_skew_seconds=self.integer("CLOCK_SKEW_SECONDS", 0, MAX_CLOCK_SKEW_SECONDS),
        )

    def authority(self, tenant_id: str) -> str:
        raw = self.value("ENTRA_AUTHORITY") or ""
        authority = raw.replace(TENANT_PLACEHOLDER, tenant_id).rstrip("/")
        problem = fetch_url_problem(authority)
        parts = split_url(authority)
        if problem is not None:
            shown = f", got {raw!r}" if problem == "must be an https URL" else ""
            self.problem("ENTRA_AUTHORITY", problem + shown)
        elif parts is not None and (parts.query or parts.fragment):
            self.problem("ENTRA_AUTHORITY", "must not have a query or fragment")
        return authority

    def widget(self) -> Widget:
        widget_id = self.required("CONNECT_WIDGET_ID")
        if widget_id and not is_guid(widget_id.lower()):
            # Not echoed: a widget key pasted here by mistake must not reach the log.
            self.problem("CONNECT_WIDGET_ID", "must be the widget's UUID (the 4th argument of the snippet's wrapper)")
        secret = self.secret("CONNECT_WIDGET_SECRET", "is required but not set")
        custom, problems = parse_custom_attributes(self.get("SSO_CUSTOM_ATTRIBUTES"))
        for message in problems:
            self.problem("SSO_CUSTOM_ATTRIBUTES", message)
        return Widget(
            widget_id=widget_id,
            secret=secret,
            ttl_seconds=self.integer("CONNECT_TOKEN_TTL_SECONDS", 1, MAX_CONTACT_TOKEN_TTL_SECONDS),
            segment_attributes=self.segment_attributes(),
            attribute_rules=AttributeRules(custom=custom, customer_id_claim=self.get("CONNECT_CUSTOMER_ID_CLAIM")),
        )

    def secret(self, name: str, unset: str) -> Secret:
        """A widget's security key; the problems name the setting, never the value."""
        secret = self.get(name)
        if secret is None:
            self.problem(name, unset)
        elif len(secret) < MIN_WIDGET_SECRET_LENGTH:
            self.problem(
                name,
                f"is too short to be an Amazon Connect security key (at least {MIN_WIDGET_SECRET_LENGTH} characters)",
            )
        elif not _is_utf8_text(secret):  # signing encodes it as UTF-8: refused here, not as a 500 per request
            self.problem(name, "is not text (it holds bytes that are not UTF-8)")
        return Secret(secret or "")

    def extra_widgets(self, default: Widget) -> dict[str, Widget]:
        """CONNECT_WIDGETS, by lower-case widget id; each entry's problems name the widget id and the member."""
        raw = self.get("CONNECT_WIDGETS")
        if raw is None:
            return {}
        try:
            entries = json.loads(raw)
        except (ValueError, RecursionError):
            self.problem("CONNECT_WIDGETS", "is not valid JSON")
            return {}
        if not isinstance(entries, dict):
            self.problem("CONNECT_WIDGETS", "must be a JSON object keyed by widget id")
            return {}
        # Listed twice (exactly, or in another case): JSON keeps the last silently, so a key would be lost unseen.
        seen: set[str] = set()
        for position, (widget_id, _entry) in enumerate(json.loads(raw, object_pairs_hook=list), start=1):
            if widget_id.lower() in seen:
                shown = widget_label(widget_id.lower(), position)
                self.problem("CONNECT_WIDGETS", f"widget {shown}: listed more than once")
            seen.add(widget_id.lower())
        widgets: dict[str, Widget] = {}
        secret_owners: dict[str, str] = {}
        for position, (widget_id, entry) in enumerate(entries.items(), start=1):
            widget = _WidgetEntry(self, widget_id, position, default).parse(entry, secret_owners)
            if widget is not None:
                widgets[widget_id.lower()] = widget
        return widgets

    def widget_secret_names(self) -> None:
        """Key settings whose names differ only in case: one Key Vault secret in Azure (names are case-insensitive
        there), so one widget would silently sign with the other's key."""
        by_folded: dict[str, list[str]] = {}
        for name in self.values:
            if is_widget_secret_setting(name):
                by_folded.setdefault(name.upper(), []).append(name)
        for names in by_folded.values():
            if len(names) > 1:
                self.problem(
                    sorted(names)[0],
                    f"{' and '.join(sorted(names))} differ only in case; in Azure they are one Key Vault secret",
                )

    def store_settings(self) -> None:
        """Validated here so that every problem is reported together; shared/app_configuration.py reads them."""
        problem = app_config_endpoint_problem(self.get("APP_CONFIG_ENDPOINT"))
        if problem:
            self.problem("APP_CONFIG_ENDPOINT", problem)
        label = self.get("APP_CONFIG_LABEL")
        if label is not None and ("*" in label or "," in label):
            # In App Configuration's label filter `*` is a wildcard and `,` separates labels: never one label.
            self.problem("APP_CONFIG_LABEL", "must be one label, without '*' or ','")
        key = self.value("APP_CONFIG_SENTINEL_KEY") or ""
        # A watched key is one exact key: filter characters would make it something else.
        if any(character in key for character in "*,\\") or key in (".", ".."):
            self.problem("APP_CONFIG_SENTINEL_KEY", "must be one exact key, without '*', ',' or '\\'")
        self.integer("APP_CONFIG_REFRESH_SECONDS", 1, MAX_APP_CONFIG_REFRESH_SECONDS)
        self.integer("APP_CONFIG_SECRET_REFRESH_SECONDS", 1, MAX_APP_CONFIG_SECRET_REFRESH_SECONDS)

    def boolean(self, name: str) -> bool:
        raw = (self.value(name) or "false").lower()
        if raw in ("true", "1", "yes", "on"):
            return True
        if raw not in ("false", "0", "no", "off"):
            self.problem(name, f"must be true or false, got {raw!r}")
        return False

    def segment_attributes(self) -> Mapping[str, object] | None:
        raw = self.get("CONNECT_SEGMENT_ATTRIBUTES")
        if raw is None:
            return None
        try:
            parsed = json.loads(raw)
        except (ValueError, RecursionError):  # RecursionError: nesting deeper than the parser's stack
            self.problem("CONNECT_SEGMENT_ATTRIBUTES", "is not valid JSON")
            return None
        problems = segment_attribute_problems(parsed)
        for message in problems:
            self.problem("CONNECT_SEGMENT_ATTRIBUTES", message)
        return parsed if isinstance(parsed, dict) else None


def segment_attribute_problems(parsed: object) -> list[str]:
    """What is wrong with a parsed segmentAttributes value (StartChatContact's shape and limits)."""
    if not isinstance(parsed, dict):
        return ["must be a JSON object"]
    problems = []
    for key, value in parsed.items():
        if not 1 <= len(key) <= 128:
            problems.append(f"key {key!r} must be 1 to 128 characters")
        if not isinstance(value, dict) or not isinstance(value.get("ValueString", ""), str):
            problems.append(f'value of {key!r} must be an object like {{"ValueString": "..."}}')
        elif len(value.get("ValueString", "")) > 1024:
            problems.append(f"ValueString of {key!r} is over 1024 characters")
    try:  # the contact token is UTF-8: a lone surrogate (JSON allows "\ud800") would fail every request
        json.dumps(parsed, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        problems.append("holds text that is not valid Unicode (an unpaired surrogate)")
    except (RecursionError, ValueError):  # parsed, but nested too deeply to be written into a contact token
        problems.append("is nested too deeply to be written into a contact token")
    return problems


def _is_utf8_text(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def widget_label(widget_id: str, position: int) -> str:
    """How a CONNECT_WIDGETS member is named in a problem: by its id when that is a UUID (public: it is in the
    page's snippet); otherwise by position and length, never echoed (it may be a key pasted in the wrong place)."""
    if is_guid(widget_id):
        return widget_id
    return f"#{position} (a name of {len(widget_id)} characters that is not a UUID)"


class _WidgetEntry:
    """One CONNECT_WIDGETS entry, checked by the single-widget rules; a member left out takes the default's."""

    def __init__(self, parser: _Parser, widget_id: str, position: int, default: Widget) -> None:
        self.parser = parser
        self.widget_id = widget_id
        self.label = widget_label(widget_id, position)
        self.default = default

    def problem(self, message: str) -> None:
        self.parser.problem("CONNECT_WIDGETS", f"widget {self.label}: {message}")

    def parse(self, entry: object, secret_owners: dict[str, str]) -> Widget | None:
        if not is_guid(self.widget_id):
            self.problem("the key must be a widget id (a UUID like 00000000-0000-0000-0000-000000000000)")
            return None
        if self.widget_id.lower() == self.default.widget_id.lower():
            self.problem("is the default widget (CONNECT_WIDGET_ID); configure it with the single-widget settings")
            return None
        if not isinstance(entry, dict):
            self.problem('must be an object like {"secretSetting": "CONNECT_WIDGET_SECRET_<NAME>"}')
            return None
        for member in sorted(set(entry) - WIDGET_MEMBERS):
            self.problem(f"unknown member {member!r} (known: {', '.join(sorted(WIDGET_MEMBERS))})")
        secret = self.secret(entry.get("secretSetting"), secret_owners)
        self.parser.reading = "CONNECT_WIDGETS"  # secret() read the key setting; the rest is this entry again
        custom, customer_id_claim = self.attribute_rules(entry)
        return Widget(
            widget_id=self.widget_id,
            secret=secret,
            ttl_seconds=self.ttl_seconds(entry),
            segment_attributes=self.segment_attributes(entry),
            attribute_rules=AttributeRules(custom=custom, customer_id_claim=customer_id_claim),
        )

    def secret(self, name: object, secret_owners: dict[str, str]) -> Secret:
        if name is None:
            self.problem("secretSetting is required: the name of the setting holding the widget's security key")
            return Secret("")
        if not isinstance(name, str) or not is_widget_secret_setting(name):
            self.problem(
                f"secretSetting must be a setting name starting with {WIDGET_SECRET_PREFIX} "
                "(letters, digits and '_' only)"
            )
            return Secret("")
        if name in secret_owners:
            self.problem(f"secretSetting {name} is also widget {secret_owners[name]}'s: each widget has its own key")
        secret_owners.setdefault(name, self.widget_id)
        return self.parser.secret(name, f"is not set, but widget {self.widget_id} in CONNECT_WIDGETS names it")

    def ttl_seconds(self, entry: Mapping[str, object]) -> int:
        ttl = entry.get("ttlSeconds", self.default.ttl_seconds)
        if isinstance(ttl, bool) or not isinstance(ttl, int) or not 1 <= ttl <= MAX_CONTACT_TOKEN_TTL_SECONDS:
            self.problem(f"ttlSeconds must be a whole number from 1 to {MAX_CONTACT_TOKEN_TTL_SECONDS}")
            return self.default.ttl_seconds
        return ttl

    def segment_attributes(self, entry: Mapping[str, object]) -> Mapping[str, object] | None:
        if "segmentAttributes" not in entry:
            return self.default.segment_attributes
        parsed = entry["segmentAttributes"]
        for message in segment_attribute_problems(parsed):
            self.problem(f"segmentAttributes {message}")
        return parsed if isinstance(parsed, dict) else None

    def attribute_rules(self, entry: Mapping[str, object]) -> tuple[tuple[ClaimAttribute, ...], str | None]:
        custom = self.default.attribute_rules.custom
        if "customAttributes" in entry:
            raw = entry["customAttributes"]
            if not isinstance(raw, str):
                self.problem("customAttributes must be text like SSO_CUSTOM_ATTRIBUTES ('claim' or 'claim:name', ...)")
                custom = ()
            else:
                custom, problems = parse_custom_attributes(raw)
                for message in problems:
                    self.problem(f"customAttributes {message}")
        claim = entry.get("customerIdClaim", self.default.attribute_rules.customer_id_claim)
        if claim is not None and not isinstance(claim, str):
            self.problem("customerIdClaim must be a claim name (text)")
            claim = None
        return custom, (claim.strip() or None) if claim else None
