"""An OpenID provider's metadata and signing keys, cached by `kid` the way Microsoft recommends.

Refresh every 24 h in the background; on an unknown `kid` refresh at once the first time, then at most once per
5 minutes counted between unknown-`kid` refreshes (Microsoft.IdentityModel's RequestRefresh: the start-up load and
the daily refresh do not use up that allowance); keep the last good key set when a refresh fails; one fetch in
flight at a time; no network call per request once warm. Keys are turned into key objects once, when fetched,
by the `build_key` the verifier supplies.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from shared.errors import InvalidToken, ServiceUnavailable
from shared.http_json import FetchError, JsonFetcher, check_url
from shared.refreshing import RefreshingValue
from shared.telemetry import KEY_FETCH_SPAN, record_key_fetch, traced

K = TypeVar("K")
_log = logging.getLogger(__name__)

KEY_SET_MAX_AGE_SECONDS = 24 * 3600
UNKNOWN_KID_MIN_GAP_SECONDS = 5 * 60
COLD_RETRY_SECONDS = 5.0
MAX_KEYS = 64


@dataclass(frozen=True)
class ProviderMetadata:
    issuer: str
    jwks_uri: str


@dataclass(frozen=True)
class ProviderState(Generic[K]):
    """What one successful fetch produced: metadata and the key objects by `kid`."""

    metadata: ProviderMetadata
    keys: Mapping[str, K]


def parse_metadata(document: Mapping[str, Any], metadata_url: str) -> ProviderMetadata:
    issuer = document.get("issuer")
    jwks_uri = document.get("jwks_uri")
    if not isinstance(issuer, str) or not issuer:
        raise FetchError(f"{metadata_url} has no issuer")
    if not isinstance(jwks_uri, str) or not jwks_uri:
        raise FetchError(f"{metadata_url} has no jwks_uri")
    check_url(jwks_uri)
    return ProviderMetadata(issuer=issuer, jwks_uri=jwks_uri)


def usable_rs256_jwks(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The entries of a JWKS that can verify RS256 signatures; everything else is ignored."""
    entries = document.get("keys")
    if not isinstance(entries, list):
        raise FetchError("the key set has no 'keys' list")
    usable = []
    for entry in entries[:MAX_KEYS]:
        if not isinstance(entry, dict):
            continue
        if entry.get("kty") != "RSA" or entry.get("use", "sig") != "sig":
            continue
        if entry.get("alg", "RS256") != "RS256":
            continue
        if not isinstance(entry.get("kid"), str) or not entry["kid"]:
            continue
        if not isinstance(entry.get("n"), str) or not isinstance(entry.get("e"), str):
            continue
        usable.append(entry)
    return usable


class UnusableSigningKey(ValueError):
    """Raised by a `build_key` that refuses a well-formed key on purpose; the message is safe to log."""


def _skip_reason(error: Exception) -> str:
    return str(error) if isinstance(error, UnusableSigningKey) else type(error).__name__


def signing_keys_unavailable() -> ServiceUnavailable:
    return ServiceUnavailable(
        "the identity provider's signing keys cannot be loaded right now",
        code="signing_keys_unavailable",
        retry_after_seconds=int(COLD_RETRY_SECONDS) + 1,
    )


class OpenIdProvider(Generic[K]):
    def __init__(
        self,
        metadata_url: str,
        build_key: Callable[[dict[str, Any]], K],
        *,
        fetcher: JsonFetcher | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.metadata_url = metadata_url
        self._build_key = build_key
        self._skipped_kids: set[str] = set()
        self._fetcher = fetcher or JsonFetcher()
        self._state: RefreshingValue[ProviderState[K]] = RefreshingValue(
            traced(KEY_FETCH_SPAN, self._fetch),
            name=f"signing keys of {metadata_url}",
            max_age=KEY_SET_MAX_AGE_SECONDS,
            min_gap=UNKNOWN_KID_MIN_GAP_SECONDS,
            retry_empty_after=COLD_RETRY_SECONDS,
            clock=clock,
            on_load=record_key_fetch,
        )

    def warm(self) -> bool:
        """Loads the key set if there is none yet (never more than a request would); True when keys are held."""
        return self._state.get() is not None

    def join_background(self, timeout: float = 10.0) -> None:
        self._state.join_background(timeout)

    def key_and_metadata(self, kid: str) -> tuple[K, ProviderMetadata]:
        generation = self._state.generation
        state = self._current()
        key = state.keys.get(kid)
        if key is None:
            # Entra can roll keys at any time: look again (the first time at once, then at most once per
            # UNKNOWN_KID_MIN_GAP_SECONDS), and a key withdrawn meanwhile is gone from the new set.
            self._state.request_refresh(seen_generation=generation)
            state = self._current()
            key = state.keys.get(kid)
        if key is None:
            raise InvalidToken("the token was signed with a key this service does not know", code="unknown_signing_key")
        return key, state.metadata

    def _current(self) -> ProviderState[K]:
        return self._state.require(signing_keys_unavailable)

    def _fetch(self) -> ProviderState[K]:
        metadata = parse_metadata(self._fetcher.get_object(self.metadata_url), self.metadata_url)
        keys: dict[str, K] = {}
        for entry in usable_rs256_jwks(self._fetcher.get_object(metadata.jwks_uri)):
            try:
                keys[entry["kid"]] = self._build_key(entry)
            except Exception as error:
                if entry["kid"] not in self._skipped_kids:  # once per key, not at every refresh
                    self._skipped_kids.add(entry["kid"])
                    _log.warning("ignoring signing key %r: %s", entry["kid"], _skip_reason(error))
        if not keys:
            raise FetchError(f"{metadata.jwks_uri} has no usable RS256 signing key")
        _log.info("loaded %d signing keys from %s", len(keys), metadata.jwks_uri)
        return ProviderState(metadata=metadata, keys=keys)
