"""PUT/DELETE /api/contacts/last and previousContactId, through function_app's entry points, with the store in
Azurite reached by the real azure-data-tables SDK (bearer token over TLS). Contact JWTs verified with PyJWT."""

from __future__ import annotations

import json
import logging
import uuid

import pytest

from shared.telemetry import CHAT_HISTORY_METRIC
from tests.security.telemetry_hygiene import TelemetryCapture, counts_delta
from tests.support.chat_history import (
    CONTACT_ID,
    OTHER_OID,
    bearer,
    code,
    contact_attributes,
    contact_body,
    delete_last,
    fresh_table,
    persistent_settings,
    put_last,
    service_on,
)
from tools.azurite import Azurite
from tools.testkit.fake_entra import FakeEntra
from tools.testkit.function_http import function_using
from tools.testkit.service import FakeClock
from tools.testkit.tokens import TENANT_ID, USER_OID, WIDGET_ID, access_token, entra_v2_claims

OTHER_WIDGET_ID = "5c1f0e2d-0000-4000-8000-0000000000c2"
OTHER_WIDGET_SECRET = "fake-other-widget-secret-" + "y" * 20


@pytest.fixture
def table(azurite: Azurite) -> str:
    return fresh_table(azurite)


def test_a_stored_contact_comes_back_only_in_the_same_users_next_contact_token(
    fake_entra: FakeEntra, azurite: Azurite, table: str
) -> None:
    with function_using(service_on(persistent_settings(fake_entra.authority, azurite, table), azurite)):
        assert "previousContactId" not in contact_attributes(bearer(fake_entra))
        stored = put_last(bearer(fake_entra), contact_body(CONTACT_ID.upper()))
        assert stored.status_code == 204
        assert stored.get_body() == b""  # nothing stored is ever answered
        assert stored.headers["Cache-Control"] == "no-store"
        assert contact_attributes(bearer(fake_entra))["previousContactId"] == CONTACT_ID
        assert "previousContactId" not in contact_attributes(bearer(fake_entra, OTHER_OID))
    # Another tenant with the same oid is another person (the key is tid + oid).
    entity = azurite.table_client(table).get_entity(f"{TENANT_ID}:{USER_OID}", WIDGET_ID)
    assert set(entity) == {"PartitionKey", "RowKey", "ContactId", "StoredAt"}  # ids and a time, nothing else


def test_the_entry_is_per_widget(fake_entra: FakeEntra, azurite: Azurite, table: str) -> None:
    widgets = json.dumps({OTHER_WIDGET_ID: {"secretSetting": "CONNECT_WIDGET_SECRET_OTHER"}})
    settings = persistent_settings(
        fake_entra.authority, azurite, table, CONNECT_WIDGETS=widgets, CONNECT_WIDGET_SECRET_OTHER=OTHER_WIDGET_SECRET
    )
    with function_using(service_on(settings, azurite)):
        assert put_last(bearer(fake_entra), contact_body(), OTHER_WIDGET_ID).status_code == 204
        assert "previousContactId" not in contact_attributes(bearer(fake_entra))
        attributes = contact_attributes(bearer(fake_entra), OTHER_WIDGET_ID, OTHER_WIDGET_SECRET)
        assert attributes["previousContactId"] == CONTACT_ID


def test_delete_forgets_only_the_callers_own_entry(fake_entra: FakeEntra, azurite: Azurite, table: str) -> None:
    with function_using(service_on(persistent_settings(fake_entra.authority, azurite, table), azurite)):
        assert put_last(bearer(fake_entra), contact_body()).status_code == 204
        other_contact = str(uuid.uuid4())
        assert put_last(bearer(fake_entra, OTHER_OID), contact_body(other_contact)).status_code == 204
        forgotten = delete_last(bearer(fake_entra))
        assert (forgotten.status_code, forgotten.get_body()) == (204, b"")
        assert "previousContactId" not in contact_attributes(bearer(fake_entra))
        assert contact_attributes(bearer(fake_entra, OTHER_OID))["previousContactId"] == other_contact
        assert delete_last(bearer(fake_entra)).status_code == 204  # nothing left to forget: still 204


