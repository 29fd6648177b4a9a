"""The settings in one parse: the Entra verification policy (owned here), the widgets (shared/widget.py) and how
App Configuration is read (shared/app_configuration.py), every problem reported at once.

Names, aliases and defaults live in the catalogue (shared/catalogue.py); the parse primitives in
shared/setting_reader.py. Parsed settings come in one group per consumer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from shared.app_configuration import read_store_options
from shared.catalogue import MULTI_TENANT, TENANT_PLACEHOLDER, default_of, effective_values
from shared.chat_history_settings import ChatHistoryOptions, read_chat_history_options
from shared.guids import is_guid
from shared.lists import split_list
from shared.setting_reader import ConfigurationError, SettingReader
from shared.urls import fetch_url_problem, split_url
from shared.widget import Widget, read_default_widget, read_widgets

MAX_CLOCK_SKEW_SECONDS = 300


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
    chat_history: ChatHistoryOptions | None = None  # None: no store configured (persistent chat off everywhere)

    @property
    def widget(self) -> Widget:
        """The default widget (CONNECT_WIDGET_ID / CONNECT_WIDGET_SECRET)."""
        return self.widgets[self.default_widget_id.lower()]

    @property
    def unavailable_widgets(self) -> tuple[Widget, ...]:
        """The CONNECT_WIDGETS widgets whose key cannot be read (each answers 503 widget_unavailable), by id."""
        return tuple(sorted((w for w in self.widgets.values() if not w.available), key=lambda w: w.widget_id))

    def widget_for(self, widget_id: str | None) -> Widget | None:
        """The widget a request names (None, empty or the default id: the default); None when it is not configured.
        Empty is the default because Azure drops an empty query parameter before the function sees it."""
        if not widget_id or widget_id.lower() == self.default_widget_id.lower():
            return self.widget
        if not is_guid(widget_id):
            return None
        return self.widgets.get(widget_id.lower())


def parse_settings(sources: Mapping[str, str]) -> Settings:
    """Validates every setting and reports all problems at once; a failure no check foresaw is a problem named
    after the setting being read (SettingReader.guarded)."""
    reader = SettingReader(effective_values(sources), default_of)
    settings = reader.guarded(_read_settings)
    if reader.problems or settings is None:
        raise ConfigurationError(reader.problems)
    return settings


def _read_settings(reader: SettingReader) -> Settings:
    entra = read_entra_policy(reader)
    widget = read_default_widget(reader)
    widgets = {widget.widget_id.lower(): widget, **read_widgets(reader, widget)}
    verbose_log = reader.boolean("VERBOSE_LOG")
    read_store_options(reader)  # validated here too, so that every problem is reported together
    chat_history = read_chat_history_options(reader, any(w.persistent_chat for w in widgets.values()))
    return Settings(
        entra=entra,
        widgets=widgets,
        default_widget_id=widget.widget_id,
        verbose_log=verbose_log,
        chat_history=chat_history,
    )


def read_entra_policy(reader: SettingReader) -> EntraPolicy:
    tenant_id = reader.required("ENTRA_TENANT_ID").lower()
    if tenant_id and tenant_id != MULTI_TENANT:
        reader.guid("ENTRA_TENANT_ID", tenant_id)
    allowed_tenants = reader.guids("ENTRA_ALLOWED_TENANT_IDS")
    if tenant_id == MULTI_TENANT and not allowed_tenants:
        reader.problem("ENTRA_ALLOWED_TENANT_IDS", "is required when ENTRA_TENANT_ID is 'organizations'")
    if tenant_id and tenant_id != MULTI_TENANT:
        allowed_tenants = [tenant_id]

    api_client_id = reader.required("ENTRA_API_CLIENT_ID").lower()
    reader.guid("ENTRA_API_CLIENT_ID", api_client_id)
    audiences = {api_client_id, f"api://{api_client_id}", *split_list(reader.get("ENTRA_API_AUDIENCES"))}

    scopes = tuple(split_list(reader.value("REQUIRED_SCOPES")))
    if not scopes:
        reader.problem("REQUIRED_SCOPES", "must name at least one scope")
    client_apps = reader.guids("ALLOWED_CLIENT_APP_IDS")
    return EntraPolicy(
        tenant_id=tenant_id,
        allowed_tenant_ids=frozenset(allowed_tenants),
        audiences=frozenset(audiences),
        authority=_authority(reader, tenant_id),
        required_scopes=scopes,
        allowed_client_app_ids=frozenset(client_apps) if client_apps else None,
        clock_skew_seconds=reader.integer("CLOCK_SKEW_SECONDS", 0, MAX_CLOCK_SKEW_SECONDS),
    )


def _authority(reader: SettingReader, tenant_id: str) -> str:
    raw = reader.value("ENTRA_AUTHORITY") or ""
    authority = raw.replace(TENANT_PLACEHOLDER, tenant_id).rstrip("/")
    problem = fetch_url_problem(authority)
    parts = split_url(authority)
    if problem is not None:
        shown = f", got {raw!r}" if problem == "must be an https URL" else ""
        reader.problem("ENTRA_AUTHORITY", problem + shown)
    elif parts is not None and (parts.query or parts.fragment):
        reader.problem("ENTRA_AUTHORITY", "must not have a query or fragment")
    return authority
