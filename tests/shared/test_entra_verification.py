"""Access-token verification, rule by rule, against a real loopback server publishing the keys.

Each test removes one condition from an otherwise valid token, so it fails if that rule is dropped.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from shared.errors import ContactTokenError
from tools.testkit.fake_entra import FakeEntra, running_fake_entra
from tools.testkit.service import base_settings, decode_contact_token, make_service
from tools.testkit.tokens import (
    API_CLIENT_ID,
    OTHER_TENANT_ID,
    SPA_CLIENT_ID,
    TENANT_ID,
    USER_OID,
    SigningKey,
    access_token,
    compact,
    entra_v1_claims,
    entra_v2_claims,
    v1_issuer,
    v2_issuer,
)


def issue(fake_entra: FakeEntra, token: str | None, **settings: str | None) -> Any:
    service = make_service(base_settings(fake_entra.authority, **settings))
    return service.issue(None if token is None else f"Bearer {token}")


def refused(fake_entra: FakeEntra, token: str | None, **settings: str | None) -> ContactTokenError:
    with pytest.raises(ContactTokenError) as caught:
        issue(fake_entra, token, **settings)
    return caught.value


def assert_refused(fake_entra: FakeEntra, token: str, status: int, code: str, **settings: str | None) -> None:
    error = refused(fake_entra, token, **settings)
    assert (error.status, error.code) == (status, code), error.detail


def test_a_valid_v2_token_gives_a_contact_token_with_the_users_attributes(fake_entra: FakeEntra) -> None:
    issued = issue(fake_entra, access_token(fake_entra.key))
    claims = decode_contact_token(issued.jwt)
    assert claims["attributes"] == {
        "name": "Ada Lovelace",
        "email": "ada@contoso.example",
        "userId": USER_OID,
        "tenantId": TENANT_ID,
    }
    assert claims["exp"] - claims["iat"] == 600 == issued.expires_in
    assert abs(claims["iat"] - time.time()) < 5
    assert issued.display_name == "Ada Lovelace"


def test_a_v1_token_of_the_same_tenant_is_accepted(fake_entra: FakeEntra) -> None:
    issued = issue(fake_entra, access_token(fake_entra.key, entra_v1_claims()))
    assert decode_contact_token(issued.jwt)["attributes"]["email"] == "ada@contoso.example"


def test_a_v1_issuer_of_another_tenant_is_refused(fake_entra: FakeEntra) -> None:
    token = access_token(fake_entra.key, entra_v1_claims(iss=v1_issuer(OTHER_TENANT_ID)))
    assert_refused(fake_entra, token, 401, "invalid_issuer")


@pytest.mark.parametrize(
    "issuer",
    [
        "https://login.microsoftonline.com/common/v2.0",
        f"https://login.microsoftonline.com/{TENANT_ID}/v2.0/",
        f"https://login.microsoftonline.com.evil.example/{TENANT_ID}/v2.0",
        f"https://login.microsoftonline.com/{OTHER_TENANT_ID}/v2.0",
        None,
    ],
)
def test_issuers_other_than_the_exact_one_are_refused(fake_entra: FakeEntra, issuer: str | None) -> None:
    claims = entra_v2_claims()
    claims.pop("iss")
    if issuer is not None:
        claims["iss"] = issuer
    assert_refused(fake_entra, access_token(fake_entra.key, claims), 401, "invalid_issuer")


def test_a_token_of_another_tenant_is_refused(fake_entra: FakeEntra) -> None:
    token = access_token(fake_entra.key, entra_v2_claims(tid=OTHER_TENANT_ID, iss=v2_issuer(OTHER_TENANT_ID)))
    assert_refused(fake_entra, token, 401, "tenant_not_allowed")


def test_multi_tenant_accepts_allowed_tenants_only(signing_keys: list[SigningKey]) -> None:
    with running_fake_entra(tenant="organizations", keys=[signing_keys[0]]) as server:
        settings = {"ENTRA_TENANT_ID": "organizations", "ENTRA_ALLOWED_TENANT_IDS": TENANT_ID}
        issued = issue(server, access_token(server.key), **settings)
        assert decode_contact_token(issued.jwt)["attributes"]["tenantId"] == TENANT_ID
        other = access_token(server.key, entra_v2_claims(tid=OTHER_TENANT_ID, iss=v2_issuer(OTHER_TENANT_ID)))
        assert_refused(server, other, 401, "tenant_not_allowed", **settings)
        mismatched = access_token(server.key, entra_v2_claims(iss=v2_issuer(OTHER_TENANT_ID)))
        assert_refused(server, mismatched, 401, "invalid_issuer", **settings)
        not_a_guid = access_token(server.key, entra_v2_claims(tid="{tenantid}"))
        assert_refused(server, not_a_guid, 401, "invalid_claim", **settings)


@pytest.mark.parametrize("audience", [API_CLIENT_ID, f"api://{API_CLIENT_ID}", "api://contoso.example/chat"])
def test_accepted_audiences(fake_entra: FakeEntra, audience: str) -> None:
    token = access_token(fake_entra.key, entra_v2_claims(aud=audience))
    assert issue(fake_entra, token, ENTRA_API_AUDIENCES="api://contoso.example/chat").jwt


@pytest.mark.parametrize(
    "audience",
    ["00000003-0000-0000-c000-000000000000", f"api://{API_CLIENT_ID}/", [API_CLIENT_ID], None],
)
def test_other_audiences_are_refused(fake_entra: FakeEntra, audience: Any) -> None:
    claims = entra_v2_claims()
    claims.pop("aud")
    if audience is not None:
        claims["aud"] = audience
    assert_refused(fake_entra, access_token(fake_entra.key, claims), 401, "invalid_audience")


def test_lifetime_rules_with_clock_skew(fake_entra: FakeEntra) -> None:
    now = int(time.time())
    expired = access_token(fake_entra.key, entra_v2_claims(exp=now - 61))
    assert_refused(fake_entra, expired, 401, "token_expired")
    within_skew = access_token(fake_entra.key, entra_v2_claims(exp=now - 30))
    assert issue(fake_entra, within_skew).jwt
    assert_refused(fake_entra, within_skew, 401, "token_expired", CLOCK_SKEW_SECONDS="0")
    early = access_token(fake_entra.key, entra_v2_claims(nbf=now + 120))
    assert_refused(fake_entra, early, 401, "token_not_yet_valid")
    future = access_token(fake_entra.key, entra_v2_claims(iat=now + 120, nbf=None))
    assert_refused(fake_entra, future, 401, "token_not_yet_valid")
    no_expiry = access_token(fake_entra.key, entra_v2_claims(exp=None))
    assert_refused(fake_entra, no_expiry, 401, "invalid_claim")
    string_expiry = access_token(fake_entra.key, entra_v2_claims(exp=str(now + 3600)))
    assert_refused(fake_entra, string_expiry, 401, "invalid_claim")


def test_an_app_only_token_is_forbidden(fake_entra: FakeEntra) -> None:
    assert_refused(fake_entra, access_token(fake_entra.key, entra_v2_claims(scp=None)), 403, "app_only_token")
    marked = access_token(fake_entra.key, entra_v2_claims(idtyp="app"))
    assert_refused(fake_entra, marked, 403, "app_only_token")


def test_the_scope_rule(fake_entra: FakeEntra) -> None:
    wrong = access_token(fake_entra.key, entra_v2_claims(scp="User.Read JWT.ReadX"))
    error = refused(fake_entra, wrong)
    assert (error.status, error.code, error.required_scope) == (403, "insufficient_scope", "JWT.Read")
    in_roles_only = access_token(fake_entra.key, entra_v2_claims(scp="User.Read", roles=["JWT.Read"]))
    assert_refused(fake_entra, in_roles_only, 403, "insufficient_scope")
    any_one = access_token(fake_entra.key, entra_v2_claims(scp="User.Read Chat.Start"))
    assert issue(fake_entra, any_one, REQUIRED_SCOPES="JWT.Read Chat.Start").jwt


def test_the_client_application_allow_list(fake_entra: FakeEntra) -> None:
    token = access_token(fake_entra.key)
    assert issue(fake_entra, token, ALLOWED_CLIENT_APP_IDS=SPA_CLIENT_ID.upper()).jwt
    assert_refused(fake_entra, token, 403, "client_app_not_allowed", ALLOWED_CLIENT_APP_IDS=API_CLIENT_ID)
    v1 = access_token(fake_entra.key, entra_v1_claims())
    assert issue(fake_entra, v1, ALLOWED_CLIENT_APP_IDS=SPA_CLIENT_ID).jwt


def test_header_rules(fake_entra: FakeEntra) -> None:
    key = fake_entra.key
    assert_refused(fake_entra, access_token(key, alg="RS384"), 401, "unsupported_algorithm")
    assert_refused(fake_entra, access_token(key, kid=None), 401, "missing_key_id")
    assert_refused(fake_entra, access_token(key, kid=""), 401, "missing_key_id")
    for header in ("jku", "x5u", "jwk", "crit"):
        token = access_token(key, **{header: "https://attacker.example/keys"})
        assert_refused(fake_entra, token, 401, "forbidden_header")
    graph = access_token(key, entra_v2_claims(aud="00000003-0000-0000-c000-000000000000"), nonce="abc")
    assert_refused(fake_entra, graph, 401, "token_for_another_resource")


def test_signature_rules(fake_entra: FakeEntra, signing_keys: list[SigningKey]) -> None:
    valid = access_token(fake_entra.key)
    header, payload, signature = valid.split(".")
    assert_refused(fake_entra, f"{header}.{payload}.", 401, "invalid_signature")
    flipped = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]
    assert_refused(fake_entra, f"{header}.{payload}.{flipped}", 401, "invalid_signature")
    other_payload = access_token(fake_entra.key, entra_v2_claims(name="Mallory")).split(".")[1]
    assert_refused(fake_entra, f"{header}.{other_payload}.{signature}", 401, "invalid_signature")
    impostor = SigningKey(fake_entra.key.kid, signing_keys[1].private_key)  # a real kid, the attacker's key
    assert_refused(fake_entra, access_token(impostor), 401, "invalid_signature")
    unknown = access_token(signing_keys[2])
    assert_refused(fake_entra, unknown, 401, "unknown_signing_key")


def test_structure_rules(fake_entra: FakeEntra) -> None:
    key = fake_entra.key
    assert_refused(fake_entra, "a.b.c.d.e", 401, "malformed_token")
    assert_refused(fake_entra, "onlyonepart", 401, "malformed_token")
    assert_refused(fake_entra, "x" * (16 * 1024 + 1), 401, "token_too_large")
    duplicate = b'{"aud":"' + API_CLIENT_ID.encode() + b'","aud":"someone-else"}'
    assert_refused(
        fake_entra,
        compact({"alg": "RS256", "kid": key.kid}, duplicate, key),
        401,
        "malformed_token",
    )
    assert_refused(fake_entra, compact(b"[1,2]", entra_v2_claims(), key), 401, "malformed_token")
    assert_refused(fake_entra, "e30.e30.!!!!", 401, "malformed_token")


def test_credentials_must_be_a_single_bearer_token(fake_entra: FakeEntra) -> None:
    service = make_service(base_settings(fake_entra.authority))
    token = access_token(fake_entra.key)
    for header in (None, "", "   ", f"Basic {token}", "Basic YWRhOnBhc3N3b3Jk", "Negotiate abc"):
        with pytest.raises(ContactTokenError) as caught:
            service.issue(header)
        assert (caught.value.code, caught.value.headers()) == ("missing_token", {"WWW-Authenticate": "Bearer"})
    for header in (f"Bearer {token} extra", "Bearer ", f"Bearer\t{token}x y", f"Bearer {token}é"):
        with pytest.raises(ContactTokenError) as caught:
            service.issue(header)
        assert caught.value.code == "malformed_token", header[:12]
    assert service.issue(f"bearer  {token}").jwt
    with pytest.raises(ContactTokenError) as caught:
        service.issue("Bearer " + "A" * (17 * 1024))
    assert caught.value.code == "token_too_large"


def test_an_oid_is_required(fake_entra: FakeEntra) -> None:
    assert_refused(fake_entra, access_token(fake_entra.key, entra_v2_claims(oid=None)), 401, "invalid_claim")


def test_custom_attributes_segment_attributes_and_customer_id(fake_entra: FakeEntra) -> None:
    claims = entra_v2_claims(department="Research", groups=["a", "b"], employeeId=42)
    issued = issue(
        fake_entra,
        access_token(fake_entra.key, claims),
        SSO_CUSTOM_ATTRIBUTES="department,groups:groupList,missingClaim",
        CONNECT_SEGMENT_ATTRIBUTES='{"connect:Subtype": {"ValueString": "connect:Guide"}}',
        CONNECT_CUSTOMER_ID_CLAIM="employeeId",
    )
    contact = decode_contact_token(issued.jwt)
    assert contact["attributes"]["department"] == "Research"
    assert contact["attributes"]["groupList"] == "a,b"
    assert "missingClaim" not in contact["attributes"]
    assert contact["segmentAttributes"] == {"connect:Subtype": {"ValueString": "connect:Guide"}}
    assert contact["customerId"] == "42"


def test_an_oversized_contact_token_is_a_specific_500(fake_entra: FakeEntra) -> None:
    token = access_token(fake_entra.key, entra_v2_claims(notes="n" * 7000))
    error = refused(fake_entra, token, SSO_CUSTOM_ATTRIBUTES="notes")
    assert (error.status, error.code) == (500, "contact_token_too_large")


def test_the_ttl_setting_shortens_the_contact_token(fake_entra: FakeEntra) -> None:
    issued = issue(fake_entra, access_token(fake_entra.key), CONNECT_TOKEN_TTL_SECONDS="120")
    claims = decode_contact_token(issued.jwt)
    assert claims["exp"] - claims["iat"] == 120 == issued.expires_in


def test_keys_are_python_jose_rs256_keys_on_the_cryptography_backend(signing_keys: list[SigningKey]) -> None:
    from jose.backends.cryptography_backend import CryptographyRSAKey

    from shared.entra import build_rs256_key

    key = build_rs256_key(signing_keys[0].jwk())
    assert isinstance(key, CryptographyRSAKey)  # not the pure-Python rsa fallback
    assert key.hash_alg.name == "sha256"  # the algorithm is pinned at construction: RS256 only


def test_a_flood_of_foreign_tokens_logs_one_info_line_per_kind_a_minute_and_the_rest_at_debug(
    fake_entra: FakeEntra, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 22, item 10: the tenant, issuer and audience refusals are sampled as function_app's refusals are."""
    import logging

    import shared.entra
    from shared.log_sampling import OncePerInterval

    now = [1000.0]
    monkeypatch.setattr(shared.entra, "_refusal_log", OncePerInterval(60.0, clock=lambda: now[0]))
    service = make_service(base_settings(fake_entra.authority))
    foreign = {
        "from tenant": entra_v2_claims(tid=OTHER_TENANT_ID, iss=v2_issuer(OTHER_TENANT_ID)),
        "with issuer": entra_v2_claims(iss="https://issuer.invalid/v2.0"),
        "for audience": entra_v2_claims(aud="api://someone-else"),
    }
    with caplog.at_level(logging.DEBUG, logger="shared.entra"):
        for claims in foreign.values():
            token = f"Bearer {access_token(fake_entra.key, claims)}"
            for _ in range(20):
                with pytest.raises(ContactTokenError):
                    service.issue(token)
        now[0] += 61
        with pytest.raises(ContactTokenError):
            service.issue(f"Bearer {access_token(fake_entra.key, foreign['from tenant'])}")
    for kind in foreign:
        lines = [r for r in caplog.records if r.getMessage().startswith(f"refused a token {kind}")]
        info = [r.getMessage() for r in lines if r.levelno == logging.INFO]
        assert len(lines) == (21 if kind == "from tenant" else 20)
        assert len(info) == (2 if kind == "from tenant" else 1), kind
    assert info_of_tenant_ends_with(caplog, "(19 more since the last)")


def info_of_tenant_ends_with(caplog: pytest.LogCaptureFixture, suffix: str) -> bool:
    import logging

    info = [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.INFO and r.getMessage().startswith("refused a token from tenant")
    ]
    return info[-1].endswith(suffix)