def test_an_expired_entry_is_ignored_and_deleted(fake_entra: FakeEntra, azurite: Azurite, table: str) -> None:
    clock = FakeClock(1_900_000_000.0)
    settings = persistent_settings(fake_entra.authority, azurite, table, CHAT_HISTORY_RETENTION_DAYS="2")
    authorization = (
        f"Bearer {access_token(fake_entra.key, entra_v2_claims(iat=int(clock.now), exp=int(clock.now) + 3 * 86400))}"
    )
    with function_using(service_on(settings, azurite, clock=clock)):
        assert put_last(authorization, contact_body()).status_code == 204
        clock.advance(2 * 86400 - 60)
        assert contact_attributes(authorization, at_any_time=True)["previousContactId"] == CONTACT_ID
        clock.advance(120)
        assert "previousContactId" not in contact_attributes(authorization, at_any_time=True)
    assert list(azurite.table_client(table).list_entities()) == []


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b"", "no body"),
        (b"{}", "no contactId"),
        (b'{"contactId": null}', "null"),
        (b'{"contactId": 42}', "a number"),
        (b'{"contactId": "not-a-uuid"}', "not a UUID"),
        (b'{"contactId": "7d3f6a101b2c4d5e8f90a1b2c3d4e5f6"}', "a UUID without hyphens"),
        (b'["7d3f6a10-1b2c-4d5e-8f90-a1b2c3d4e5f6"]', "not an object"),
        (b"contactId=7d3f6a10-1b2c-4d5e-8f90-a1b2c3d4e5f6", "not JSON"),
        (b"\xff\xfe", "not UTF-8"),
        (json.dumps({"contactId": CONTACT_ID, "padding": "x" * 1024}).encode(), "over 1 KiB"),
    ],
)
def test_anything_but_a_contact_id_is_400_invalid_contact_id(
    fake_entra: FakeEntra, azurite: Azurite, table: str, body: bytes, why: str
) -> None:
    with function_using(service_on(persistent_settings(fake_entra.authority, azurite, table), azurite)):
        response = put_last(bearer(fake_entra), body)
        assert (response.status_code, code(response)) == (400, "invalid_contact_id"), why
    assert list(azurite.table_client(table).list_entities()) == []


def test_credentials_and_widget_are_checked_as_for_a_contact_token(
    fake_entra: FakeEntra, azurite: Azurite, table: str
) -> None:
    with function_using(service_on(persistent_settings(fake_entra.authority, azurite, table), azurite)):
        missing = put_last(None, contact_body())
        assert (missing.status_code, code(missing), missing.headers["WWW-Authenticate"]) == (
            401,
            "missing_token",
            "Bearer",
        )
        expired = put_last(f"Bearer {access_token(fake_entra.key, entra_v2_claims(exp=1))}", contact_body())
        assert (expired.status_code, code(expired)) == (401, "token_expired")
        scope = put_last(f"Bearer {access_token(fake_entra.key, entra_v2_claims(scp='Other'))}", contact_body())
        assert (scope.status_code, code(scope)) == (403, "insufficient_scope")
        # Credentials first: an anonymous caller learns nothing about widgets, nor about the body.
        assert code(put_last(None, b"not json", str(uuid.uuid4()))) == "missing_token"
        unknown = put_last(bearer(fake_entra), contact_body(), str(uuid.uuid4()))
        assert (unknown.status_code, code(unknown)) == (400, "unknown_widget")
        assert code(delete_last(None)) == "missing_token"
    assert list(azurite.table_client(table).list_entities()) == []


def test_a_widget_without_persistent_chat_refuses_and_never_gets_previous_contact_id(
    fake_entra: FakeEntra, azurite: Azurite, table: str
) -> None:
    widgets = json.dumps({OTHER_WIDGET_ID: {"secretSetting": "CONNECT_WIDGET_SECRET_OTHER", "persistentChat": False}})
    settings = persistent_settings(
        fake_entra.authority, azurite, table, CONNECT_WIDGETS=widgets, CONNECT_WIDGET_SECRET_OTHER=OTHER_WIDGET_SECRET
    )
    azurite.table_client(table).upsert_entity(
        {
            "PartitionKey": f"{TENANT_ID}:{USER_OID}",
            "RowKey": OTHER_WIDGET_ID,
            "ContactId": CONTACT_ID,
            "StoredAt": __import__("datetime").datetime.now(__import__("datetime").UTC),
        }
    )
    with function_using(service_on(settings, azurite)):
        refused = put_last(bearer(fake_entra), contact_body(), OTHER_WIDGET_ID)
        assert (refused.status_code, code(refused)) == (400, "persistent_chat_disabled")
        attributes = contact_attributes(bearer(fake_entra), OTHER_WIDGET_ID, OTHER_WIDGET_SECRET)
        assert "previousContactId" not in attributes
        # Forgetting still works: a person can always erase what was kept about them.
        assert delete_last(bearer(fake_entra), OTHER_WIDGET_ID).status_code == 204
    assert list(azurite.table_client(table).list_entities()) == []


