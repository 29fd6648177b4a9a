"""The identity side: the authority's metadata and keys (with the function's own parsers), the token's scope."""

from __future__ import annotations

import requests

from connect_sso_admin.doctor.jwt_parts import JwtParts
from connect_sso_admin.doctor.report import Result, failed, passed, skipped
from connect_sso_admin.doctor.target import Target
from shared.http_json import FetchError, JsonFetcher
from shared.openid import parse_metadata, usable_rs256_jwks


def metadata_url(authority: str, protocol_mode: str = "AAD") -> str:
    """The page's msal.authority -> the v2.0 metadata the function reads (OIDC authorities are used as given)."""
    base = authority.rstrip("/")
    if protocol_mode != "OIDC" and not base.endswith("/v2.0"):
        base += "/v2.0"
    return f"{base}/.well-known/openid-configuration"


def check_identity(target: Target) -> list[Result]:
    return [_metadata(target), _scope(target)]


def _authority(target: Target) -> tuple[str | None, str]:
    if target.authority:
        return target.authority, "AAD"
    if target.page_config is not None:
        msal = target.page_config["msal"]
        return msal["authority"], msal.get("protocolMode") or "AAD"
    return None, "AAD"


def _metadata(target: Target) -> Result:
    authority, mode = _authority(target)
    if authority is None:
        return skipped("identity.metadata", "no --authority given and no valid config.json")
    url = metadata_url(authority, mode)
    fetcher = JsonFetcher(target.session())
    try:
        metadata = parse_metadata(fetcher.get_object(url), url)
        keys = usable_rs256_jwks(fetcher.get_object(metadata.jwks_uri))
    except FetchError as error:
        return failed("identity.metadata", str(error), _metadata_hint(error))
    if not keys:
        return failed("identity.metadata", f"{metadata.jwks_uri} has no usable RS256 key")
    return passed("identity.metadata", f"issuer {metadata.issuer}, {len(keys)} RS256 signing keys")


def _metadata_hint(error: FetchError) -> str:
    """A certificate the client does not trust is not a wrong authority: say what to trust instead."""
    if isinstance(error.__cause__, requests.exceptions.SSLError):
        return (
            "the provider's TLS certificate is not trusted: pass --ca-bundle with its CA "
            "(the scripts/run provider: --ca-bundle .dev/localhost.crt)"
        )
    return "check msal.authority / --authority (tenant id, cloud)"


def _scope(target: Target) -> Result:
    if not target.token:
        return skipped("identity.scope", "no --token given")
    if target.page_config is None:
        return skipped("identity.scope", "no valid config.json to read msal.apiScope from")
    try:
        claims = JwtParts.parse(target.token).claims
    except ValueError as error:
        return failed("identity.scope", f"the token is not a JWT access token: {error}")
    api_scope = target.page_config["msal"]["apiScope"]  # api://<client id>/JWT.Read
    resource, _, scope = api_scope.rpartition("/")
    client_id = resource.removeprefix("api://")
    audience = claims.get("aud")
    scopes = str(claims.get("scp", "")).split()
    if audience not in (resource, client_id):
        return failed(
            "identity.scope",
            f"the token's aud {audience!r} is not the page's API {resource}",
            "request the token for msal.apiScope (az account get-access-token --scope <apiScope>)",
        )
    if scope not in scopes:
        return failed(
            "identity.scope",
            f"the token's scp {' '.join(scopes) or '(none)'} lacks {scope}",
            "expose the scope on the API app registration and consent to it",
        )
    return passed("identity.scope", f"token for {resource} with scope {scope}")
