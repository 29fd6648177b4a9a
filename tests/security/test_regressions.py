"""Bugs found while building the attack catalogue, each pinned by the test that failed before its fix."""

from __future__ import annotations

import pytest

from shared.errors import InvalidToken
from shared.jwt_structure import split_compact
from tests.security.attacks import non_canonical_last_character
from tests.support.fake_entra import FakeEntra
from tests.support.service import base_settings, make_service
from tests.support.tokens import access_token, b64url, entra_v2_claims, json_bytes


def spelled_with_spare_bits(claims: dict) -> dict:
    """The same claims, padded so that the payload segment's last character has unused low bits."""
    padded = dict(claims, pad="")
    while len(b64url(json_bytes(padded))) % 4 not in (2, 3):
        padded["pad"] += "x"
    return padded


@pytest.mark.parametrize("index", [1, 2], ids=["payload", "signature"])
def test_a_second_spelling_of_a_genuine_token_is_refused(fake_entra: FakeEntra, index: int) -> None:
    """Before the fix only the header's spelling was checked: python-jose decodes the payload and signature
    leniently, so one genuine token had several accepted spellings (RFC 8725 section 2.6)."""
    service = make_service(base_settings(fake_entra.authority))
    token = access_token(fake_entra.key, spelled_with_spare_bits(entra_v2_claims()))
    service.issue(f"Bearer {token}")  # the canonical spelling is accepted
    parts = token.split(".")
    parts[index] = non_canonical_last_character(parts[index])
    with pytest.raises(InvalidToken) as refused:
        service.issue(f"Bearer {'.'.join(parts)}")
    assert refused.value.code == "malformed_token"


def test_the_canonical_check_costs_no_decoding() -> None:
    """Segments whose length leaves no spare bits (a multiple of 4) have one spelling and pass as they are."""
    assert split_compact("eyJh.eyJh.AAAA") == ("eyJh", "eyJh", "AAAA")
