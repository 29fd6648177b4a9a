"""The attack catalogue: one named case per attack on the contact-token function, each with its exact answer.

Every case goes through `function_app.aws_connect_jwt` with a real `func.HttpRequest` (the HTTP shape is part of
the answer: status, problem code, challenge, no-store, nothing of the token reflected). Entra is a real loopback
server (tools/testkit/fake_entra.py); the attacker's key server is another one, which must never be contacted.
docs/security.md maps each case to RFC 8725 / OWASP guidance; a test below keeps that table in step.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from shared.jwt_structure import MAX_TOKEN_BYTES
from tests.security.attacks import (
    Forger,
    es256,
    flip_middle_character,
    forge,
    hs256_with,
    non_canonical_last_character,
    ps256,
    public_key_pem,
    replace_segment,
    rs256,
    rs384,
    self_signed_certificate_b64,
    with_spare_bits,
)
from tools.testkit.fake_entra import FakeEntra, running_fake_entra
from tools.testkit.function_http import FunctionAnswer, call_function, function_using
from tools.testkit.service import base_settings, decode_contact_token, make_service
from tools.testkit.tokens import (
    OTHER_TENANT_ID,
    SPA_CLIENT_ID,
    TENANT_ID,
    SigningKey,
    b64url,
    json_bytes,
    v1_issuer,
    v2_issuer,
)

GRAPH_AUDIENCE = "00000003-0000-0000-c000-000000000000"
OTHER_API = "11111111-0000-4000-8000-000000000001"
THIRD_TENANT_ID = "72f988bf-0000-4000-8000-00000000cccc"
MULTI_TENANT_ALLOW_LIST = f"{TENANT_ID},{OTHER_TENANT_ID}"
SECURITY_DOC = Path(__file__).resolve().parents[2] / "docs" / "security.md"


@dataclass(frozen=True)
class Attack:
    name: str
    status: int
    code: str
    forge: Callable[[Forger], str | None]  # the Authorization header the attacker sends (None: none at all)
    settings: dict[str, str] = field(default_factory=dict)
    multi_tenant: bool = False  # the function configured for `organizations` with an allow list
    reaches_keys: bool = True  # False: refused on structure or header alone, before any key is fetched


def bearer(token: str) -> str:
    return f"Bearer {token}"


def now() -> int:
    return int(time.time())


def respell_payload(token: str) -> str:
    return replace_segment(token, 1, non_canonical_last_character(token.split(".")[1]))


ATTACKS: list[Attack] = [
    # --- the algorithm -------------------------------------------------------------------------------
    Attack("alg none", 401, "unsupported_algorithm",
           lambda f: bearer(forge(f.header(alg="none"), f.claims(), None)), reaches_keys=False),
    Attack("alg None (case variant)", 401, "unsupported_algorithm",
           lambda f: bearer(forge(f.header(alg="None"), f.claims(), None)), reaches_keys=False),
    Attack("alg missing", 401, "unsupported_algorithm",
           lambda f: bearer(forge({"typ": "JWT", "kid": f.trusted.kid}, f.claims(), rs256(f.attacker))),
           reaches_keys=False),
    Attack("HS256 signed with the public key (PEM)", 401, "unsupported_algorithm",
           lambda f: bearer(forge(f.header(alg="HS256"), f.claims(), hs256_with(public_key_pem(f.trusted)))),
           reaches_keys=False),
    Attack("HS256 signed with the JWK modulus", 401, "unsupported_algorithm",
           lambda f: bearer(forge(f.header(alg="HS256"), f.claims(), hs256_with(f.trusted.jwk()["n"].encode()))),
           reaches_keys=False),
    Attack("RS384", 401, "unsupported_algorithm",
           lambda f: bearer(forge(f.header(alg="RS384"), f.claims(), rs384(f.attacker))), reaches_keys=False),
    Attack("PS256", 401, "unsupported_algorithm",
           lambda f: bearer(forge(f.header(alg="PS256"), f.claims(), ps256(f.attacker))), reaches_keys=False),
    Attack("ES256", 401, "unsupported_algorithm",
           lambda f: bearer(forge(f.header(alg="ES256"), f.claims(), es256())), reaches_keys=False),
    # --- which key -----------------------------------------------------------------------------------
    Attack("kid missing", 401, "missing_key_id",
           lambda f: bearer(forge(f.header(kid=None), f.claims(), rs256(f.attacker))), reaches_keys=False),
    Attack("kid not a string", 401, "missing_key_id",
           lambda f: bearer(forge(f.header(kid=1), f.claims(), rs256(f.attacker))), reaches_keys=False),
    Attack("kid unknown (attacker's own key)", 401, "unknown_signing_key",
           lambda f: bearer(forge(f.header(kid=f.attacker.kid), f.claims(), rs256(f.attacker)))),
    Attack("kid path traversal", 401, "unknown_signing_key",
           lambda f: bearer(forge(f.header(kid="../../../dev/null"), f.claims(), rs256(f.attacker)))),
    Attack("attacker key published under a real kid", 401, "invalid_signature",
           lambda f: bearer(forge(f.header(), f.claims(), rs256(f.attacker)))),
    Attack("jku pointing at the attacker's key set", 401, "forbidden_header",
           lambda f: bearer(forge(f.header(jku=f.attacker_jwks_url), f.claims(), rs256(f.attacker))),
           reaches_keys=False),
    Attack("x5u pointing at the attacker's certificate", 401, "forbidden_header",
           lambda f: bearer(forge(f.header(x5u=f.attacker_jwks_url), f.claims(), rs256(f.attacker))),
           reaches_keys=False),
    Attack("jwk embedding the attacker's key", 401, "forbidden_header",
           lambda f: bearer(forge(f.header(jwk=f.attacker.jwk()), f.claims(), rs256(f.attacker))),
           reaches_keys=False),
    Attack("crit demanding an unknown extension", 401, "forbidden_header",
           lambda f: bearer(forge(f.header(crit=["exp"], exp=0), f.claims(), rs256(f.attacker))),
           reaches_keys=False),
    Attack("x5c with the attacker's self-signed certificate", 401, "invalid_signature",
           lambda f: bearer(forge(f.header(x5c=[self_signed_certificate_b64(f.attacker)]), f.claims(),
                                  rs256(f.attacker)))),
    # --- the signature -------------------------------------------------------------------------------
    Attack("signature stripped", 401, "invalid_signature",
           lambda f: bearer(replace_segment(f.genuine(), 2, "")), reaches_keys=False),
    Attack("signature and its dot stripped", 401, "malformed_token",
           lambda f: bearer(f.genuine().rsplit(".", 1)[0]), reaches_keys=False),
    Attack("signature altered", 401, "invalid_signature",
           lambda f: bearer(replace_segment(f.genuine(), 2, flip_middle_character(f.genuine().split(".")[2])))),
    Attack("signature spelled non-canonically", 401, "malformed_token",
           lambda f: bearer(replace_segment(f.genuine(), 2, non_canonical_last_character(f.genuine().split(".")[2]))),
           reaches_keys=False),
    Attack("payload spelled non-canonically", 401, "malformed_token",
           lambda f: bearer(respell_payload(f.genuine(with_spare_bits(f.claims())))), reaches_keys=False),
    Attack("signature of another genuine token", 401, "invalid_signature",
           lambda f: bearer(replace_segment(f.genuine(), 2, f.genuine(f.claims(name="Mallory")).split(".")[2]))),
    Attack("payload altered (name changed)", 401, "invalid_signature",
           lambda f: bearer(replace_segment(f.genuine(), 1, b64url(json_bytes(f.claims(name="Mallory")))))),
    Attack("payload altered (scope added)", 401, "invalid_signature",
           lambda f: bearer(replace_segment(f.genuine(f.claims(scp="User.Read")), 1,
                                            b64url(json_bytes(f.claims()))))),
    Attack("header altered after signing", 401, "invalid_signature",
           lambda f: bearer(replace_segment(f.genuine(), 0, b64url(json_bytes(f.header(typ="at+jwt")))))),
    # --- the shape -----------------------------------------------------------------------------------
    Attack("five parts (JWE)", 401, "malformed_token",
           lambda f: bearer(f.genuine() + ".AAAA.AAAA"), reaches_keys=False),
    Attack("one part", 401, "malformed_token",
           lambda f: bearer(f.genuine().split(".")[1]), reaches_keys=False),
    Attack("empty parts", 401, "malformed_token", lambda f: bearer(".."), reaches_keys=False),
    Attack("whitespace inside the token", 401, "malformed_token",
           lambda f: bearer(f.genuine().replace(".", ". ", 1)), reaches_keys=False),
    Attack("line break inside the token (header splitting)", 401, "malformed_token",
           lambda f: bearer(f.genuine().replace(".", ".\r\n", 1)), reaches_keys=False),
    Attack("two bearer tokens", 401, "malformed_token",
           lambda f: f"{bearer(f.genuine())}, {bearer(f.genuine())}", reaches_keys=False),
    Attack("non-ASCII lookalike character in the token", 401, "malformed_token",
           lambda f: bearer(f.genuine().replace("e", "\u0435", 1)), reaches_keys=False),
    Attack("padding characters in a segment", 401, "malformed_token",
           lambda f: bearer(f.genuine() + "=="), reaches_keys=False),
    Attack("oversized token", 401, "token_too_large",
           lambda f: bearer(f.genuine() + "A" * MAX_TOKEN_BYTES), reaches_keys=False),
    Attack("oversized JOSE header", 401, "token_too_large",
           lambda f: bearer(f.genuine(pad="x" * MAX_TOKEN_BYTES)), reaches_keys=False),
    Attack("oversized Authorization header (1 MiB)", 401, "token_too_large",
           lambda f: bearer("A" * (1 << 20)), reaches_keys=False),
    Attack("deeply nested JSON header", 401, "malformed_token",
           lambda f: bearer(forge(b'{"alg":"RS256","x":' + b"[" * 5000 + b"]" * 5000 + b"}", f.claims(), None)),
           reaches_keys=False),
    Attack("header that is a JSON array", 401, "malformed_token",
           lambda f: bearer(forge(b'["RS256"]', f.claims(), rs256(f.attacker))), reaches_keys=False),
    Attack("duplicate alg in the header", 401, "malformed_token",
           lambda f: bearer(forge(
               f'{{"alg":"RS256","kid":"{f.trusted.kid}","alg":"none"}}'.encode(), f.claims(), None)),
           reaches_keys=False),
    Attack("duplicate claims (two audiences)", 401, "malformed_token",
           lambda f: bearer(f.genuine(json_bytes(f.claims())[:-1] + f',"aud":"{OTHER_API}"}}'.encode()))),
    Attack("NaN in a claim", 401, "malformed_token",
           lambda f: bearer(f.genuine(json_bytes(f.claims())[:-1] + b',"exp":NaN}'))),
    Attack("no Authorization header", 401, "missing_token", lambda f: None, reaches_keys=False),
    Attack("Basic credentials instead of Bearer", 401, "missing_token",
           lambda f: "Basic YWRhOnBhc3N3b3Jk", reaches_keys=False),
    Attack("Bearer with no token", 401, "malformed_token", lambda f: "Bearer ", reaches_keys=False),
    # --- time ----------------------------------------------------------------------------------------
    Attack("expired", 401, "token_expired", lambda f: bearer(f.genuine(f.claims(exp=now() - 3600)))),
    Attack("expired just beyond the allowed clock skew", 401, "token_expired",
           lambda f: bearer(f.genuine(f.claims(exp=now() - 61)))),
    Attack("not yet valid", 401, "token_not_yet_valid",
           lambda f: bearer(f.genuine(f.claims(nbf=now() + 3600)))),
    Attack("issued in the future", 401, "token_not_yet_valid",
           lambda f: bearer(f.genuine(f.claims(iat=now() + 3600, nbf=None)))),
    Attack("no expiry", 401, "invalid_claim", lambda f: bearer(f.genuine(f.claims(exp=None)))),
    Attack("exp as a string", 401, "invalid_claim", lambda f: bearer(f.genuine(f.claims(exp=str(now() + 3600))))),
    Attack("nbf as a string", 401, "invalid_claim", lambda f: bearer(f.genuine(f.claims(nbf=str(now() - 60))))),
    Attack("exp as a boolean", 401, "invalid_claim", lambda f: bearer(f.genuine(f.claims(exp=True)))),
    Attack("exp as infinity (1e999)", 401, "invalid_claim",
           lambda f: bearer(f.genuine(json_bytes(f.claims(exp=None))[:-1] + b',"exp":1e999}'))),
    # --- who issued it -------------------------------------------------------------------------------
    Attack("wrong issuer", 401, "invalid_issuer",
           lambda f: bearer(f.genuine(f.claims(iss="https://issuer.attacker.example/v2.0")))),
    Attack("lookalike issuer (host suffix)", 401, "invalid_issuer",
           lambda f: bearer(f.genuine(f.claims(iss=f"https://login.microsoftonline.com.attacker.example/{TENANT_ID}/v2.0")))),
    Attack("lookalike issuer (trailing slash)", 401, "invalid_issuer",
           lambda f: bearer(f.genuine(f.claims(iss=v2_issuer() + "/")))),
    Attack("lookalike issuer (upper-case host)", 401, "invalid_issuer",
           lambda f: bearer(f.genuine(f.claims(iss=v2_issuer().replace("login", "LOGIN"))))),
    Attack("issuer of another tenant (v2) with our tid", 401, "invalid_issuer",
           lambda f: bearer(f.genuine(f.claims(iss=v2_issuer(OTHER_TENANT_ID))))),
    Attack("v1 issuer of another tenant", 401, "invalid_issuer",
           lambda f: bearer(f.genuine(f.claims(iss=v1_issuer(OTHER_TENANT_ID))))),
    Attack("no issuer", 401, "invalid_issuer", lambda f: bearer(f.genuine(f.claims(iss=None)))),
    Attack("tenant not allowed", 401, "tenant_not_allowed",
           lambda f: bearer(f.genuine(f.claims(tid=OTHER_TENANT_ID, iss=v2_issuer(OTHER_TENANT_ID))))),
    Attack("tid that is not a GUID", 401, "invalid_claim",
           lambda f: bearer(f.genuine(f.claims(tid="contoso.onmicrosoft.com")))),
    Attack("multi-tenant: allowed tid with another tenant's issuer", 401, "invalid_issuer",
           lambda f: bearer(f.genuine(f.claims(tid=TENANT_ID, iss=v2_issuer(THIRD_TENANT_ID)))), multi_tenant=True),
    Attack("multi-tenant: tenant outside the allow list", 401, "tenant_not_allowed",
           lambda f: bearer(f.genuine(f.claims(tid=THIRD_TENANT_ID, iss=v2_issuer(THIRD_TENANT_ID)))),
           multi_tenant=True),
    # --- for whom ------------------------------------------------------------------------------------
    Attack("wrong audience", 401, "invalid_audience", lambda f: bearer(f.genuine(f.claims(aud=OTHER_API)))),
    Attack("audience differing only in case", 401, "invalid_audience",
           lambda f: bearer(f.genuine(f.claims(aud=f.claims()["aud"].upper())))),
    Attack("aud as a list", 401, "invalid_audience",
           lambda f: bearer(f.genuine(f.claims(aud=[f.claims()["aud"], OTHER_API])))),
    Attack("aud as a one-element list", 401, "invalid_audience",
           lambda f: bearer(f.genuine(f.claims(aud=[f.claims()["aud"]])))),
    Attack("no audience", 401, "invalid_audience", lambda f: bearer(f.genuine(f.claims(aud=None)))),
    Attack("Microsoft Graph token (nonce header)", 401, "token_for_another_resource",
           lambda f: bearer(f.genuine(f.claims(aud=GRAPH_AUDIENCE), nonce="abc123")), reaches_keys=False),
    Attack("Graph audience without the nonce header", 401, "invalid_audience",
           lambda f: bearer(f.genuine(f.claims(aud=GRAPH_AUDIENCE)))),
    # --- what it may do ------------------------------------------------------------------------------
    Attack("app-only token (client credentials)", 403, "app_only_token",
           lambda f: bearer(f.genuine(f.claims(scp=None, roles=["JWT.Read"], idtyp="app", name=None)))),
    Attack("idtyp=app next to a scope", 403, "app_only_token",
           lambda f: bearer(f.genuine(f.claims(idtyp="app")))),
    Attack("scope only in roles", 403, "app_only_token",
           lambda f: bearer(f.genuine(f.claims(scp=None, roles=["JWT.Read"])))),
    Attack("missing scope", 403, "insufficient_scope", lambda f: bearer(f.genuine(f.claims(scp="User.Read")))),
    Attack("scope name as a prefix", 403, "insufficient_scope",
           lambda f: bearer(f.genuine(f.claims(scp="JWT.ReadAll")))),
    Attack("scope as a list", 401, "invalid_claim", lambda f: bearer(f.genuine(f.claims(scp=["JWT.Read"])))),
    Attack("client app not allowed", 403, "client_app_not_allowed",
           lambda f: bearer(f.genuine(f.claims(azp=OTHER_API))), settings={"ALLOWED_CLIENT_APP_IDS": SPA_CLIENT_ID}),
    Attack("client app not allowed, allowed appid alongside", 403, "client_app_not_allowed",
           lambda f: bearer(f.genuine(f.claims(azp=OTHER_API, appid=SPA_CLIENT_ID))),
           settings={"ALLOWED_CLIENT_APP_IDS": SPA_CLIENT_ID}),
    Attack("no user object id (oid)", 401, "invalid_claim", lambda f: bearer(f.genuine(f.claims(oid=None)))),
]  # fmt: skip


@dataclass
class Servers:
    single: FakeEntra  # the authority of a single-tenant configuration
    multi: FakeEntra  # the `organizations` authority of a multi-tenant configuration
    attacker: FakeEntra  # serves the attacker's key: must never be fetched


@dataclass
class Target:
    entra: FakeEntra  # the function's authority
    attacker_server: FakeEntra
    forger: Forger


@pytest.fixture(scope="module")
def servers(signing_keys: list[SigningKey]) -> Iterator[Servers]:
    """Started once for the module (stopping a server takes 0.1 s); each case resets the request counts."""
    with (
        running_fake_entra(keys=[signing_keys[0]]) as single,
        running_fake_entra("organizations", keys=[signing_keys[0]]) as multi,
        running_fake_entra(keys=[signing_keys[2]]) as attacker,
    ):
        yield Servers(single, multi, attacker)


@pytest.fixture
def target(servers: Servers, signing_keys: list[SigningKey], request: pytest.FixtureRequest) -> Iterator[Target]:
    attack: Attack | None = getattr(request, "param", None)
    multi = attack is not None and attack.multi_tenant
    entra = servers.multi if multi else servers.single
    for server in (entra, servers.attacker):
        with server.state.lock:
            server.state.requests.update(metadata=0, keys=0)
    settings = base_settings(entra.authority, **(attack.settings if attack else {}))
    if multi:
        settings |= {"ENTRA_TENANT_ID": "organizations", "ENTRA_ALLOWED_TENANT_IDS": MULTI_TENANT_ALLOW_LIST}
    jwks_url = f"{servers.attacker.base_url}/{TENANT_ID}/discovery/v2.0/keys"
    with function_using(make_service(settings)):  # a new, cold service per case
        yield Target(entra, servers.attacker, Forger(signing_keys[0], signing_keys[2], jwks_url))


def assert_refused_without_echo(answer: FunctionAnswer, authorization: str | None, status: int, code: str) -> None:
    assert (answer.status, answer.code) == (status, code), answer.text[:300]
    assert answer.headers["Cache-Control"] == "no-store"
    problem = answer.json()
    assert problem["status"] == status
    assert problem["type"] == f"urn:connect-sso:error:{code}"
    challenge = answer.headers.get("WWW-Authenticate", "")
    if code == "missing_token":
        assert challenge == "Bearer"
    elif status == 401:
        assert challenge.startswith('Bearer error="invalid_token"')
    else:
        assert challenge.startswith('Bearer error="insufficient_scope"')
        assert 'scope="JWT.Read"' in challenge
    # Nothing of the token comes back: no payload or signature segment, in the body or any header.
    everything = answer.text + json.dumps(answer.headers)
    for segment in re.split(r"[.\s,]+", (authorization or "").removeprefix("Bearer ")):
        if len(segment) >= 16:
            assert segment[:16] not in everything


@pytest.mark.parametrize("target", ATTACKS, ids=[attack.name for attack in ATTACKS], indirect=True)
def test_attack_is_refused_with_its_exact_answer(target: Target, request: pytest.FixtureRequest) -> None:
    attack: Attack = request.node.callspec.params["target"]
    authorization = attack.forge(target.forger)
    answer = call_function(authorization)
    assert_refused_without_echo(answer, authorization, attack.status, attack.code)
    assert (target.attacker_server.fetch_count("metadata"), target.attacker_server.fetch_count("keys")) == (0, 0)
    if not attack.reaches_keys:
        # Structure and header are judged before any key is looked at: a cold instance fetched nothing.
        assert (target.entra.fetch_count("metadata"), target.entra.fetch_count("keys")) == (0, 0)
    else:
        assert target.entra.fetch_count("keys") == 1  # one warm-up, never a refetch caused by the attack


@pytest.mark.parametrize(
    "authorization",
    [
        pytest.param(lambda f: bearer(f.genuine()), id="genuine v2 token"),
        pytest.param(
            lambda f: bearer(f.genuine(f.claims(iss=v1_issuer(), ver="1.0", aud=f"api://{f.claims()['aud']}"))),
            id="genuine v1 token",
        ),
        pytest.param(lambda f: f"bearer {f.genuine()}", id="scheme in lower case"),
        pytest.param(lambda f: f"  Bearer   {f.genuine()}  ", id="surrounding spaces"),
        pytest.param(lambda f: bearer(f.genuine(x5t="ignored", cty="JWT")), id="harmless extra header members"),
    ],
)
def test_the_baseline_every_attack_starts_from_is_accepted(target: Target, authorization) -> None:
    """Each attack changes one thing in this token: proves the refusals above are caused by that one thing."""
    answer = call_function(authorization(target.forger))
    assert answer.status == 200, answer.text[:300]
    assert decode_contact_token(answer.text)["attributes"]["userId"]


def test_no_two_attacks_share_a_name() -> None:
    names = [attack.name for attack in ATTACKS]
    assert len(names) == len(set(names))


def test_docs_security_lists_every_attack_with_its_answer() -> None:
    """docs/security.md's table is the reviewer's view of this catalogue: same names, same answers."""
    rows = {}
    for line in SECURITY_DOC.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) >= 3:
            rows[cells[0]] = line
    missing = [attack.name for attack in ATTACKS if attack.name not in rows]
    assert not missing, f"docs/security.md has no row for: {missing}"
    wrong = [attack.name for attack in ATTACKS if f"{attack.status} `{attack.code}`" not in rows[attack.name]]
    assert not wrong, f"docs/security.md gives another answer for: {wrong}"
