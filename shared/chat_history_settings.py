"""Persistent chat's store settings: where the chat history table is, its name and the retention, read once.

Standard library only, like the rest of the settings parse (the postprovision hook runs it with a bare `python3`);
the store itself is shared/chat_history.py. Names and defaults: the catalogue (shared/catalogue.py).
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

from shared.catalogue import default_of
from shared.setting_reader import SettingReader
from shared.urls import split_url
from shared.widget import Secret

DEFAULT_TABLE = default_of("CHAT_HISTORY_TABLE") or ""
DEFAULT_RETENTION_DAYS = int(default_of("CHAT_HISTORY_RETENTION_DAYS") or 0)
MAX_RETENTION_DAYS = 365
TABLE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]{2,62}$")  # Azure Table naming rules


@dataclass(frozen=True)
class ChatHistoryOptions:
    """Where the store is (exactly one of `endpoint` and `connection_string`), its table and retention."""

    endpoint: str | None
    connection_string: Secret | None
    table: str = DEFAULT_TABLE
    retention_days: int = DEFAULT_RETENTION_DAYS

    @property
    def retention(self) -> datetime.timedelta:
        return datetime.timedelta(days=self.retention_days)


def read_chat_history_options(reader: SettingReader, persistent_chat: bool) -> ChatHistoryOptions | None:
    """The one reading of the store settings (problems to `reader`, by name); None when no store is configured.
    `persistent_chat`: some widget has it on, so a store is needed. Values are never echoed: the connection string
    is a secret, and an endpoint pasted wrongly may be one."""
    endpoint = reader.get("CHAT_HISTORY_ENDPOINT")
    connection_string = reader.get("CHAT_HISTORY_CONNECTION_STRING")
    if endpoint is not None and connection_string is not None:
        reader.problem("CHAT_HISTORY_CONNECTION_STRING", "set either it or CHAT_HISTORY_ENDPOINT, not both")
    if persistent_chat and endpoint is None and connection_string is None:
        reader.problem(
            "CHAT_HISTORY_ENDPOINT",
            "is required when persistent chat is on (CONNECT_PERSISTENT_CHAT or a widget's persistentChat): "
            "the storage account's Table endpoint (or CHAT_HISTORY_CONNECTION_STRING for local development)",
        )
    if endpoint is not None:
        parts = split_url(endpoint)
        if parts is None or parts.scheme != "https" or not parts.hostname or parts.query or parts.fragment:
            reader.problem(
                "CHAT_HISTORY_ENDPOINT", "must be an https URL like https://<account>.table.core.windows.net"
            )
    if connection_string is not None and not _is_connection_string(connection_string):
        reader.problem(
            "CHAT_HISTORY_CONNECTION_STRING",
            "must be a storage connection string (AccountName=...;AccountKey=...;TableEndpoint=...)",
        )
    table = reader.value("CHAT_HISTORY_TABLE") or DEFAULT_TABLE
    if not TABLE_NAME.match(table):
        reader.problem("CHAT_HISTORY_TABLE", "must be 3 to 63 letters and digits, starting with a letter")
    retention_days = reader.integer("CHAT_HISTORY_RETENTION_DAYS", 1, MAX_RETENTION_DAYS)
    if endpoint is None and connection_string is None:
        return None
    return ChatHistoryOptions(
        endpoint=endpoint,
        connection_string=Secret(connection_string) if connection_string is not None else None,
        table=table,
        retention_days=retention_days,
    )


def _is_connection_string(value: str) -> bool:
    pairs = dict(part.partition("=")[::2] for part in value.split(";") if part.strip())
    has_key = bool(pairs.get("AccountKey") or pairs.get("SharedAccessSignature"))
    return bool(pairs.get("AccountName")) and has_key
