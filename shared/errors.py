"""Every way a request can fail, each with its HTTP status and a stable error code.

The codes are part of the API contract (the page and operators key on them); docs/errors.md lists them.
"""

from __future__ import annotations


class ContactTokenError(Exception):
    """Base class: a failure the caller gets told about. `detail` is safe to show: it never holds token content."""

    status: int = 500
    code: str = "internal_error"
    title: str = "Internal error"

    def __init__(self, detail: str, *, code: str | None = None, log_detail: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.log_detail = log_detail or detail  # for the operator's log: may name settings or attributes
        if code is not None:
            self.code = code


class InvalidToken(ContactTokenError):
    """401: the credentials are missing, malformed or not acceptable (RFC 6750 invalid_token)."""

    status = 401
    title = "Invalid access token"


class MissingToken(InvalidToken):
    """401 with a bare `Bearer` challenge: the request carried no credentials at all (RFC 6750 section 3.1)."""

    code = "missing_token"
    title = "Authentication required"


class InsufficientScope(ContactTokenError):
    """403: a valid token that may not have a contact token (RFC 6750 insufficient_scope)."""

    status = 403
    title = "Insufficient scope"

    def __init__(self, detail: str, *, code: str, required_scope: str) -> None:
        super().__init__(detail, code=code)
        self.required_scope = required_scope  # for the WWW-Authenticate `scope` attribute


class ServiceUnavailable(ContactTokenError):
    """503: signing keys or configuration cannot be loaded and nothing usable is cached."""

    status = 503
    title = "Service temporarily unavailable"

    def __init__(self, detail: str, *, code: str, retry_after_seconds: int = 30) -> None:
        super().__init__(detail, code=code)
        self.retry_after_seconds = retry_after_seconds


class ContactTokenTooLarge(ContactTokenError):
    """500: the attributes would make a contact JWT larger than Amazon Connect accepts."""

    code = "contact_token_too_large"
    title = "Contact token too large"
