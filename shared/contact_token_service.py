"""The whole job, without HTTP: bearer token in, contact token out (or a ContactTokenError saying why not)."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from shared.claims import map_claims
from shared.configuration import ConfigurationProvider
from shared.contact_token import mint_contact_token
from shared.entra import AccessTokenVerifier, bearer_token, build_rs256_key
from shared.health import Readiness, readiness
from shared.http_json import JsonFetcher
from shared.openid import OpenIdProvider
from shared.settings import Settings
from shared.telemetry import measured_contact_token_request

_log = logging.getLogger(__name__)


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
    ) -> None:
        self.configuration = configuration
        self._fetcher = fetcher or JsonFetcher()
        self._clock = clock
        self._monotonic = monotonic
        # Kept across configuration refreshes (the key cache survives them) until the authority changes.
        self._provider: OpenIdProvider[Any] | None = None
        # Rebuilt only when the configuration provider hands out a new Settings object, not per request.
        self._verifier: tuple[Settings, AccessTokenVerifier] | None = None

    def provider_for(self, settings: Settings) -> OpenIdProvider[Any]:
        provider = self._provider
        if provider is None or provider.metadata_url != settings.metadata_url:
            provider = OpenIdProvider(
                settings.metadata_url, build_rs256_key, fetcher=self._fetcher, clock=self._monotonic
            )
            self._provider = provider
        return provider

    def verifier_for(self, settings: Settings) -> AccessTokenVerifier:
        cached = self._verifier
        if cached is not None and cached[0] is settings:
            return cached[1]
        verifier = AccessTokenVerifier(settings, self.provider_for(settings), clock=self._clock)
        self._verifier = (settings, verifier)
        return verifier

    def readiness(self) -> Readiness:
        """What GET /api/health answers (shared/health.py): not a contact-token request, not counted as one."""
        return readiness(self)

    @measured_contact_token_request
    def issue(self, authorization: str | None) -> IssuedContactToken:
        token = bearer_token(authorization)
        settings = self.configuration.current()
        claims = self.verifier_for(settings).verify(token)
        mapped = map_claims(claims, settings.custom_attributes, settings.customer_id_claim)
        if settings.verbose_log:
            _log.info("verbose: claims received: %s", json.dumps(claims, sort_keys=True, default=str))
            if mapped.missing_claims:
                _log.info("verbose: claims not in this token: %s", ", ".join(mapped.missing_claims))
        contact = mint_contact_token(
            widget_id=settings.widget_id,
            secret=settings.widget_secret.reveal(),
            attributes=mapped.attributes,
            ttl_seconds=settings.token_ttl_seconds,
            now=self._clock(),
            segment_attributes=settings.segment_attributes,
            customer_id=mapped.customer_id,
        )
        return IssuedContactToken(jwt=contact.jwt, expires_in=contact.expires_in, display_name=mapped.display_name)
