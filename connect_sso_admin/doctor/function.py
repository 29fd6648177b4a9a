"""The function: ready, the right challenges, CORS for the page, no caching. Never sends a real token."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass

import requests

from connect_sso_admin.doctor.report import Result, failed, passed, skipped, warned
from connect_sso_admin.doctor.target import Target, unreachable


def _segment(value: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


# Shaped like a JWT with alg "none": refused before any key is looked up, so it never makes the function refresh
# its keys (an unknown kid would). Signed by nobody; not a secret.
MALFORMED_TOKEN = f"{_segment({'alg': 'none', 'typ': 'JWT'})}.{_segment({'doctor': True})}.bm90LXNpZ25lZA"
NO_STORE_ACTION = "answers must carry Cache-Control: no-store: deploy the function from this repository"


def check_function(target: Target) -> list[Result]:
    names = ("function.health", "function.no-token", "function.cors", "function.bad-token")
    if not target.function_url:
        return [skipped(name, "no --function-url given and no valid config.json") for name in names]
    health = _health(target, target.health_url or "")
    if health.status.value == "FAIL" and health.reason.startswith("no answer"):
        return [health, *(skipped(name, "the function does not answer") for name in names[1:])]
    url = target.function_url
    return [health, _no_token(target, url), _cors(target, url), _bad_token(target, url)]


def _health(target: Target, url: str) -> Result:
    try:
        response = target.get(url)
    except requests.RequestException as error:
        return failed(
            "function.health", unreachable(url, error), "is the function running and deployed? (azd deploy api)"
        )
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code == 200 and body.get("status") == "ready":
        return passed("function.health", f"{url} is ready")
    if response.status_code == 200 and body.get("status") == "degraded":
        widgets = ", ".join(str(widget) for widget in body.get("unavailableWidgets", [])) or "some widgets"
        return warned(
            "function.health",
            f"degraded: widget {widgets} cannot read its key (503 widget_unavailable); the others serve",
            "see docs/operations.md#503-signing-keys-or-configuration-unavailable (widget_unavailable)",
        )
    if response.status_code == 503:
        reasons = ", ".join(body.get("reasons", [])) or "no reason given"
        return failed(
            "function.health",
            f"not ready (503): {reasons}",
            "see docs/operations.md#503-signing-keys-or-configuration-unavailable",
        )
    return failed(
        "function.health",
        f"{url} answered HTTP {response.status_code}",
        "deploy this version of the function (it has GET /api/health)",
    )


def _no_store(response: requests.Response) -> bool:
    return "no-store" in response.headers.get("Cache-Control", "").lower()


@dataclass(frozen=True)
class _Refusal:
    """What one check sends, and the 401 it must get back."""

    name: str
    headers: dict[str, str]
    wanted: Callable[[str], bool]  # of the WWW-Authenticate challenge
    wrong: str  # the failure, formatted with {status} and {challenge}
    action: str
    right: str


def _expect_401(target: Target, url: str, refusal: _Refusal) -> Result:
    """A 401 whose challenge `refusal` wants, not cached; otherwise a FAIL saying what came back."""
    try:
        response = target.get(url, headers=refusal.headers)
    except requests.RequestException as error:
        return failed(refusal.name, unreachable(url, error))
    challenge = response.headers.get("WWW-Authenticate")
    if response.status_code != 401 or challenge is None or not refusal.wanted(challenge):
        return failed(
            refusal.name, refusal.wrong.format(status=response.status_code, challenge=challenge), refusal.action
        )
    if not _no_store(response):
        return failed(refusal.name, "401 without Cache-Control: no-store", NO_STORE_ACTION)
    return passed(refusal.name, refusal.right)


NO_TOKEN = _Refusal(
    "function.no-token",
    {"Accept": "application/json"},
    lambda challenge: challenge == "Bearer",
    "no token got HTTP {status} with WWW-Authenticate {challenge!r}, not 401 'Bearer'",
    "is --function-url the contact-token function (…/api/AWSConnectJWT)?",
    "401 with a bare Bearer challenge, not cached",
)
BAD_TOKEN = _Refusal(
    "function.bad-token",
    {"Authorization": f"Bearer {MALFORMED_TOKEN}"},
    lambda challenge: 'error="invalid_token"' in challenge,
    'a bad token got HTTP {status}, not 401 with error="invalid_token"',
    "is --function-url the contact-token function?",
    "a bad token gets 401 invalid_token, not cached",
)


def _no_token(target: Target, url: str) -> Result:
    return _expect_401(target, url, NO_TOKEN)


def _cors(target: Target, url: str) -> Result:
    origin = target.page_origin
    if origin is None:
        return skipped("function.cors", "no --page-url: no origin to test")
    try:
        response = target.request(
            "OPTIONS",
            url,
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "authorization",
            },
        )
    except requests.RequestException as error:
        return failed("function.cors", unreachable(url, error))
    allowed_origin = response.headers.get("Access-Control-Allow-Origin")
    allowed_headers = response.headers.get("Access-Control-Allow-Headers", "").lower()
    if allowed_origin not in (origin, "*"):
        return failed(
            "function.cors",
            f"a preflight from {origin} is not allowed (Access-Control-Allow-Origin {allowed_origin!r})",
            "add the page's origin to the function's CORS (main.bicep customWebOrigins, or the portal: CORS)",
        )
    if "authorization" not in allowed_headers and "*" not in allowed_headers:
        return failed("function.cors", "the preflight does not allow the Authorization header")
    return passed("function.cors", f"a preflight from {origin} is allowed")


def _bad_token(target: Target, url: str) -> Result:
    return _expect_401(target, url, BAD_TOKEN)
