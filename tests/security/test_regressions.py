"""Bugs found while building the attack catalogue, each pinned by the test that failed before its fix."""

from __future__ import annotations

import pytest

from shared.errors import InvalidToken
from shared.jwt_structure import split_compact
from tests.security.attacks import non_canonical_last_character, with_spare_bits
from tools.testkit.fake_entra import FakeEntra
from tools.testkit.service import base_settings, make_service
from tools.testkit.tokens import access_token, entra_v2_claims


@pytest.mark.parametrize("index", [1, 2], ids=["payload", "signature"])
def test_a_second_spelling_of_a_genuine_token_is_refused(fake_entra: FakeEntra, index: int) -> None:
    """Before the fix only the header's spelling was checked: python-jose decodes the payload and signature
    leniently, so one genuine token had several accepted spellings (RFC 8725 section 2.6)."""
    service = make_service(base_settings(fake_entra.authority))
    token = access_token(fake_entra.key, with_spare_bits(entra_v2_claims()))
    service.issue(f"Bearer {token}")  # the canonical spelling is accepted
    parts = token.split(".")
    parts[index] = non_canonical_last_character(parts[index])
    with pytest.raises(InvalidToken) as refused:
        service.issue(f"Bearer {'.'.join(parts)}")
    assert refused.value.code == "malformed_token"


def test_the_canonical_check_costs_no_decoding() -> None:
    """Segments whose length leaves no spare bits (a multiple of 4) have one spelling and pass as they are."""
    assert split_compact("eyJh.eyJh.AAAA") == ("eyJh", "eyJh", "AAAA")


@pytest.mark.parametrize("name", ["\ud800", "Ada \udfff Lovelace"])
def test_an_unpaired_surrogate_in_a_claim_is_a_401_not_a_500(fake_entra: FakeEntra, name: str) -> None:
    """Found by test_fuzz.py: JSON may spell a lone surrogate ("\\ud800"); json.loads accepts it, and writing the
    claim into the UTF-8 contact token raised UnicodeEncodeError, which the function answered with a 500."""
    service = make_service(base_settings(fake_entra.authority))
    with pytest.raises(InvalidToken) as refused:
        service.issue(f"Bearer {access_token(fake_entra.key, entra_v2_claims(name=name))}")
    assert refused.value.code == "malformed_token"


def test_a_surrogate_pair_is_text_and_is_accepted(fake_entra: FakeEntra) -> None:
    """json.dumps spells an emoji as the escaped pair "\\ud83d\\ude00": that is one character, and fine."""
    service = make_service(base_settings(fake_entra.authority))
    name = "Ada \U0001f600"
    issued = service.issue(f"Bearer {access_token(fake_entra.key, entra_v2_claims(name=name))}")
    assert issued.display_name == name