def test_with_no_store_configured_the_routes_say_persistent_chat_is_disabled(fake_entra: FakeEntra) -> None:
    from tools.testkit.service import base_settings, make_service

    with function_using(make_service(base_settings(fake_entra.authority))):
        assert code(put_last(bearer(fake_entra), contact_body())) == "persistent_chat_disabled"
        assert code(delete_last(bearer(fake_entra))) == "persistent_chat_disabled"
        assert "previousContactId" not in contact_attributes(bearer(fake_entra))


def test_a_store_that_cannot_be_reached_is_503_for_put_and_never_stops_a_chat(
    fake_entra: FakeEntra, azurite: Azurite, table: str, telemetry: TelemetryCapture, caplog: pytest.LogCaptureFixture
) -> None:
    with function_using(service_on(persistent_settings(fake_entra.authority, azurite, table), azurite)):
        assert put_last(bearer(fake_entra), contact_body()).status_code == 204
    closed = "https://127.0.0.1:9/devstoreaccount1"  # the discard port: nothing listens
    settings = persistent_settings(fake_entra.authority, azurite, table, CHAT_HISTORY_ENDPOINT=closed)
    before = telemetry.points()
    with caplog.at_level(logging.WARNING), function_using(service_on(settings, azurite)):
        refused = put_last(bearer(fake_entra), contact_body())
        assert (refused.status_code, code(refused)) == (503, "chat_history_unavailable")
        assert int(refused.headers["Retry-After"]) > 0
        forget = delete_last(bearer(fake_entra))
        assert (forget.status_code, code(forget)) == (503, "chat_history_unavailable")
        attributes = contact_attributes(bearer(fake_entra))
        assert attributes["userId"] == USER_OID
        assert "previousContactId" not in attributes
    counts = counts_delta(before, telemetry.points(), CHAT_HISTORY_METRIC)
    assert counts == {
        frozenset({("operation", "store"), ("outcome", "error")}): 1,
        frozenset({("operation", "forget"), ("outcome", "error")}): 1,
        frozenset({("operation", "lookup"), ("outcome", "error")}): 1,
    }
    assert "contact token issued without previousContactId" in caplog.text
    warnings = " ".join(r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING)
    assert "chat history lookup failed: ServiceRequestError" in warnings
    assert USER_OID not in warnings and TENANT_ID not in warnings  # the warnings name no person


def test_operations_are_counted_by_operation_and_outcome(
    fake_entra: FakeEntra, azurite: Azurite, table: str, telemetry: TelemetryCapture
) -> None:
    before = telemetry.points()
    with function_using(service_on(persistent_settings(fake_entra.authority, azurite, table), azurite)):
        put_last(bearer(fake_entra), contact_body())
        contact_attributes(bearer(fake_entra))
        delete_last(bearer(fake_entra))
    counts = counts_delta(before, telemetry.points(), CHAT_HISTORY_METRIC)
    assert counts == {
        frozenset({("operation", "store"), ("outcome", "ok")}): 1,
        frozenset({("operation", "lookup"), ("outcome", "ok")}): 1,
        frozenset({("operation", "forget"), ("outcome", "ok")}): 1,
    }


def test_azurite_refuses_a_token_it_should_refuse(azurite: Azurite, table: str) -> None:
    """The emulator's bearer check is live: the suite's tokens pass it because they are right, not by default."""
    from azure.core.credentials import AccessToken
    from azure.core.exceptions import HttpResponseError

    class WrongAudience:
        def get_token(self, *scopes: str, **kwargs: object) -> AccessToken:
            import time

            import jwt as pyjwt

            now = int(time.time())
            claims = {
                "aud": "https://vault.azure.net",
                "iss": f"https://sts.windows.net/{TENANT_ID}/",
                "iat": now,
                "nbf": now,
                "exp": now + 600,
            }
            return AccessToken(pyjwt.encode(claims, "k" * 32, algorithm="HS256"), now + 600)

    with pytest.raises(HttpResponseError) as refused:
        list(azurite.table_client(table, credential=WrongAudience()).list_entities())
    assert refused.value.status_code in (401, 403)


def test_a_widget_requiring_step_up_requires_it_for_its_history_too(
    fake_entra: FakeEntra, azurite: Azurite, table: str
) -> None:
    settings = persistent_settings(fake_entra.authority, azurite, table, CONNECT_REQUIRED_AUTH_CONTEXT="c1")
    stepped_up = f"Bearer {access_token(fake_entra.key, entra_v2_claims(acrs=['c1']))}"
    with function_using(service_on(settings, azurite)):
        refused = put_last(bearer(fake_entra), contact_body())
        assert (refused.status_code, code(refused)) == (401, "insufficient_claims")
        assert code(delete_last(bearer(fake_entra))) == "insufficient_claims"
        assert put_last(stepped_up, contact_body()).status_code == 204
    assert [entity["ContactId"] for entity in azurite.table_client(table).list_entities()] == [CONTACT_ID]
