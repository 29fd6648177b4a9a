"""Verifies Microsoft Entra ID access tokens. The only module that uses python-jose.

Order matters: structure and header first (no key touched), then the key by `kid` from the configured
authority only, then the signature, and only then the claims. The signature is checked by python-jose's RS256 key
object (cryptography backend) built once per key with `algorithm="RS256"`: the algorithm is pinned twice, at the
header check and at key construction, and no key set is ever handed to python-jose.
"""

from __future__ import annotations

import base64
import functools
import logging
import math
import re
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol
from urllib.parse import urlsplit

from jose import jwk
from jose.exceptions import JOSEError

from shared.errors import InsufficientScope, InvalidToken, MissingToken
from shared.guids import is_guid
from shared.http_json import JsonFetcher
from shared.jwt_structure import MAX_TOKEN_BYTES, decode_segment, parse_json_object, read_header
from shared.log_sampling import REFUSAL_LOG_INTERVAL_SECONDS, OncePerInterval, log_sampled
from shared.openid import OpenIdProvider, ProviderMetadata, UnusableSigningKey
from shared.settings import EntraPolicy

ALGORITHM = "RS256"
MIN_RSA_KEY_BITS = 2048
# Headers that point at keys or demand extensions: never followed, so a token carrying them is refused.
FORBIDDEN_HEADERS = ("jku", "x5u", "jwk", "crit")
# v1.0 access tokens are issued by the security token service of the cloud, not the login host.
V1_ISSUER_HOSTS = {
    "login.microsoftonline.com": "sts.windows.net",
    "login.microsoftonline.us": "sts.windows.net",
    "login.partner.microsoftonline.cn": "sts.chinacloudapi.cn",
}
TENANT_PLACEHOLDER = "{tenantid}"
# The same characters as str.isspace, found in C: a per-character generator cost ~40 us on a 1 KB token.
_WHITESPACE = re.compile(r"\s")
_log = logging.getLogger(__name__)
# Sampled like function_app's refusals: a flood of foreign tokens must not fill the Log Analytics daily cap.
_refusal_log = OncePerInterval(REFUSAL_LOG_INTERVAL_SECONDS)

Claims = dict[str, Any]


class VerificationKey(Protocol):
    """What the verifier needs of a signing key: python-jose's RSAKey (cryptography backend) is one."""

    def verify(self, msg: bytes, sig: bytes) -> bool: ...


class WeakSigningKey(UnusableSigningKey):
    """An RSA key under MIN_RSA_KEY_BITS: RFC 7518 section 3.3 requires 2048 bits or more for RS256."""


def rsa_modulus_bits(entry: Mapping[str, Any]) -> int:
    modulus = entry.get("n")
    if not isinstance(modulus, str):
        raise ValueError("the key has no modulus")
    return int.from_bytes(base64.urlsafe_b64decode(modulus + "=" * (-len(modulus) % 4)), "big").bit_length()


def build_rs256_key(entry: dict[str, Any]) -> VerificationKey:
    """A python-jose key object for one JWKS entry, built once per key set (never per request)."""
    bits = rsa_modulus_bits(entry)
    if bits < MIN_RSA_KEY_BITS:
        raise WeakSigningKey(f"an RSA key of {bits} bits; RS256 needs at least {MIN_RSA_KEY_BITS} (RFC 7518 3.3)")
    key: VerificationKey = jwk.construct(entry, algorithm=ALGORITHM)
    return key


def bearer_token(authorization: str | None) -> str:
    """The token from an `Authorization: Bearer <token>` header (RFC 6750 section 2.1)."""
    if authorization is None or authorization.strip() == "":
        raise MissingToken("send the Entra access token as 'Authorization: Bearer <token>'")
    if len(authorization) > MAX_TOKEN_BYTES + 64:  # refused unread, before any scan of the header
        raise InvalidToken(f"the token is larger than {MAX_TOKEN_BYTES} bytes", code="token_too_large")
    scheme, _, token = _WHITESPACE.sub(" ", authorization.strip(), count=1).partition(" ")
    if scheme.lower() != "bearer":
        # Credentials of a scheme this API does not support are no credentials: the bare challenge, no error
        # code (RFC 6750 section 3.1).
        raise MissingToken(
            "send the Entra access token as 'Authorization: Bearer <token>'; no other scheme is accepted"
        )
    token = token.strip()
    if not token or not token.isascii() or _WHITESPACE.search(token):
        raise InvalidToken("the Authorization header does not hold a single bearer token", code="malformed_token")
    return token


