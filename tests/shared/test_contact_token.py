"""The contact JWT, checked by PyJWT as an independent implementation."""

from __future__ import annotations

import base64
import json

import jwt as pyjwt
import pytest

from shared.contact_token import MAX_CONTACT_TOKEN_BYTES, mint_contact_token
from shared.errors import ContactTokenTooLarge
from shared.widget import Secret, Widget
from tools.testkit.service import decode_contact_token
from tools.testkit.tokens import WIDGET_ID, WIDGET_SECRET

NOW = 1_700_000_000.75


WIDGET_FIELDS = ("widget_id", "secret", "ttl_seconds", "segment_attributes")


def mint(**overrides: object):
    """`mint_contact_token` for the test widget, with any widget field or argument replaced."""
    fields: dict[str, object] = {"widget_id": WIDGET_ID, "secret": WIDGET_SECRET, "ttl_seconds": 600}
    arguments: dict[str, object] = {"attributes": {"name": "Ada", "email": "ada@contoso.example"}, "now": NOW}
    for name, value in overrides.items():
        (fields if name in WIDGET_FIELDS else arguments)[name] = value
    fields["secret"] = Secret(str(fields["secret"]))
    return mint_contact_token(Widget(**fields), **arguments)  # type: ignore[arg-type]


def test_header_claims_and_signature_follow_amazon_connect_rules() -> None:
    token = mint().jwt
    assert json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "==")) == {"alg": "HS256", "typ": "JWT"}
    claims = decode_contact_token(token, options={"verify_exp": False, "verify_iat": False})
    assert claims == {
        "sub": WIDGET_ID,
        "iat": 1_700_000_000,
        "exp": 1_700_000_600,
        "attributes": {"name": "Ada", "email": "ada@contoso.example"},
    }
    assert isinstance(claims["iat"], int) and isinstance(claims["exp"], int)


@pytest.mark.filterwarnings("ignore:The HMAC key")
def test_the_key_is_the_utf8_bytes_of_the_security_key() -> None:
    token = mint().jwt
    with pytest.raises(pyjwt.InvalidSignatureError):
        pyjwt.decode(token, WIDGET_SECRET + "x", algorithms=["HS256"], options={"verify_exp": False})
    with pytest.raises(pyjwt.InvalidSignatureError):
        pyjwt.decode(
            token, base64.b64decode(WIDGET_SECRET + "=" * (-len(WIDGET_SECRET) % 4), validate=False),
            algorithms=["HS256"], options={"verify_exp": False},
        )  # fmt: skip


def test_lifetime_is_the_ttl_and_never_more_than_ten_minutes() -> None:
    result = mint(ttl_seconds=90)
    claims = decode_contact_token(result.jwt, options={"verify_exp": False, "verify_iat": False})
    assert claims["exp"] - claims["iat"] == 90 == result.expires_in
    with pytest.raises(ValueError, match="ttl_seconds"):
        mint(ttl_seconds=601)


def test_segment_attributes_and_customer_id_when_configured() -> None:
    segment = {"connect:Subtype": {"ValueString": "connect:Guide"}}
    claims = decode_contact_token(
        mint(segment_attributes=segment, customer_id="cust-42").jwt, options={"verify_exp": False, "verify_iat": False}
    )
    assert claims["segmentAttributes"] == segment
    assert claims["customerId"] == "cust-42"
    plain = decode_contact_token(mint().jwt, options={"verify_exp": False, "verify_iat": False})
    assert "segmentAttributes" not in plain and "customerId" not in plain


def test_non_ascii_attributes_survive() -> None:
    claims = decode_contact_token(
        mint(attributes={"name": "Zoë Ōkubo"}).jwt, options={"verify_exp": False, "verify_iat": False}
    )
    assert claims["attributes"]["name"] == "Zoë Ōkubo"


def test_an_oversized_token_is_refused_never_truncated() -> None:
    attributes = {"name": "Ada", "notes": "n" * 3000, "bio": "b" * 2000}
    with pytest.raises(ContactTokenTooLarge) as caught:
        mint(attributes=attributes)
    assert caught.value.status == 500 and caught.value.code == "contact_token_too_large"
    assert "notes" in caught.value.log_detail and "bio" in caught.value.log_detail
    assert "n" * 100 not in caught.value.log_detail  # sizes, not values
    fits = mint(attributes={"notes": "n" * 4000})
    assert len(fits.jwt) <= MAX_CONTACT_TOKEN_BYTES
