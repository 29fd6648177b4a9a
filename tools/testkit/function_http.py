"""Calls the real Azure Function entry point (`function_app.aws_connect_jwt`) with a real `func.HttpRequest`,
on a service the test built, and reads the answer back the way a browser would (status, headers, body)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import azure.functions as func

import function_app
from shared.contact_token_service import ContactTokenService
from shared.routes import CONTACT_TOKEN_PATH, CONTACT_TOKEN_ROUTE
from tools.function_context import LocalContext
from tools.paths import REPO_ROOT

FUNCTION_URL = f"http://127.0.0.1{CONTACT_TOKEN_PATH}"


@dataclass(frozen=True)
class FunctionAnswer:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def mimetype(self) -> str:
        return self.headers.get("Content-Type", "").split(";")[0]

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def code(self) -> str | None:
        """The stable error code of a problem answer; None for a success."""
        if self.mimetype != "application/problem+json":
            return None
        code = self.json()["code"]
        return str(code) if code is not None else None


def call_function(
    authorization: str | None,
    *,
    accept: str | None = None,
    method: str = "GET",
    extra_headers: dict[str, str] | None = None,
    widget_id: str | None = None,
) -> FunctionAnswer:
    """One invocation of the function exactly as the host makes it (whatever service function_app uses now)."""
    headers = dict(extra_headers or {})
    if authorization is not None:
        headers["Authorization"] = authorization
    if accept is not None:
        headers["Accept"] = accept
    params = {} if widget_id is None else {"widgetId": widget_id}
    request = func.HttpRequest(method, FUNCTION_URL, headers=headers, params=params, route_params={}, body=b"")
    response = function_app.aws_connect_jwt(request, LocalContext(CONTACT_TOKEN_ROUTE, str(REPO_ROOT)))
    answer_headers = dict(response.headers)
    if response.mimetype:
        answer_headers["Content-Type"] = response.mimetype
    return FunctionAnswer(response.status_code, answer_headers, response.get_body())


@contextmanager
def function_using(service: ContactTokenService) -> Iterator[ContactTokenService]:
    """Makes function_app serve requests with `service` (built on test settings) for the duration."""
    original = function_app.contact_token_service
    function_app.contact_token_service = lambda: service  # type: ignore[assignment]
    try:
        yield service
    finally:
        function_app.contact_token_service = original
