"""`python -m connect_sso_admin chat-history forget`: a person's entries for every widget are erased, nobody else's,
against Azurite with the real SDK and a token credential (the operator's Azure CLI sign-in cannot exist here)."""

from __future__ import annotations

import datetime

import pytest

from connect_sso_admin.chat_history import main
from connect_sso_admin.cli import main as admin_main
from tests.support.chat_history import fresh_table
from tools.azurite import Azurite, AzuriteCredential

TENANT = "72f988bf-0000-4000-8000-00000000aaaa"
OTHER_TENANT = "72f988bf-0000-4000-8000-00000000bbbb"
ALICE = "0b1c2d3e-0000-4000-8000-0000000000d1"
BOB = "0b1c2d3e-0000-4000-8000-0000000000d2"
WIDGETS = ("5c1f0e2d-0000-4000-8000-0000000000c1", "5c1f0e2d-0000-4000-8000-0000000000c2")


def seed(azurite: Azurite, table: str) -> None:
    client = azurite.table_client(table)
    now = datetime.datetime.now(datetime.UTC)
    for tenant, user in ((TENANT, ALICE), (TENANT, BOB), (OTHER_TENANT, ALICE)):
        for widget in WIDGETS:
            client.upsert_entity(
                {"PartitionKey": f"{tenant}:{user}", "RowKey": widget, "ContactId": ALICE, "StoredAt": now}
            )


def remaining(azurite: Azurite, table: str) -> set[str]:
    return {entity["PartitionKey"] for entity in azurite.table_client(table).list_entities()}


def test_forget_erases_every_widget_of_that_person_only(azurite: Azurite, capsys: pytest.CaptureFixture[str]) -> None:
    table = fresh_table(azurite)
    seed(azurite, table)
    argv = ["forget", "--tenant", TENANT.upper(), "--user", ALICE, "--endpoint", azurite.endpoint, "--table", table]
    transport = {"connection_verify": str(azurite.ca_file)}
    assert main(argv, environ={}, credential=AzuriteCredential(), transport=transport) == 0
    assert "forgot 2 chat history entries" in capsys.readouterr().out
    assert remaining(azurite, table) == {f"{TENANT}:{BOB}", f"{OTHER_TENANT}:{ALICE}"}
    assert main(argv, environ={}, credential=AzuriteCredential(), transport=transport) == 0
    assert "forgot 0 chat history entries" in capsys.readouterr().out


def test_the_environment_names_the_table_and_a_local_connection_string_works(
    azurite: Azurite, capsys: pytest.CaptureFixture[str]
) -> None:
    table = fresh_table(azurite)
    seed(azurite, table)
    environ = {"CHAT_HISTORY_CONNECTION_STRING": azurite.connection_string, "CHAT_HISTORY_TABLE": table}
    transport = {"connection_verify": str(azurite.ca_file)}
    assert main(["forget", "--tenant", TENANT, "--user", BOB], environ=environ, transport=transport) == 0
    assert remaining(azurite, table) == {f"{TENANT}:{ALICE}", f"{OTHER_TENANT}:{ALICE}"}
    assert azurite.connection_string.split("AccountKey=")[1][:10] not in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["forget", "--tenant", "contoso", "--user", ALICE], "--tenant must be a GUID"),
        (["forget", "--tenant", TENANT, "--user", "alice@contoso.example"], "--user must be a GUID"),
        (["forget", "--tenant", TENANT, "--user", ALICE], "--endpoint (or CHAT_HISTORY_ENDPOINT) is needed"),
        (["forget", "--tenant", TENANT, "--user", ALICE, "--endpoint", "http://x.example"], "https URL"),
    ],
)
def test_bad_arguments_say_what_is_wrong(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv, environ={}) == 2
    assert message in capsys.readouterr().err


def test_a_store_that_refuses_says_what_to_check(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["forget", "--tenant", TENANT, "--user", ALICE, "--endpoint", "https://127.0.0.1:9/devstoreaccount1"]
    assert main(argv, environ={}, credential=AzuriteCredential()) == 1
    assert "Storage Table Data Contributor" in capsys.readouterr().err


def test_the_admin_entry_point_knows_the_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert admin_main(["--help"]) == 0
    assert "chat-history forget" in capsys.readouterr().out


def test_purge_deletes_only_entries_older_than_the_retention(
    azurite: Azurite, capsys: pytest.CaptureFixture[str]
) -> None:
    table = fresh_table(azurite)
    client = azurite.table_client(table)
    now = datetime.datetime.now(datetime.UTC)
    for user, age_days in ((ALICE, 31), (BOB, 29)):
        stored_at = now - datetime.timedelta(days=age_days)
        client.upsert_entity({"PartitionKey": f"{TENANT}:{user}", "RowKey": WIDGETS[0], "ContactId": user,
                              "StoredAt": stored_at})  # fmt: skip
    argv = ["purge", "--endpoint", azurite.endpoint, "--table", table]
    transport = {"connection_verify": str(azurite.ca_file)}
    assert main(argv, environ={}, credential=AzuriteCredential(), transport=transport) == 0
    assert "deleted 1 entries older than 30 days" in capsys.readouterr().out
    assert remaining(azurite, table) == {f"{TENANT}:{BOB}"}
