"""The contact-token service with persistent chat on, its store in Azurite (tests/conftest.py `azurite`), reached
by the real azure-data-tables SDK with a token credential over TLS, as the function reaches Table Storage in Azure."""

from __future__ import annotations

import json
import uuid
from typing import Any

import azure.functions as func

import function_app
from shared.contact_token_service import ContactTokenService
from shared.routes import CONTACT_TOKEN_PATH, LAST_CONTACT_PATH
from tools.azurite import Azurite
from tools.function_context import LocalContext
from tools.testkit.fake_entra import FakeEntra
from tools.testkit.service import base_settings, decode_contact_token
from tools.testkit.tokens import USER_OID, WIDGET_ID, access_token, entra_v2_claims

OTHER_OID = "0b1c2d3e-0000-4000-8000-0000000000d2"
CONTACT_ID = "7d3f6a10-1b2c-4d5e-8f90-a1b2c3d4e5f6"


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


def service_on(
    settings: dict[str, str], azurite: Azurite, *, clock: Any = None, credential: Any = None
) -> ContactTokenService:
    seams = {"clock": clock} if clock is not None else {}
    return ContactTokenService.from_environment(
        settings, table_client_factory=azurite.client_factory(credential), **seams
    )


def bearer(entra: FakeEntra, oid: str = USER_OID) -> str:
    return f"Bearer {access_token(entra.key, entra_v2_claims(oid=oid))}"


def put_last(authorization: str | None, body: bytes, widget_id: str | None = WIDGET_ID) -> func.HttpResponse:
    return _call("PUT", authorization, body, widget_id)


def delete_last(authorization: str | None, widget_id: str | None = WIDGET_ID) -> func.HttpResponse:
    return _call("DELETE", authorization, b"", widget_id)


def _call(method: str, authorization: str | None, body: bytes, widget_id: str | None) -> func.HttpResponse:
    headers = {"Authorization": authorization} if authorization else {}
    params = {"widgetId": widget_id} if widget_id else {}
    request = func.HttpRequest(
        method, f"http://localhost{LAST_CONTACT_PATH}", headers=headers, params=params, body=body
    )
    return function_app.last_contact(request, LocalContext("last_contact", "."))


def contact_attributes(
    authorization: str, widget_id: str = WIDGET_ID, secret: str | None = None, *, at_any_time: bool = False
) -> dict[str, str]:
    request = func.HttpRequest(
        "GET",
        f"http://localhost{CONTACT_TOKEN_PATH}",
        headers={"Authorization": authorization},
        params={"widgetId": widget_id},
        body=b"",
    )
    response = function_app.aws_connect_jwt(request, LocalContext("aws_connect_jwt", "."))
    assert response.status_code == 200, response.get_body()
    options: dict[str, Any] = {"secret": secret, "subject": widget_id} if secret else {}
    if at_any_time:  # the service's clock is the test's: its iat and exp are not now
        options["options"] = {"verify_exp": False, "verify_iat": False}
    return decode_contact_token(response.get_body().decode(), **options)["attributes"]


def code(response: func.HttpResponse) -> str:
    assert response.mimetype == "application/problem+json"
    return json.loads(response.get_body())["code"]


def contact_body(contact_id: str = CONTACT_ID) -> bytes:
    return json.dumps({"contactId": contact_id}).encode()
