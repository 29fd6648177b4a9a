"""`python -m connect_sso_admin chat-history forget --tenant <tid> --user <oid>`: erases a person's persistent chat
history, their entries for every widget (docs/persistent-chat.md, "What is stored").

Like the other operator commands it uses the operator's own Azure sign-in, never a key: the Azure CLI's (`az login`),
with Storage Table Data Contributor on the table. The table comes from `--endpoint`/`--table`, else the
CHAT_HISTORY_ENDPOINT/CHAT_HISTORY_TABLE of the environment. CHAT_HISTORY_CONNECTION_STRING in the environment
(local development against Azurite) is used instead when no endpoint is given.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from shared.chat_history import (
    DEFAULT_TABLE,
    ChatHistoryOptions,
    ChatHistoryStore,
    ChatHistoryUnavailable,
    Person,
    chat_history_problems,
    sdk_table_client,
)
from shared.settings import is_guid
from shared.widget import Secret


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m connect_sso_admin chat-history", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    forget = commands.add_parser("forget", help="delete a person's entries for every widget")
    forget.add_argument("--tenant", required=True, help="the person's tenant id (the tid claim, a GUID)")
    forget.add_argument("--user", required=True, help="the person's user object id (the oid claim, a GUID)")
    forget.add_argument("--endpoint", help="the Table endpoint (default: CHAT_HISTORY_ENDPOINT)")
    forget.add_argument("--table", help=f"the table (default: CHAT_HISTORY_TABLE, else {DEFAULT_TABLE})")
    return parser


def options_from(args: argparse.Namespace, environ: Mapping[str, str]) -> ChatHistoryOptions | str:
    """The store to erase from, or what is wrong (the checks the function applies to the same settings)."""
    values = {
        "CHAT_HISTORY_ENDPOINT": args.endpoint or environ.get("CHAT_HISTORY_ENDPOINT"),
        "CHAT_HISTORY_CONNECTION_STRING": None if args.endpoint else environ.get("CHAT_HISTORY_CONNECTION_STRING"),
        "CHAT_HISTORY_TABLE": args.table or environ.get("CHAT_HISTORY_TABLE"),
    }
    present = {name: value for name, value in values.items() if value}
    problems = chat_history_problems(present, persistent_chat=True)
    if problems:
        return "; ".join(f"{name} {message}" for name, message in problems).replace(
            "CHAT_HISTORY_ENDPOINT is required when persistent chat is on",
            "--endpoint (or CHAT_HISTORY_ENDPOINT) is needed",
        )
    connection_string = present.get("CHAT_HISTORY_CONNECTION_STRING")
    return ChatHistoryOptions(
        endpoint=present.get("CHAT_HISTORY_ENDPOINT"),
        connection_string=Secret(connection_string) if connection_string else None,
        table=present.get("CHAT_HISTORY_TABLE", DEFAULT_TABLE),
    )


def main(
    argv: Sequence[str] | None = None,
    *,
    environ: Mapping[str, str] = os.environ,
    credential: Any = None,
    transport: Mapping[str, Any] | None = None,
) -> int:
    """`credential`, `transport`: seams for tests (an explicit credential and CA file: no sign-in probe)."""
    args = _parser().parse_args(argv)
    tenant, user = args.tenant.lower(), args.user.lower()
    bad = [name for name, value in (("--tenant", tenant), ("--user", user)) if not is_guid(value)]
    if bad:
        sys.stderr.write(f"chat-history: {' and '.join(bad)} must be a GUID (the tid and oid claims)\n")
        return 2
    options = options_from(args, environ)
    if isinstance(options, str):
        sys.stderr.write(f"chat-history: {options}\n")
        return 2
    if options.connection_string is None and credential is None:
        from azure.identity import AzureCliCredential

        credential = AzureCliCredential()
    client = sdk_table_client(options, credential=credential, **dict(transport or {}))
    try:
        forgotten = ChatHistoryStore(options, client).forget_person(Person(tenant_id=tenant, user_id=user))
    except ChatHistoryUnavailable as error:
        sys.stderr.write(
            f"chat-history: {error}. Check that you are signed in (az login) and hold Storage Table Data "
            f"Contributor on table {options.table}; nothing was erased, or only part: run it again.\n"
        )
        return 1
    sys.stdout.write(f"forgot {forgotten} chat history entr{'y' if forgotten == 1 else 'ies'} (every widget) "
                     f"of user {user} in tenant {tenant}\n")  # fmt: skip
    return 0
