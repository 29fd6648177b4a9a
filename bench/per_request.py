"""Per request, warm caches, on the same token: the function's handler, the raw floor and a PyJWT reference.

- handler: `ContactTokenService.issue` (bearer parse, structure and header checks, key by kid from the cache,
  RS256 verify, claim checks, claim mapping, HS256 contact JWT), and the same through
  `function_app.aws_connect_jwt` (adds azure.functions request/response handling).
- floor: pyca/cryptography RS256 verify + json.dumps of the contact claims + HMAC-SHA256. Nothing else.
- reference: what a user following AWS's Python sample would write: PyJWT's PyJWKClient (key set cached) and
  jwt.decode with audience and issuer, then jwt.encode HS256.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable

import azure.functions as func
import jwt
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from bench.provider import BenchProvider
from bench.timing import Timing, time_calls
from shared.contact_token_service import ContactTokenService
from shared.routes import CONTACT_TOKEN_PATH, CONTACT_TOKEN_ROUTE
from tools.function_context import LocalContext
from tools.paths import REPO_ROOT
from tools.testkit.tokens import API_CLIENT_ID, WIDGET_ID, WIDGET_SECRET, v2_issuer


def handler_service(provider: BenchProvider) -> tuple[ContactTokenService, Callable[[], object]]:
    service = ContactTokenService.from_environment(provider.settings)
    authorization = f"Bearer {provider.token}"
    service.issue(authorization)  # warm: settings parsed, keys fetched
    return service, lambda: service.issue(authorization)


def handler_http(provider: BenchProvider, service: ContactTokenService) -> Callable[[], object]:
    request = func.HttpRequest(
        "GET",
        f"http://127.0.0.1{CONTACT_TOKEN_PATH}",
        headers={"Authorization": f"Bearer {provider.token}"},
        params={},
        route_params={},
        body=b"",
    )
    context = LocalContext(CONTACT_TOKEN_ROUTE, str(REPO_ROOT))
    # Imported here, once the bench provider's settings are in place: importing them reads the configuration
    # (and `python -m bench --help` must not print a configuration error).
    import function_app
    from tests.support.function_http import function_using

    def call() -> object:
        with function_using(service):
            return function_app.aws_connect_jwt(request, context)

    return call


def floor(provider: BenchProvider) -> Callable[[], object]:
    header_b64, payload_b64, signature_b64 = provider.token.split(".")
    signing_input = f"{header_b64}.{payload_b64}".encode()
    signature = base64.urlsafe_b64decode(signature_b64 + "=" * (-len(signature_b64) % 4))
    public_key = provider.key.private_key.public_key()
    secret = WIDGET_SECRET.encode()
    now = int(time.time())
    contact = {
        "sub": WIDGET_ID,
        "iat": now,
        "exp": now + 600,
        "attributes": {"name": "Ada Lovelace", "email": "ada@contoso.example", "userId": "x", "tenantId": "y"},
    }

    def call() -> object:
        public_key.verify(signature, signing_input, padding.PKCS1v15(), hashes.SHA256())
        body = json.dumps(contact, separators=(",", ":")).encode()
        return hmac.new(secret, body, hashlib.sha256).digest()

    return call


def reference(provider: BenchProvider) -> Callable[[], object]:
    jwks_client = jwt.PyJWKClient(provider.jwks_url)  # caches the key set, as the PyJWT docs show
    authorization = f"Bearer {provider.token}"

    def call() -> object:
        token = authorization.split(" ")[1]
        signing_key = jwks_client.get_signing_key_from_jwt(token)
        claims = jwt.decode(token, signing_key.key, algorithms=["RS256"], audience=API_CLIENT_ID, issuer=v2_issuer())
        now = int(time.time())
        payload = {
            "sub": WIDGET_ID,
            "iat": now,
            "exp": now + 600,
            "attributes": {
                "name": claims.get("name"),
                "email": claims.get("preferred_username"),
                "userId": claims["oid"],
                "tenantId": claims["tid"],
            },
        }
        return jwt.encode(payload, WIDGET_SECRET, algorithm="HS256")

    call()  # warm: key set fetched
    return call


def measure(provider: BenchProvider, runs: int) -> dict[str, Timing]:
    service, handler = handler_service(provider)
    timings = [
        time_calls("handler: ContactTokenService.issue", handler, runs=runs),
        time_calls("handler: function_app.aws_connect_jwt", handler_http(provider, service), runs=runs),
        time_calls("floor: RS256 verify + JSON + HMAC", floor(provider), runs=runs),
        time_calls("reference: PyJWT, AWS sample style", reference(provider), runs=runs),
    ]
    return {
        timing.name.split(":")[0] + (":http" if "aws_connect_jwt" in timing.name else ""): timing for timing in timings
    }