@functools.lru_cache(maxsize=64)
def accepted_issuers(metadata_issuer: str, tenant: str) -> frozenset[str]:
    """The metadata's issuer (multi-tenant: its {tenantid} template filled with the token's GUID tid), and for
    Entra's issuers the v1.0 issuer of the same tenant and cloud. Cached: the same few pairs on every request."""
    issuers = {metadata_issuer.replace(TENANT_PLACEHOLDER, tenant)}
    issuer_host = urlsplit(metadata_issuer).hostname or ""
    if issuer_host in V1_ISSUER_HOSTS:
        issuers.add(f"https://{V1_ISSUER_HOSTS[issuer_host]}/{tenant}/")
    return frozenset(issuers)


def _invalid_claim(detail: str) -> InvalidToken:
    return InvalidToken(detail, code="invalid_claim")


def _numeric_date(claims: Claims, name: str, *, required: bool) -> float | None:
    value = claims.get(name)
    if value is None:
        if required:
            raise _invalid_claim(f"the token has no '{name}' claim")
        return None
    # bool is an int in Python, and python-jose would accept "123": both are refused here.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _invalid_claim(f"the token's '{name}' claim is not a NumericDate")
    try:
        number = float(value)  # a 400-digit integer is valid JSON but overflows a float
    except OverflowError as error:
        raise _invalid_claim(f"the token's '{name}' claim is not a NumericDate") from error
    if not math.isfinite(number):
        raise _invalid_claim(f"the token's '{name}' claim is not a NumericDate")
    return number


def _string_claim(claims: Claims, name: str) -> str | None:
    value = claims.get(name)
    if value is not None and not isinstance(value, str):
        raise _invalid_claim(f"the token's '{name}' claim is not a string")
    return value


