"""Property-based fuzzing of the Authorization header and of token parts: no input ever yields a 5xx, and no
exception escapes the function (`aws_connect_jwt` turns one into a 500, so "< 500" covers both).

Every example is a full call of `function_app.aws_connect_jwt` with a real `func.HttpRequest` against a warm
service whose keys came from a loopback Entra. The number of examples run is printed in the terminal summary.
"""

from __future__ import annotations

import base64
import json
import string
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.security.attacks import forge, rs256
from tests.security.conftest import EXAMPLES_RUN, fuzz_settings
from tools.testkit.fake_entra import running_fake_entra
from tools.testkit.function_http import FunctionAnswer, call_function, function_using
from tools.testkit.service import base_settings, decode_contact_token, make_service
from tools.testkit.tokens import SigningKey, access_token, entra_v2_claims

B64URL = string.ascii_letters + string.digits + "-_"
REFUSAL_CODES = {
    "missing_token", "malformed_token", "token_too_large", "unsupported_algorithm", "forbidden_header",
    "token_for_another_resource", "missing_key_id", "unknown_signing_key", "invalid_signature", "invalid_claim",
    "token_expired", "token_not_yet_valid", "tenant_not_allowed", "invalid_issuer", "invalid_audience",
    "app_only_token", "insufficient_scope", "client_app_not_allowed",
}  # fmt: skip
# Claims copied into the contact token, so that fuzzed claim values go through the mapping too.
FUZZ_SETTINGS = {
    "SSO_CUSTOM_ATTRIBUTES": "department,roles:appRoles,groups,extn.level:level,given_name:firstName",
    "CONNECT_CUSTOMER_ID_CLAIM": "employeeid",
}


class Warm:
    key: SigningKey
    genuine: str


@pytest.fixture(scope="module")
def warm(signing_keys: list[SigningKey]) -> Iterator[Warm]:
    with running_fake_entra(keys=[signing_keys[0]]) as entra:
        service = make_service(base_settings(entra.authority, **FUZZ_SETTINGS))
        with function_using(service):
            state = Warm()
            state.key = signing_keys[0]
            state.genuine = access_token(signing_keys[0])
            assert call_function(f"Bearer {state.genuine}").status == 200  # warm: keys cached
            yield state


def check(answer: FunctionAnswer) -> None:
    """The property: a 2xx with a valid contact token, or a 4xx with a known code. Never 5xx."""
    assert answer.status < 500, answer.text[:500]
    if answer.status == 200:
        contact = decode_contact_token(answer.text)
        assert all(isinstance(value, str) for value in contact["attributes"].values())
    else:
        assert answer.status in (401, 403)
        assert answer.code in REFUSAL_CODES


# --- the Authorization header -----------------------------------------------------------------------------

segments = st.lists(st.text(alphabet=B64URL + "=+/ \t", max_size=40), min_size=0, max_size=6).map(".".join)
headers = st.one_of(
    st.text(max_size=200),
    st.text(max_size=200).map(lambda text: f"Bearer {text}"),
    segments.map(lambda token: f"Bearer {token}"),
    st.tuples(st.sampled_from(["Bearer", "bearer", "BEARER", "Basic", "Token", ""]), st.text(" \t\r\n", max_size=3),
              segments).map("".join),
)  # fmt: skip


@given(authorization=headers)
@fuzz_settings()
def test_any_authorization_header(warm: Warm, authorization: str) -> None:
    EXAMPLES_RUN["Authorization header: arbitrary text and token-like strings"] += 1
    check(call_function(authorization))


@st.composite
def mutated_genuine_tokens(draw: st.DrawFn, genuine: str) -> str:
    """A genuine token with a few edits: the inputs closest to acceptance, where bugs hide."""
    token = genuine
    for _ in range(draw(st.integers(1, 4))):
        position = draw(st.integers(0, len(token)))
        edit = draw(st.sampled_from(["insert", "delete", "replace", "truncate", "duplicate-part", "swap-parts"]))
        if edit == "insert":
            token = token[:position] + draw(st.text(B64URL + ".=", min_size=1, max_size=4)) + token[position:]
        elif edit == "delete":
            token = token[:position] + token[position + draw(st.integers(1, 8)) :]
        elif edit == "replace" and position < len(token):
            token = token[:position] + draw(st.sampled_from(B64URL + ".")) + token[position + 1 :]
        elif edit == "truncate":
            token = token[:position]
        elif edit in ("duplicate-part", "swap-parts"):
            parts = token.split(".")
            i, j = draw(st.integers(0, len(parts) - 1)), draw(st.integers(0, len(parts) - 1))
            if edit == "duplicate-part":
                parts.insert(i, parts[j])
            else:
                parts[i], parts[j] = parts[j], parts[i]
            token = ".".join(parts)
    return token


@given(data=st.data())
@fuzz_settings()
def test_edited_genuine_tokens(warm: Warm, data: st.DataObject) -> None:
    EXAMPLES_RUN["Authorization header: genuine token with random edits"] += 1
    check(call_function(f"Bearer {data.draw(mutated_genuine_tokens(warm.genuine))}"))


# --- token parts --------------------------------------------------------------------------------------------


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


# Lone surrogates are not text hypothesis draws by default, but JSON can spell them ("\ud800"): add them.
json_strings = st.text(max_size=40) | st.text(st.characters(categories=["Cs"]), min_size=1, max_size=2)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | json_strings,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=8,
)
json_text = json_values.map(lambda value: json.dumps(value).encode())
segment_bytes = st.one_of(st.binary(max_size=300), json_text, st.just(b"{}"), st.just(b'{"alg":"RS256"}'))


@given(header=segment_bytes, payload=segment_bytes, signature=st.binary(max_size=300))
@fuzz_settings()
def test_arbitrary_bytes_in_each_part(warm: Warm, header: bytes, payload: bytes, signature: bytes) -> None:
    EXAMPLES_RUN["token parts: arbitrary bytes and JSON in header, payload, signature"] += 1
    check(call_function(f"Bearer {b64url(header)}.{b64url(payload)}.{b64url(signature)}"))


HEADER_NAMES = ["alg", "kid", "typ", "cty", "nonce", "jku", "x5u", "jwk", "crit", "x5c", "x5t", "zip", "enc", "b64"]
CLAIM_NAMES = [
    "aud", "iss", "iat", "nbf", "exp", "azp", "appid", "name", "oid", "preferred_username", "upn", "email", "scp",
    "roles", "idtyp", "tid", "ver", "department", "groups", "extn.level", "given_name", "employeeid",
]  # fmt: skip


@given(
    header_changes=st.dictionaries(st.sampled_from(HEADER_NAMES), json_values, max_size=3),
    claim_changes=st.dictionaries(st.sampled_from(CLAIM_NAMES) | st.text(max_size=12), json_values, max_size=5),
    removed=st.sets(st.sampled_from(CLAIM_NAMES), max_size=3),
)
@fuzz_settings()
def test_genuinely_signed_tokens_with_arbitrary_headers_and_claims(
    warm: Warm, header_changes: dict[str, Any], claim_changes: dict[str, Any], removed: set[str]
) -> None:
    """Signed with the trusted key: every check after the signature sees attacker-shaped (Entra-signed) input."""
    EXAMPLES_RUN["token parts: genuinely signed, arbitrary header members and claims"] += 1
    header = {"typ": "JWT", "alg": "RS256", "kid": warm.key.kid, **header_changes}
    claims = {name: value for name, value in entra_v2_claims().items() if name not in removed} | claim_changes
    check(call_function(f"Bearer {forge(header, claims, rs256(warm.key))}"))
