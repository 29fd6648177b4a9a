"""Builds the contact-token service as function_app.py does (`ContactTokenService.from_environment`), on settings
and clocks a test chooses."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jwt as pyjwt

from shared.configuration import StoreLoaderFactory, sdk_store_loader
from shared.contact_token_service import ContactTokenService
from tools.testkit.tokens import API_CLIENT_ID, TENANT_ID, WIDGET_ID, WIDGET_SECRET


@dataclass
class FakeClock:
    """Wall clock and monotonic clock in one, moved by the test (no sleeping, no timed assertions)."""

    now: float

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def base_settings(authority: str, **overrides: str | None) -> dict[str, str]:
    values: dict[str, str | None] = {
        "ENTRA_TENANT_ID": TENANT_ID,
        "ENTRA_API_CLIENT_ID": API_CLIENT_ID,
        "ENTRA_AUTHORITY": authority,
        "CONNECT_WIDGET_ID": WIDGET_ID,
        "CONNECT_WIDGET_SECRET": WIDGET_SECRET,
    }
    values.update(overrides)
    return {name: value for name, value in values.items() if value is not None}


def make_service(
    settings: dict[str, str],
    *,
    clock: Any = None,
    monotonic: Any = None,
    store_loader_factory: StoreLoaderFactory = sdk_store_loader,
) -> ContactTokenService:
    seams = {"clock": clock, "monotonic": monotonic}
    return ContactTokenService.from_environment(
        settings,
        store_loader_factory=store_loader_factory,
        **{name: seam for name, seam in seams.items() if seam is not None},
    )


def decode_contact_token(
    token: str, secret: str = WIDGET_SECRET, options: dict[str, Any] | None = None, subject: str = WIDGET_ID
) -> dict[str, Any]:
    """Independent check with PyJWT: signature, algorithm, and the claims Amazon Connect requires."""
    return pyjwt.decode(
        token,
        secret,
        algorithms=["HS256"],
        options={"require": ["sub", "iat", "exp"], **(options or {})},  # type: ignore[arg-type]  # PyJWT types it as a TypedDict
        subject=subject,
    )
