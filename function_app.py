"""Azure Function: Entra access token in, Amazon Connect contact JWT out.

HTTP in and out only. The work happens in shared/contact_token_service.py; this file reads the request,
calls it, and shapes the answer (plain JWT or JSON on success, RFC 9457 problem details on failure).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
from functools import lru_cache

import azure.functions as func

from shared.configuration import ConfigurationProvider
from shared.contact_token_service import ContactTokenService, IssuedContactToken
from shared.errors import ContactTokenError, InsufficientScope, InvalidToken, MissingToken, ServiceUnavailable

ROUTE = "AWSConnectJWT"
HEALTH_ROUTE = "health"
PROBLEM_TYPE_PREFIX = "urn:connect-sso:error:"
COMMON_HEADERS = {
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "X-Content-Type-Options": "nosniff",
}
_log = logging.getLogger("connect_sso")

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@lru_cache(maxsize=1)
def contact_token_service() -> ContactTokenService:
    return ContactTokenService(ConfigurationProvider(os.environ))


def _warm_up() -> None:
    """At start: report configuration errors and fetch signing keys before the first customer waits for them."""
    service = contact_token_service()
    settings = service.configuration.check_at_start()
    if settings is not None:
        # A failure is logged where it happens; requests answer 503 until it recovers.
        with contextlib.suppress(ContactTokenError):
            service.provider_for(settings).warm()


@app.route(route=ROUTE, methods=["GET", "POST"], auth_level=func.AuthLevel.ANONYMOUS)
def aws_connect_jwt(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
    try:
        issued = contact_token_service().issue(req.headers.get("Authorization"))
    except ContactTokenError as error:
        return _problem_response(error, context.invocation_id)
    except Exception:
        _log.exception("unexpected error (invocation %s)", context.invocation_id)
        return _problem_response(
            ContactTokenError(f"Something went wrong; quote invocation id {context.invocation_id}."),
            context.invocation_id,
        )
    return _success_response(issued, req.headers.get("Accept"))


@app.route(route=HEALTH_ROUTE, methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def health(req: func.HttpRequest) -> func.HttpResponse:  # noqa: ARG001 - the host binds `req` by name
    """Readiness for availability tests and the doctor: 200 ready, or 503 with Retry-After and reason codes."""
    readiness = contact_token_service().readiness()
    headers = {**COMMON_HEADERS, **readiness.headers}
    return func.HttpResponse(readiness.body, status_code=readiness.status, mimetype="application/json", headers=headers)


def wants_json(accept: str | None) -> bool:
    """True when the Accept header lists application/json with a non-zero quality."""
    for media_range in (accept or "").split(","):
        media_type, *parameters = (part.strip() for part in media_range.split(";"))
        if media_type.lower() != "application/json":
            continue
        quality = next((p[2:] for p in parameters if p.lower().startswith("q=")), "1")
        try:
            if float(quality) > 0:
                return True
        except ValueError:
            continue
    return False


def _success_response(issued: IssuedContactToken, accept: str | None) -> func.HttpResponse:
    if wants_json(accept):
        body = json.dumps({"data": issued.jwt, "expiresIn": issued.expires_in, "displayName": issued.display_name})
        return func.HttpResponse(body, status_code=200, mimetype="application/json", headers=COMMON_HEADERS)
    return func.HttpResponse(issued.jwt, status_code=200, mimetype="text/plain", headers=COMMON_HEADERS)


def _quoted(text: str) -> str:
    """A quoted-string for WWW-Authenticate: printable ASCII without quotes or backslashes."""
    cleaned = "".join(c for c in text if 0x20 <= ord(c) < 0x7F and c not in '"\\')
    return f'"{cleaned}"'


def _problem_response(error: ContactTokenError, invocation_id: str) -> func.HttpResponse:
    headers = dict(COMMON_HEADERS)
    problem: dict[str, object] = {
        "type": PROBLEM_TYPE_PREFIX + error.code,
        "title": error.title,
        "status": error.status,
        "detail": error.detail,
        "code": error.code,
    }
    if isinstance(error, MissingToken):
        headers["WWW-Authenticate"] = "Bearer"
    elif isinstance(error, InvalidToken):
        headers["WWW-Authenticate"] = f'Bearer error="invalid_token", error_description={_quoted(error.detail)}'
    elif isinstance(error, InsufficientScope):
        headers["WWW-Authenticate"] = (
            f'Bearer error="insufficient_scope", error_description={_quoted(error.detail)}, '
            f"scope={_quoted(error.required_scope)}"
        )
        problem["scope"] = error.required_scope
    elif isinstance(error, ServiceUnavailable):
        headers["Retry-After"] = str(error.retry_after_seconds)
    if error.status >= 500:
        problem["invocationId"] = invocation_id
        _log.error("%s (invocation %s): %s", error.code, invocation_id, error.log_detail)
    else:
        _log.info("refused with %d %s: %s", error.status, error.code, error.log_detail)
    return func.HttpResponse(
        json.dumps(problem), status_code=error.status, mimetype="application/problem+json", headers=headers
    )


threading.Thread(target=_warm_up, name="connect-sso warm-up", daemon=True).start()
