"""Entra External ID (customers) and Azure AD B2C: the issuer comes from the authority's metadata, nothing else.

External ID's authority is `https://<subdomain>.ciamlogin.com/<tenant-id>/v2.0` (or a custom URL domain) while
its tokens are issued by `https://<tenant-id>.ciamlogin.com/<tenant-id>/v2.0`: the issuer's host differs from the
authority's. The loopback fake serves metadata naming that issuer from a third host (127.0.0.1), so a
verifier that derived the issuer from the authority, or accepted Entra's usual issuers, would fail these tests.
Mocked: nothing but Entra itself (the fake serves metadata and keys over real HTTP).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from shared.errors import ContactTokenError
from tools.testkit.fake_entra import FakeEntra, b2c_issuer, external_id_issuer, running_fake_entra
from tools.testkit.service import base_settings, decode_contact_token, make_service
from tools.testkit.tokens import TENANT_ID, USER_OID, SigningKey, access_token, entra_v2_claims, v1_issuer, v2_issuer

CIAM_ISSUER = external_id_issuer(TENANT_ID)
B2C_TENANT_NAME = "contosob2c"
B2C_AUTHORITY_PATH = f"{B2C_TENANT_NAME}.onmicrosoft.com/B2C_1_signupsignin"
B2C_ISSUER = b2c_issuer(B2C_TENANT_NAME, TENANT_ID)


@pytest.fixture(scope="module")
def external_id() -> Iterator[FakeEntra]:
    with running_fake_entra(keys=[SigningKey.generate()], issuer=CIAM_ISSUER) as server:
        yield server


@pytest.fixture(scope="module")
def b2c() -> Iterator[FakeEntra]:
    with running_fake_entra(B2C_AUTHORITY_PATH, keys=[SigningKey.generate()], issuer=B2C_ISSUER) as server:
        yield server


def issue(server: FakeEntra, claims: dict[str, Any]) -> Any:
    service = make_service(base_settings(server.authority))
    return service.issue(f"Bearer {access_token(server.key, claims)}")


def refusal(server: FakeEntra, claims: dict[str, Any]) -> tuple[int, str]:
    with pytest.raises(ContactTokenError) as caught:
        issue(server, claims)
    return caught.value.status, caught.value.code


def test_the_fake_names_an_issuer_whose_host_is_not_the_authoritys(external_id: FakeEntra) -> None:
    assert external_id.authority.startswith("http://127.0.0.1:")
    assert CIAM_ISSUER.startswith(f"https://{TENANT_ID}.ciamlogin.com/")


def test_an_external_id_v2_token_is_accepted_with_the_issuer_from_the_metadata(external_id: FakeEntra) -> None:
    # External ID access tokens carry scp, oid, tid and idtyp=user (no app-only shape here).
    claims = entra_v2_claims(iss=CIAM_ISSUER, idtyp="user")
    contact = decode_contact_token(issue(external_id, claims).jwt)
    assert contact["attributes"]["userId"] == USER_OID
    assert contact["attributes"]["tenantId"] == TENANT_ID


@pytest.mark.parametrize(
    "issuer",
    [
        pytest.param(v1_issuer(), id="v1-sts.windows.net-same-tenant"),
        pytest.param(v2_issuer(), id="workforce-v2-same-tenant"),
        pytest.param(f"https://contoso.ciamlogin.com/{TENANT_ID}/v2.0", id="authority-subdomain-host"),
        pytest.param(CIAM_ISSUER + "/", id="trailing-slash"),
        pytest.param(external_id_issuer("72f988bf-0000-4000-8000-00000000bbbb"), id="other-external-tenant"),
    ],
)
def test_issuers_other_than_the_metadatas_are_refused(external_id: FakeEntra, issuer: str) -> None:
    assert refusal(external_id, entra_v2_claims(iss=issuer)) == (401, "invalid_issuer")


def b2c_claims(**overrides: Any) -> dict[str, Any]:
    """An Azure AD B2C access token's shape: the policy in tfp (acr in the legacy form), ver 1.0, no idtyp."""
    claims = entra_v2_claims(iss=B2C_ISSUER, ver="1.0", tfp="B2C_1_signupsignin")
    claims.update(overrides)
    return {name: value for name, value in claims.items() if value is not None}


def test_b2c_trailing_slash_issuer_and_tfp_are_accepted_when_the_token_carries_tid_and_oid(b2c: FakeEntra) -> None:
    contact = decode_contact_token(issue(b2c, b2c_claims()).jwt)
    assert contact["attributes"]["userId"] == USER_OID


def test_b2c_legacy_acr_form_is_accepted_alike(b2c: FakeEntra) -> None:
    contact = decode_contact_token(issue(b2c, b2c_claims(tfp=None, acr="b2c_1_signupsignin")).jwt)
    assert contact["attributes"]["tenantId"] == TENANT_ID


def test_b2c_issuer_without_its_trailing_slash_is_refused(b2c: FakeEntra) -> None:
    assert refusal(b2c, b2c_claims(iss=B2C_ISSUER.rstrip("/"))) == (401, "invalid_issuer")


def test_b2c_token_without_tid_is_refused(b2c: FakeEntra) -> None:
    """User-flow tokens name no tenant: the function requires a GUID tid in its allow list, so they are refused."""
    assert refusal(b2c, b2c_claims(tid=None)) == (401, "invalid_claim")


def test_b2c_token_without_oid_is_refused(b2c: FakeEntra) -> None:
    assert refusal(b2c, b2c_claims(oid=None)) == (401, "invalid_claim")
