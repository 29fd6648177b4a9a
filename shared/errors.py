"""Every way a request can fail, each with its HTTP status, a stable error code, and its own HTTP shape.

The codes are part of the API contract (the page and operators key on them); docs/errors.md lists them. Each
class says which headers (RFC 6750 challenges, Retry-After) and extra problem-details members it carries, so the
HTTP layer shapes any error the same few lines, and a new kind of error is one class here.
"""

from __future__ import annotations


def _quoted(text: str) -> str:
    """A quoted-string for WWW-Authenticate: printable ASCII without quotes or backslashes."""
    cleaned = "".join(c for c in text if 0x20 <= ord(c) < 0x7F and c not in '"\\')
    return f'"{cleaned}"'


class ContactTokenError(Exception):
    """Base class: a failure the caller gets told about. `detail` is safe to show: it never holds token content."""

    status: int = 500
    code: str = "internal_error"
    title: str = "Internal error"
    quotes_invocation_id: bool = False  # the problem details carry `invocationId` (always from status 500)

    def __init__(self, detail: str, *, code: str | None = None, log_detail: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.log_detail = log_detail or detail  # for the operator's log: may name settings or attributes
        if code is not None:
            self.code = code

    def headers(self) -> dict[str, str]:
        """Response headers this error adds."""
        return {}

    def problem_members(self) -> dict[str, object]:
        """Members this error adds to the RFC 9457 problem details."""
        return {}


class InvalidToken(ContactTokenError):
    """401: the credentials are missing, malformed or not acceptable (RFC 6750 invalid_token)."""

    status = 401
    title = "Invalid access token"

    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": f'Bearer error="invalid_token", error_description={_quoted(self.detail)}'}


class MissingToken(InvalidToken):
    """401 with a bare `Bearer` challenge: the request carried no credentials at all (RFC 6750 section 3.1)."""

    code = "missing_token"
    title = "Authentication required"

    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": "Bearer"}


class InsufficientClaims(ContactTokenError):
    """401: a valid token that lacks the authentication context the widget requires: a claims challenge
    (shared/auth_context.py). The body repeats `claims`, as platform CORS cannot expose WWW-Authenticate to a page,
    and quotes the invocation id, which the page shows when a second challenge ends its step-up."""

    status = 401
    code = "insufficient_claims"
    title = "Step-up required"
    quotes_invocation_id = True

    def __init__(self, detail: str, *, claims: str, log_detail: str | None = None) -> None:
        super().__init__(detail, log_detail=log_detail)
        self.claims = claims  # standard base64 of the claims request: quote-free by construction

    def headers(self) -> dict[str, str]:
        return {
            "WWW-Authenticate": f'Bearer error="insufficient_claims", error_description={_quoted(self.detail)}, '
            f'claims="{self.claims}"'
        }

    def problem_members(self) -> dict[str, object]:
        return {"claims": self.claims}


class InsufficientScope(ContactTokenError):
    """403: a valid token that may not have a contact token (RFC 6750 insufficient_scope)."""

    status = 403
    title = "Insufficient scope"

    def __init__(self, detail: str, *, code: str, required_scope: str) -> None:
        super().__init__(detail, code=code)
        self.required_scope = required_scope  # for the WWW-Authenticate `scope` attribute

    def headers(self) -> dict[str, str]:
        return {
            "WWW-Authenticate": f'Bearer error="insufficient_scope", error_description={_quoted(self.detail)}, '
            f"scope={_quoted(self.required_scope)}"
        }

    def problem_members(self) -> dict[str, object]:
        return {"scope": self.required_scope}


class ServiceUnavailable(ContactTokenError):
    """503: signing keys or configuration cannot be loaded and nothing usable is cached, or one widget's key cannot
    be read (widget_unavailable)."""

    status = 503
    title = "Service temporarily unavailable"

    def __init__(self, detail: str, *, code: str, retry_after_seconds: int = 30, log_detail: str | None = None) -> None:
        super().__init__(detail, code=code, log_detail=log_detail)
        self.retry_after_seconds = retry_after_seconds

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after_seconds)}


class ContactTokenTooLarge(ContactTokenError):
    """500: the attributes would make a contact JWT larger than Amazon Connect accepts."""

    code = "contact_token_too_large"
    title = "Contact token too large"


class UnknownWidget(ContactTokenError):
    """400: valid credentials, but the request's `widgetId` is not a widget this service signs for."""

    status = 400
    code = "unknown_widget"
    title = "Unknown widget"


class InvalidContactId(ContactTokenError):
    """400: PUT /api/contacts/last without a body like {"contactId": "<the chat's contact id, a UUID>"}."""

    status = 400
    code = "invalid_contact_id"
    title = "Invalid contact id"


class PersistentChatDisabled(ContactTokenError):
    """400: the widget named has no persistent chat (CONNECT_PERSISTENT_CHAT, the widget's persistentChat)."""

    status = 400
    code = "persistent_chat_disabled"
    title = "Persistent chat disabled"
