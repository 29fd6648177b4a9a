"""The whole job, without HTTP: bearer token in, contact token out (or a ContactTokenError saying why not)."""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from shared.auth_context import AUTH_CONTEXT_ATTRIBUTE, require_auth_context
from shared.chat_history import ChatHistory, TableClientFactory, sdk_table_client
from shared.claims import PREVIOUS_CONTACT_ATTRIBUTE, map_claims
from shared.configuration import (
    APP_CONFIG_REFRESH_SECONDS,
    ConfigurationProvider,
    StoreLoaderFactory,
    sdk_store_loader,
)
from shared.contact_token import mint_contact_token
from shared.entra import Claims, TokenVerification, bearer_token
from shared.errors import ContactTokenError, ServiceUnavailable, UnknownWidget
from shared.guids import is_guid
from shared.health import Readiness, readiness
from shared.http_json import JsonFetcher
from shared.last_contact import LastContacts
from shared.settings import Settings
from shared.telemetry import measured_contact_token_request
from shared.widget import Widget

_log = logging.getLogger(__name__)


def unknown_widget(widget_id: str) -> UnknownWidget:
    # A UUID is public (it is in the page's snippet) and safe to log; anything else is only measured.
    shown = widget_id if is_guid(widget_id) else f"a value that is not a UUID ({len(widget_id)} characters)"
    return UnknownWidget(
        "widgetId does not name a widget this service is configured for",
        log_detail=f"widgetId {shown} is neither CONNECT_WIDGET_ID nor a key of CONNECT_WIDGETS",
    )


def shown_claims(claims: Mapping[str, object]) -> str:
    """The claims as JSON for the verbose log; a payload nested deeper than the encoder's stack is not shown."""
    try:
        return json.dumps(claims, sort_keys=True, default=str)
    except (RecursionError, ValueError):
        return f"(not shown: nested too deeply; claim names {', '.join(sorted(claims))})"


def widget_unavailable(widget: Widget) -> ServiceUnavailable:
    # The widget id is public; the setting is named, its value never.
    return ServiceUnavailable(
        "this widget's security key cannot be read right now; the service's log names the setting to fix",
        code="widget_unavailable",
        retry_after_seconds=int(APP_CONFIG_REFRESH_SECONDS),
        log_detail=f"widget {widget.widget_id}: its key setting {widget.secret_setting} is unset or empty, or its "
        "Key Vault reference cannot be resolved",
    )


@dataclass(frozen=True)
class IssuedContactToken:
    jwt: str
    expires_in: int
    display_name: str


class ContactTokenService:
    def __init__(
        self,
        configuration: ConfigurationProvider,
        *,
        fetcher: JsonFetcher | None = None,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        table_client_factory: TableClientFactory = sdk_table_client,
    ) -> None:
        self._configuration = configuration
        self._clock = clock
        self._verification = TokenVerification(fetcher=fetcher, clock=clock, monotonic=monotonic)
        self._last_contacts = LastContacts(ChatHistory(table_client_factory), clock)

    @classmethod
    def from_environment(
        cls,
        environ: Mapping[str, str],
        *,
        fetcher: JsonFetcher | None = None,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        store_loader_factory: StoreLoaderFactory = sdk_store_loader,
        table_client_factory: TableClientFactory = sdk_table_client,
    ) -> ContactTokenService:
        """The service as the function runs it: settings from `environ` (and App Configuration when it names one);
        the keyword arguments are seams for tests and benchmarks."""
        configuration = ConfigurationProvider(environ, store_loader_factory=store_loader_factory, clock=monotonic)
        return cls(
            configuration,
            fetcher=fetcher,
            clock=clock,
            monotonic=monotonic,
            table_client_factory=table_client_factory,
        )

    def warm_up(self) -> None:
        """At start: report configuration errors and fetch signing keys before the first customer waits for them."""
        settings = self._configuration.check_at_start()
        if settings is not None:
            # A failure is logged where it happens; requests answer 503 until it recovers.
            with contextlib.suppress(ContactTokenError):
                self._verification.provider(settings.entra).warm()

    def join_background(self, timeout: float = 10.0) -> None:
        """Waits for background refreshes of the configuration and the signing keys (tests and shutdown)."""
        self._configuration.join_background(timeout)
        self._verification.join_background(timeout)

    def readiness(self) -> Readiness:
        """What GET /api/health answers (shared/health.py): not a contact-token request, not counted as one."""
        return readiness(
            self._configuration.current, lambda settings: self._verification.provider(settings.entra).warm()
        )

    @measured_contact_token_request
    def issue(self, authorization: str | None, widget_id: str | None = None) -> IssuedContactToken:
        """`widget_id`: the request's `widgetId` (None: the default widget)."""
        settings, claims, widget = self._caller(authorization, widget_id)
        mapped = map_claims(claims, widget.attribute_rules)
        if widget.required_auth_context is not None:
            # The context the function checked (no claim may be mapped to this name: claims.RESERVED_ATTRIBUTES).
            mapped.attributes[AUTH_CONTEXT_ATTRIBUTE] = widget.required_auth_context
        if settings.verbose_log:
            _log.info("verbose: claims received: %s", shown_claims(claims))
            if mapped.missing_claims:
                _log.info("verbose: claims not in this token: %s", ", ".join(mapped.missing_claims))
        attributes = mapped.attributes
        previous_contact = self._last_contacts.previous_contact(settings, widget, claims)
        if previous_contact is not None:
            attributes = {**attributes, PREVIOUS_CONTACT_ATTRIBUTE: previous_contact}
        contact = mint_contact_token(widget, attributes=attributes, now=self._clock(), customer_id=mapped.customer_id)
        return IssuedContactToken(jwt=contact.jwt, expires_in=contact.expires_in, display_name=mapped.display_name)

    def remember_last_contact(self, authorization: str | None, widget_id: str | None, body: bytes) -> None:
        """PUT /api/contacts/last: the caller's chat with `widget_id` is `body`'s contactId."""
        settings, claims, widget = self._caller(authorization, widget_id)
        self._last_contacts.remember(settings, widget, claims, body)

    def forget_last_contact(self, authorization: str | None, widget_id: str | None) -> None:
        """DELETE /api/contacts/last: the caller's own entry for `widget_id` is deleted."""
        settings, claims, widget = self._caller(authorization, widget_id)
        self._last_contacts.forget(settings, widget, claims)

    def _caller(self, authorization: str | None, widget_id: str | None) -> tuple[Settings, Claims, Widget]:
        """The verified caller and the widget named: every route checks both alike (same codes). Credentials
        are checked first, so an anonymous caller learns nothing about which widgets exist."""
        token = bearer_token(authorization)
        settings = self._configuration.current()
        claims = self._verification.verifier(settings.entra).verify(token)
        widget = settings.widget_for(widget_id)
        if widget is None:
            raise unknown_widget(widget_id or "")
        require_auth_context(claims, widget.required_auth_context)  # step-up: before anything is minted or stored
        if not widget.available:
            raise widget_unavailable(widget)
        return settings, claims, widget
