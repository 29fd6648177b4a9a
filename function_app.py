"""Azure Function: Entra access token in, Amazon Connect contact JWT out.

HTTP in and out only. The work happens in shared/contact_token_service.py; this file reads the request,
calls it, and shapes the answer (plain JWT or JSON on success, RFC 9457 problem details on failure).
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Iterator

import azure.functions as func

from shared.contact_token_service import ContactTokenService, IssuedContactToken
from shared.errors import ContactTokenError
from shared.log_sampling import REFUSAL_LOG_INTERVAL_SECONDS, OncePerInterval, log_sampled
from shared.routes import CONTACT_TOKEN_ROUTE, HEALTH_ROUTE, LAST_CONTACT_ROUTE

ROUTE = CONTACT_TOKEN_ROUTE
PROBLEM_TYPE_PREFIX = "urn:connect-sso:error:"
COMMON_HEADERS = {
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "X-Content-Type-Options": "nosniff",
}
_log = logging.getLogger("connect_sso")
_refusal_log = OncePerInterval(REFUSAL_LOG_INTERVAL_SECONDS)

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


class _BuiltOnce:
    """The instance's one service, built under a lock: the warm-up thread and the first burst of requests on a cold
    instance all arrive before it exists, and each service built would fetch the signing keys again."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._service: ContactTokenService | None = None

    def __call__(self) -> ContactTokenService:
        service = self._service
        if service is None:
            with self._lock:
                if self._service is None:
                    self._service = ContactTokenService.from_environment(os.environ)
                service = self._service
        return service

    def cache_clear(self) -> None:
        """Forgets the service, so the next call builds one from the environment as it is then (tests)."""
        with self._lock:
            self._service = None


contact_token_service = _BuiltOnce()


@app.route(route=ROUTE, methods=["GET", "POST"], auth_level=func.AuthLevel.ANONYMOUS)
def aws_connect_jwt(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
    try:
        issued = contact_token_service().issue(req.headers.get("Authorization"), req.params.get("widgetId"))
    except Exception as error:
        return _failure_response(error, context.invocation_id)
    return _success_response(issued, req.headers.get("Accept"))


@app.route(route=LAST_CONTACT_ROUTE, methods=["PUT", "DELETE"], auth_level=func.AuthLevel.ANONYMOUS)
def last_contact(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
    """Persistent chat: PUT stores the caller's chat contact id for the widget, DELETE forgets it. 204 either way;
    nothing stored is ever answered (shared/last_contact.py)."""
    authorization, widget_id = req.headers.get("Authorization"), req.params.get("widgetId")
    try:
        service = contact_token_service()
        if req.method == "DELETE":
            service.forget_last_contact(authorization, widget_id)
        else:
            service.remember_last_contact(authorization, widget_id, req.get_body())
    except Exception as error:
        return _failure_response(error, context.invocation_id)
    return func.HttpResponse(status_code=204, headers=COMMON_HEADERS)


@app.route(route=HEALTH_ROUTE, methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def health(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:  # noqa: ARG001 - bound by name
    """Readiness for availability tests and the doctor: 200 ready, or 503 with Retry-After and reason codes."""
    try:
        readiness = contact_token_service().readiness()
    except Exception as error:  # as on the other routes: a problem response with the invocation id, never the host's
        return _failure_response(error, context.invocation_id)
    headers = {**COMMON_HEADERS, **readiness.headers}
    return func.HttpResponse(readiness.body, status_code=readiness.status, mimetype="application/json", headers=headers)


def _media_ranges(accept: str) -> Iterator[tuple[str, float]]:
    """(media range, quality) of each well-formed element of an Accept header (RFC 9110 section 12.5.1)."""
    for element in accept.split(","):
        media_range, *parameters = (part.strip() for part in element.split(";"))
        if media_range.count("/") != 1:
            continue
        quality = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value.strip())
                except ValueError:
                    quality = -1.0
        if 0.0 <= quality <= 1.0:
            yield media_range.lower(), quality


def _quality_of(media_type: str, ranges: list[tuple[str, float]]) -> tuple[float, str | None]:
    """The quality the most specific matching range gives `media_type`, and that range (None: no match)."""
    kind = media_type.split("/")[0]
    for candidate in (media_type, f"{kind}/*", "*/*"):
        matching = [quality for media_range, quality in ranges if media_range == candidate]
        if matching:
            return max(matching), candidate
    return 0.0, None


def wants_json(accept: str | None) -> bool:
    """JSON when application/json (or application/*) is asked for by name with a quality at least that of
    text/plain, or when the client refuses text/plain (q=0) and accepts JSON some way (`*/*, text/plain;q=0`);
    no Accept, `*/*` alone, or a preference for text keep the .NET service's plain-text answer."""
    ranges = list(_media_ranges(accept or ""))
    json_quality, json_range = _quality_of("application/json", ranges)
    text_quality, text_range = _quality_of("text/plain", ranges)
    if json_quality > 0 and text_range is not None and text_quality == 0:
        return True
    return json_range not in (None, "*/*") and json_quality > 0 and json_quality >= text_quality


def _success_response(issued: IssuedContactToken, accept: str | None) -> func.HttpResponse:
    if wants_json(accept):
        body = json.dumps({"data": issued.jwt, "expiresIn": issued.expires_in, "displayName": issued.display_name})
        return func.HttpResponse(body, status_code=200, mimetype="application/json", headers=COMMON_HEADERS)
    return func.HttpResponse(issued.jwt, status_code=200, mimetype="text/plain", headers=COMMON_HEADERS)


def _failure_response(error: Exception, invocation_id: str) -> func.HttpResponse:
    if isinstance(error, ContactTokenError):
        return _problem_response(error, invocation_id)
    _log.error("unexpected error (invocation %s)", invocation_id, exc_info=error)
    return _problem_response(
        ContactTokenError(f"Something went wrong; quote invocation id {invocation_id}."), invocation_id
    )


def _problem_response(error: ContactTokenError, invocation_id: str) -> func.HttpResponse:
    problem: dict[str, object] = {
        "type": PROBLEM_TYPE_PREFIX + error.code,
        "title": error.title,
        "status": error.status,
        "detail": error.detail,
        "code": error.code,
        **error.problem_members(),
    }
    if error.status >= 500 or error.quotes_invocation_id:
        problem["invocationId"] = invocation_id
    if error.status >= 500:
        _log.error("%s (invocation %s): %s", error.code, invocation_id, error.log_detail)
    else:
        # The metrics count every refusal; the log keeps one example per code a minute (a flood must not fill the
        # Log Analytics daily cap and blind the alerts) and every one at Debug.
        log_sampled(
            _log,
            _refusal_log,
            (error.status, error.code),
            "refused with %d %s: %s",
            error.status,
            error.code,
            error.log_detail,
        )
    return func.HttpResponse(
        json.dumps(problem),
        status_code=error.status,
        mimetype="application/problem+json",
        headers={**COMMON_HEADERS, **error.headers()},
    )


threading.Thread(target=lambda: contact_token_service().warm_up(), name="connect-sso warm-up", daemon=True).start()
