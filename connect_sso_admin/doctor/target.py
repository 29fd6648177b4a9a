"""What the doctor checks (URLs, token, key, agent-SSO inputs) and the one HTTP client all checks share."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests

TIMEOUT_SECONDS = 10


@dataclass
class Target:
    page_url: str | None = None
    function_url: str | None = None
    authority: str | None = None
    token: str | None = None
    widget_secret: str | None = None
    widget_id: str | None = None
    step_up_widgets: list[str] = field(default_factory=list)  # more widget ids whose step-up requirement to report
    ca_bundle: Path | None = None
    saml_metadata: list[str] = field(default_factory=list)
    saml_warn_days: int = 30
    instance_arn: str | None = None
    users: list[str] = field(default_factory=list)
    # Filled by the page checks: the validated config.json (None when it could not be read).
    page_config: dict[str, Any] | None = None
    # Where a token comes from when none was given (device code, the development provider): authority -> token.
    token_source: Callable[[str], str | None] | None = None

    @property
    def page_origin(self) -> str | None:
        return origin_of(self.page_url) if self.page_url else None

    @property
    def health_url(self) -> str | None:
        return urljoin(self.function_url, "health") if self.function_url else None

    @property
    def verify(self) -> str | bool:
        return str(self.ca_bundle) if self.ca_bundle else True

    def session(self) -> requests.Session:
        """A session that applies --ca-bundle even when REQUESTS_CA_BUNDLE is set (which beats Session.verify)."""
        return _ExplicitVerifySession(self.verify)

    def get(self, url: str, **options: Any) -> requests.Response:
        return self.request("GET", url, **options)

    def request(self, method: str, url: str, **options: Any) -> requests.Response:
        return requests.request(
            method, url, timeout=TIMEOUT_SECONDS, allow_redirects=False, verify=self.verify, **options
        )


class _ExplicitVerifySession(requests.Session):
    def __init__(self, verify: str | bool) -> None:
        super().__init__()
        self._verify = verify

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **options: Any) -> requests.Response:
        options.setdefault("verify", self._verify)
        return super().request(method, url, *args, **options)  # type: ignore[arg-type]  # requests takes both


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def unreachable(url: str, error: requests.RequestException) -> str:
    """Why a request got no answer, without the request (which may carry a token)."""
    return f"no answer from {url} ({type(error).__name__})"
