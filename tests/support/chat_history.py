"""The contact-token service with persistent chat on, its store in Azurite (tests/conftest.py `azurite`), reached
by the real azure-data-tables SDK with a token credential over TLS, as the function reaches Table Storage in Azure."""

from __future__ import annotations

import functools
import uuid
from typing import Any

from shared.chat_history import TableClientFactory, sdk_table_client
from shared.contact_token_service import ContactTokenService
from tools.azurite import Azurite, AzuriteCredential
from tools.testkit.service import base_settings


def fresh_table(azurite: Azurite) -> str:
    """A new table per test (what Bicep creates in Azure), so tests never see each other's entries."""
    table = "t" + uuid.uuid4().hex[:20]
    azurite.create_table(table)
    return table


def persistent_settings(authority: str, azurite: Azurite, table: str, **overrides: str | None) -> dict[str, str]:
    values: dict[str, str | None] = {
        "CONNECT_PERSISTENT_CHAT": "true",
        "CHAT_HISTORY_ENDPOINT": azurite.endpoint,
        "CHAT_HISTORY_TABLE": table,
    }
    return base_settings(authority, **{**values, **overrides})


def azurite_client_factory(azurite: Azurite, credential: Any = None) -> TableClientFactory:
    """The SDK client with an explicit credential and CA file: no managed identity probe, no system trust store."""
    return functools.partial(
        sdk_table_client, credential=credential or AzuriteCredential(), connection_verify=str(azurite.ca_file)
    )


def service_on(
    settings: dict[str, str], azurite: Azurite, *, clock: Any = None, credential: Any = None
) -> ContactTokenService:
    seams = {"clock": clock} if clock is not None else {}
    return ContactTokenService.from_environment(
        settings, table_client_factory=azurite_client_factory(azurite, credential), **seams
    )
