"""`python -m connect_sso_admin chat-history forget --tenant <tid> --user <oid>`: erases a person's persistent chat
history, their entries for every widget (docs/persistent-chat.md, "What is stored").
`python -m connect_sso_admin chat-history purge`: deletes every entry older than the retention period (the entries of
people who never came back; a returning person's expired entry is deleted when met). Run it on a schedule.

Like the other operator commands it uses the operator's own Azure sign-in, never a key: the Azure CLI's (`az login`),
with Storage Table Data Contributor on the table. The table comes from `--endpoint`/`--table`, else the
CHAT_HISTORY_ENDPOINT/CHAT_HISTORY_TABLE of the environment. CHAT_HISTORY_CONNECTION_STRING in the environment
(local development against Azurite) is used instead when no endpoint is given.
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from shared.catalogue import default_of
from shared.chat_history import ChatHistoryStore, ChatHistoryUnavailable, Person, sdk_table_client
from shared.chat_history_settings import (
    DEFAULT_RETENTION_DAYS,
    DEFAULT_TABLE,
    ChatHistoryOptions,
    read_chat_history_options,
)
from shared.guids import is_guid
from shared.setting_reader import SettingReader


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m connect_sso_admin chat-history", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    forget = commands.add_parser("forget", help="delete a person's entries for every widget")
    forget.add_argument("--tenant", required=True, help="the person's tenant id (the tid claim, a GUID)")
    forget.add_argument("--user", required=True, help="the person's user object id (the oid claim, a GUID)")
    purge = commands.add_parser("purge", help="delete every entry older than the retention period")
    purge.add_argument(
        "--retention-days", type=int, help=f"default: CHAT_HISTORY_RETENTION_DAYS, else {DEFAULT_RETENTION_DAYS}"
    )
    for command in (forget, purge):
        command.add_argument("--endpoint", help="the Table endpoint (default: CHAT_HISTORY_ENDPOINT)")
        command.add_argument("--table", help=f"the table (default: CHAT_HISTORY_TABLE, else {DEFAULT_TABLE})")
    return parser


def options_from(args: argparse.Namespace, environ: Mapping[str, str]) -> ChatHistoryOptions | str:
    """The store to erase from, or what is wrong: the function's own reading of the same settings."""
    values = {
        "CHAT_HISTORY_ENDPOINT": args.endpoint or environ.get("CHAT_HISTORY_ENDPOINT"),
        "CHAT_HISTORY_CONNECTION_STRING": None if args.endpoint else environ.get("CHAT_HISTORY_CONNECTION_STRING"),
        "CHAT_HISTORY_TABLE": args.table or environ.get("CHAT_HISTORY_TABLE"),
        "CHAT_HISTORY_RETENTION_DAYS": str(getattr(args, "retention_days", None) or "")
        or environ.get("CHAT_HISTORY_RETENTION_DAYS"),
    }
    reader = SettingReader({name: value for name, value in values.items() if value}, default_of)
    options = read_chat_history_options(reader, persistent_chat=False)
    if reader.problems:
        return "; ".join(map(str, reader.problems))
    if options is None:
        return "--endpoint (or CHAT_HISTORY_ENDPOINT) is needed: the storage account's Table endpoint"
    return options


def main(
    argv: Sequence[str] | None = None,
    *,
    environ: Mapping[str, str] = os.environ,
    credential: Any = None,
    transport: Mapping[str, Any] | None = None,
) -> int:
    """`credential`, `transport`: seams for tests (an explicit credential and CA file: no sign-in probe)."""
    args = _parser().parse_args(argv)
    person = None
    if args.command == "forget":
        tenant, user = args.tenant.lower(), args.user.lower()
        bad = [name for name, value in (("--tenant", tenant), ("--user", user)) if not is_guid(value)]
        if bad:
            sys.stderr.write(f"chat-history: {' and '.join(bad)} must be a GUID (the tid and oid claims)\n")
            return 2
        person = Person(tenant_id=tenant, user_id=user)
    options = options_from(args, environ)
    if isinstance(options, str):
        sys.stderr.write(f"chat-history: {options}\n")
        return 2
    if options.connection_string is None and credential is None:
        from azure.identity import AzureCliCredential

        credential = AzureCliCredential()
    client = sdk_table_client(options, credential=credential, **dict(transport or {}))
    store = ChatHistoryStore(options, client)
    try:
        if person is None:
            purged = store.purge_expired(datetime.datetime.now(datetime.UTC))
            sys.stdout.write(f"deleted {purged} entries older than {options.retention_days} days\n")
            return 0
        forgotten = store.forget_person(person)
    except ChatHistoryUnavailable as error:
        sys.stderr.write(
            f"chat-history: {error}. Check that you are signed in (az login) and hold Storage Table Data "
            f"Contributor on table {options.table}; nothing was erased, or only part: run it again.\n"
        )
        return 1
    sys.stdout.write(f"forgot {forgotten} chat history entr{'y' if forgotten == 1 else 'ies'} (every widget) "
                     f"of user {person.user_id} in tenant {person.tenant_id}\n")  # fmt: skip
    return 0