class AccessTokenVerifier:
    def __init__(
        self,
        policy: EntraPolicy,
        provider: OpenIdProvider[VerificationKey],
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._policy = policy
        self._provider = provider
        self._clock = clock
        self._required_scope = " ".join(policy.required_scopes)

    def verify(self, token: str) -> Claims:
        header_segment, payload_segment, signature_segment, header = read_header(token)
        kid = self._check_header(header)
        if not signature_segment:
            raise InvalidToken("the token is not signed", code="invalid_signature")
        key, metadata = self._provider.key_and_metadata(kid)
        # The RS256 key object verifies the signing input directly: jws.verify would parse header and payload a
        # second time (a sixth of the request's cost), and both were already read, more strictly, above.
        signing_input = f"{header_segment}.{payload_segment}".encode("ascii")
        try:
            valid = key.verify(signing_input, decode_segment(signature_segment))
        except (JOSEError, ValueError) as error:
            raise InvalidToken("the token's signature is not valid", code="invalid_signature") from error
        if not valid:
            raise InvalidToken("the token's signature is not valid", code="invalid_signature")
        claims = parse_json_object(decode_segment(payload_segment), "payload")
        self._check_claims(claims, metadata)
        return claims

    def _check_header(self, header: Mapping[str, Any]) -> str:
        if header.get("alg") != ALGORITHM:
            raise InvalidToken(f"only {ALGORITHM} tokens are accepted", code="unsupported_algorithm")
        present = [name for name in FORBIDDEN_HEADERS if name in header]
        if present:
            raise InvalidToken(
                f"the token header carries '{present[0]}', which is never honoured", code="forbidden_header"
            )
        if "nonce" in header:
            # Microsoft Graph access tokens carry a header nonce: they are for Graph, not for this API.
            raise InvalidToken("the token is for another resource", code="token_for_another_resource")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise InvalidToken("the token header has no key id (kid)", code="missing_key_id")
        return kid

    def _check_claims(self, claims: Claims, metadata: ProviderMetadata) -> None:
        self._check_lifetime(claims)
        tenant = self._check_tenant(claims)
        self._check_issuer(claims, metadata, tenant)
        self._check_audience(claims)
        if _string_claim(claims, "oid") is None:
            raise _invalid_claim("the token has no 'oid' claim")
        self._check_delegated_scope(claims)
        self._check_client_app(claims)

    def _check_lifetime(self, claims: Claims) -> None:
        now = self._clock()
        skew = self._policy.clock_skew_seconds
        expires = _numeric_date(claims, "exp", required=True)
        not_before = _numeric_date(claims, "nbf", required=False)
        issued = _numeric_date(claims, "iat", required=False)
        if expires is not None and now >= expires + skew:
            raise InvalidToken("the token has expired", code="token_expired")
        if not_before is not None and now + skew < not_before:
            raise InvalidToken("the token is not valid yet", code="token_not_yet_valid")
        if issued is not None and now + skew < issued:
            raise InvalidToken("the token was issued in the future", code="token_not_yet_valid")

    def _check_tenant(self, claims: Claims) -> str:
        tenant = _string_claim(claims, "tid")
        if tenant is None or not is_guid(tenant):
            raise _invalid_claim("the token has no tenant id (tid)")
        if tenant.lower() not in self._policy.allowed_tenant_ids:
            log_sampled(
                _log, _refusal_log, "tenant", "refused a token from tenant %s: not in the allowed tenants", tenant
            )
            raise InvalidToken("the token's tenant is not allowed", code="tenant_not_allowed")
        return tenant

    def _check_issuer(self, claims: Claims, metadata: ProviderMetadata, tenant: str) -> None:
        issuer = _string_claim(claims, "iss")
        if issuer is None or issuer not in accepted_issuers(metadata.issuer, tenant):
            log_sampled(_log, _refusal_log, "issuer", "refused a token with issuer %.200r", issuer)
            raise InvalidToken("the token was not issued by the configured authority", code="invalid_issuer")

    def _check_audience(self, claims: Claims) -> None:
        audience = claims.get("aud")
        if not isinstance(audience, str):
            # Entra issues exactly one audience; a list is someone else's token shape.
            raise InvalidToken("the token must name exactly one audience", code="invalid_audience")
        if audience not in self._policy.audiences:
            log_sampled(_log, _refusal_log, "audience", "refused a token for audience %.200r", audience)
            raise InvalidToken("the token is not for this API", code="invalid_audience")

    def _check_delegated_scope(self, claims: Claims) -> None:
        scopes = _string_claim(claims, "scp")
        if scopes is None or claims.get("idtyp") == "app":
            raise InsufficientScope(
                "application tokens are not accepted: sign in as a user",
                code="app_only_token",
                required_scope=self._required_scope,
            )
        granted = set(scopes.split(" "))
        if not granted.intersection(self._policy.required_scopes):
            raise InsufficientScope(
                "the token does not grant a scope this API requires",
                code="insufficient_scope",
                required_scope=self._required_scope,
            )

    def _check_client_app(self, claims: Claims) -> None:
        allowed = self._policy.allowed_client_app_ids
        if allowed is None:
            return
        client = _string_claim(claims, "azp") or _string_claim(claims, "appid")
        if client is None or client.lower() not in allowed:
            raise InsufficientScope(
                "this client application may not request contact tokens",
                code="client_app_not_allowed",
                required_scope=self._required_scope,
            )


class TokenVerification:
    """The signing-key cache of the configured authority, and the verifier of the policy in force.

    The key cache survives configuration refreshes until the authority changes; the verifier is rebuilt only when
    the policy's value changes (a refresh that changes nothing keeps it)."""

    def __init__(
        self,
        *,
        fetcher: JsonFetcher | None = None,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetcher = fetcher or JsonFetcher()
        self._clock = clock
        self._monotonic = monotonic
        self._provider: OpenIdProvider[VerificationKey] | None = None
        self._verifier: tuple[EntraPolicy, AccessTokenVerifier] | None = None
        self._lock = threading.Lock()

    def provider(self, policy: EntraPolicy) -> OpenIdProvider[VerificationKey]:
        provider = self._provider
        if provider is not None and provider.metadata_url == policy.metadata_url:
            return provider
        with self._lock:  # the warm-up thread and the first requests must share one key cache
            provider = self._provider
            if provider is not None and provider.metadata_url == policy.metadata_url:
                return provider
            provider = OpenIdProvider(
                policy.metadata_url, build_rs256_key, fetcher=self._fetcher, clock=self._monotonic
            )
            self._provider = provider
        return provider

    def verifier(self, policy: EntraPolicy) -> AccessTokenVerifier:
        cached = self._verifier
        if cached is not None and (cached[0] is policy or cached[0] == policy):
            return cached[1]
        verifier = AccessTokenVerifier(policy, self.provider(policy), clock=self._clock)
        self._verifier = (policy, verifier)
        return verifier

    def join_background(self, timeout: float = 10.0) -> None:
        if self._provider is not None:
            self._provider.join_background(timeout)
