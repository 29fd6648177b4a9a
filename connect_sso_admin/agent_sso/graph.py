"""A small Microsoft Graph client: injectable base URL and credential, read calls always, writes only when applying.

In dry-run mode every write is printed (method, path, JSON body) instead of sent, and answers with a
placeholder, so the caller's logic runs unchanged and the printed list is exactly what an apply would send.
The bearer token never leaves this module: not in errors, not in output.
"""

import json
import time
from collections.abc import Callable
from typing import Any, Protocol, TextIO
from urllib.parse import urlsplit

import requests

GRAPH_V1 = "https://graph.microsoft.com/v1.0"
_LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
_RETRYABLE = {429, 502, 503, 504}


class TokenCredential(Protocol):
    """What azure-identity credentials offer (``get_token(scope).token``)."""

    def get_token(self, *scopes: str) -> Any: ...


class GraphError(RuntimeError):
    """Graph refused a call; carries the HTTP status and Graph's error code and message."""

    def __init__(self, method: str, path: str, status: int, code: str, message: str) -> None:
        super().__init__(f"{method} {path} -> HTTP {status} {code}: {message}")
        self.status = status
        self.code = code


def _check_base_url(base_url: str) -> str:
    parts = urlsplit(base_url)
    if parts.scheme == "https" and parts.hostname:
        return base_url.rstrip("/")
    if parts.scheme == "http" and parts.hostname in _LOOPBACK_HOSTS:
        return base_url.rstrip("/")  # a local stand-in for tests; a token never crosses a network in clear
    raise ValueError(f"Graph base URL must be https (http only on loopback): {base_url!r}")


class GraphClient:
    def __init__(
        self,
        credential: TokenCredential,
        base_url: str = GRAPH_V1,
        *,
        dry_run: bool = False,
        out: TextIO | None = None,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        timeout: float = 30.0,
    ) -> None:
        self.base_url = _check_base_url(base_url)
        parts = urlsplit(self.base_url)
        self._origin = f"{parts.scheme}://{parts.netloc}"
        self._scope = f"{self._origin}/.default"
        self._credential = credential
        self.dry_run = dry_run
        self._out = out
        self._session = session or requests.Session()
        self._sleep = sleep
        self._timeout = timeout
        self.writes: list[tuple[str, str, Any]] = []  # what was sent (or, in dry-run, would be sent)

    def _send(self, method: str, url: str, body: Any = None) -> Any:
        token = self._credential.get_token(self._scope).token
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        path = url.removeprefix(self.base_url)
        for attempt in range(4):
            response = self._session.request(
                method, url, headers=headers, json=body, timeout=self._timeout, allow_redirects=False
            )
            if response.status_code not in _RETRYABLE or attempt == 3:
                break
            # Throttled or briefly unavailable: Graph says how long to wait; cap it so a run cannot hang.
            self._sleep(min(float(response.headers.get("Retry-After", 2 ** (attempt + 1))), 30.0))
        if response.status_code >= 400:
            try:
                error = response.json().get("error", {})
            except ValueError:
                error = {}
            raise GraphError(
                method, path, response.status_code, error.get("code", "unknown"), error.get("message", "")[:300]
            )
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    def get(self, path: str) -> Any:
        return self._send("GET", self.base_url + path)

    def get_when_ready(self, path: str, attempts: int = 10) -> Any:
        """GET an object created a moment ago: Graph replicates new objects with a delay, so 404 is retried."""
        for attempt in range(attempts):
            try:
                return self.get(path)
            except GraphError as error:
                if error.status != 404 or attempt == attempts - 1:
                    raise
                self._sleep(2.0)
        raise AssertionError("unreachable")

    def get_all(self, path: str) -> list[dict[str, Any]]:
        """Every item of a collection, following @odata.nextLink, but only on the same origin (the token goes along)."""
        items: list[dict[str, Any]] = []
        url: str | None = self.base_url + path
        while url:
            if not url.startswith(self._origin + "/"):
                raise GraphError("GET", path, 0, "foreignNextLink", "a nextLink pointed outside the Graph endpoint")
            page = self._send("GET", url)
            items += page.get("value", [])
            url = page.get("@odata.nextLink")
        return items

    def write(self, method: str, path: str, body: Any = None, placeholder: Any = None) -> Any:
        """POST/PATCH/DELETE ``path``; in dry-run, print it and answer ``placeholder``."""
        self.writes.append((method, path, body))
        if self.dry_run:
            if self._out is not None:
                shown = "" if body is None else " " + json.dumps(body, sort_keys=True)
                self._out.write(f"would {method} {path}{shown}\n")
            return placeholder
        return self._send(method, self.base_url + path, body)
