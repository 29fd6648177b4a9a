"""Persistent chat's memory: per signed-in person and widget, the last chat's contact id and when it was stored.

Azure Table Storage through `azure-data-tables`. One entity per (tenant, user, widget):
PartitionKey `<tid>:<oid>` (one partition per person: a large tenant is spread over as many partitions as it has
people, and a person's erasure is one partition), RowKey the widget id, and two properties: `ContactId` and
`StoredAt`. Nothing else about the person: no name, no email, no token. An entry older than the retention period
is ignored and deleted when it is met.

The store is reached with the managed identity (CHAT_HISTORY_ENDPOINT, role Storage Table Data Contributor on the
table) or, for local development against Azurite, a connection string (CHAT_HISTORY_CONNECTION_STRING). Every call
is bounded by short timeouts: a chat start waits at most a few seconds for history, and never fails because of it.
"""

from __future__ import annotations

import datetime
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from shared.chat_history_settings import ChatHistoryOptions
from shared.guids import is_guid
from shared.telemetry import record_chat_history

CONNECT_TIMEOUT_SECONDS = 2.0
READ_TIMEOUT_SECONDS = 2.0
RETRIES = 0  # a retry doubles the wait of a chat start for history it can live without
CONTACT_ID_PROPERTY = "ContactId"
STORED_AT_PROPERTY = "StoredAt"
_log = logging.getLogger(__name__)
# azure-core logs each request's URL at INFO, and a Table URL holds the PartitionKey (the person's tid and oid): the
# SDK's HTTP log goes to this logger, which passes on warnings only.
_sdk_http_log = logging.getLogger("connect_sso.chat_history.http")
_sdk_http_log.setLevel(logging.WARNING)


@dataclass(frozen=True)
class Person:
    """Whose history: the verified token's tenant and user object ids (GUIDs, compared lower-case)."""

    tenant_id: str
    user_id: str

    @property
    def partition_key(self) -> str:
        return f"{self.tenant_id.lower()}:{self.user_id.lower()}"


class ChatHistoryUnavailable(Exception):
    """The store could not be reached or answered something unusable. The message names no id and no secret."""


class TableOperations(Protocol):
    """The part of azure.data.tables.TableClient the store uses (a seam for the fault tests)."""

    def get_entity(self, partition_key: str, row_key: str, **kwargs: Any) -> Any: ...

    def upsert_entity(self, entity: Any, **kwargs: Any) -> Any: ...

    def delete_entity(self, partition_key: str, row_key: str, **kwargs: Any) -> None: ...

    def query_entities(self, query_filter: str, **kwargs: Any) -> Any: ...


TableClientFactory = Callable[[ChatHistoryOptions], TableOperations]


def sdk_table_client(options: ChatHistoryOptions, *, credential: Any = None, **transport: Any) -> TableOperations:
    """The real TableClient: a connection string (Azurite) or the endpoint with `credential` (default: the managed
    identity through DefaultAzureCredential). `transport`: azure-core options (tests pass `connection_verify`)."""
    from azure.data.tables import TableClient

    settings: dict[str, Any] = {
        "connection_timeout": CONNECT_TIMEOUT_SECONDS,
        "read_timeout": READ_TIMEOUT_SECONDS,
        "retry_total": RETRIES,
        "logger": _sdk_http_log,  # HttpLoggingPolicy's
        **transport,
    }
    if options.connection_string is not None:
        return TableClient.from_connection_string(options.connection_string.reveal(), options.table, **settings)
    if credential is None:
        from azure.identity import DefaultAzureCredential

        credential = DefaultAzureCredential()
    return TableClient(options.endpoint or "", options.table, credential=credential, **settings)


def _utc(value: object) -> datetime.datetime | None:
    if not isinstance(value, datetime.datetime):
        return None
    return value if value.tzinfo else value.replace(tzinfo=datetime.UTC)


class ChatHistoryStore:
    """One table: remember, recall and forget. Each call is counted (connect_sso.chat_history.operations)."""

    def __init__(self, options: ChatHistoryOptions, client: TableOperations) -> None:
        self.options = options
        self._client = client

    def remember(self, person: Person, widget_id: str, contact_id: str, now: datetime.datetime) -> None:
        entity = {
            "PartitionKey": person.partition_key,
            "RowKey": widget_id.lower(),
            CONTACT_ID_PROPERTY: contact_id.lower(),
            STORED_AT_PROPERTY: now,
        }
        with _operation("store"):
            self._client.upsert_entity(entity, mode=_replace())

    def recall(self, person: Person, widget_id: str, now: datetime.datetime) -> str | None:
        """The contact id stored for this person and widget within the retention period (None: none)."""
        from azure.core.exceptions import ResourceNotFoundError

        with _operation("lookup"):
            try:
                entity = self._client.get_entity(person.partition_key, widget_id.lower())
            except ResourceNotFoundError as error:
                if getattr(error, "error_code", None) == "TableNotFound":
                    raise  # a missing table is a deployment problem, not "no history"
                return None
            contact_id = entity.get(CONTACT_ID_PROPERTY) if hasattr(entity, "get") else None
            stored_at = _utc(entity.get(STORED_AT_PROPERTY)) if hasattr(entity, "get") else None
            # Only a contact id goes into a signed token: anything else in the table is not ours to sign.
            if not isinstance(contact_id, str) or not is_guid(contact_id) or stored_at is None:
                raise ChatHistoryUnavailable("the store answered an entity without a ContactId and a StoredAt")
        if now - stored_at > self.options.retention:
            self._delete_expired(person, widget_id)
            return None
        return contact_id

    def _delete_expired(self, person: Person, widget_id: str) -> None:
        try:
            with _operation("forget"):
                self._client.delete_entity(person.partition_key, widget_id.lower())
        except ChatHistoryUnavailable:
            pass  # logged and counted; it is ignored until the next meeting deletes it

    def forget(self, person: Person, widget_id: str) -> None:
        with _operation("forget"):
            self._client.delete_entity(person.partition_key, widget_id.lower())

    def forget_person(self, person: Person) -> int:
        """Deletes the person's entries for every widget; how many there were."""
        with _operation("forget"):
            rows = [
                entity["RowKey"]
                for entity in self._client.query_entities(
                    "PartitionKey eq @person", parameters={"person": person.partition_key}, select=["RowKey"]
                )
            ]
            for row_key in rows:
                self._client.delete_entity(person.partition_key, row_key)
        return len(rows)

    def purge_expired(self, now: datetime.datetime) -> int:
        """Deletes every entry older than the retention period (people who never came back); how many. A scan of
        the whole table: for the operator's scheduled clean-up, never on a request."""
        cutoff = now - self.options.retention
        with _operation("forget"):
            expired = [
                (entity["PartitionKey"], entity["RowKey"])
                for entity in self._client.query_entities(
                    f"{STORED_AT_PROPERTY} lt @cutoff", parameters={"cutoff": cutoff}, select=["PartitionKey", "RowKey"]
                )
            ]
            for partition_key, row_key in expired:
                self._client.delete_entity(partition_key, row_key)
        return len(expired)


def _replace() -> Any:
    from azure.data.tables import UpdateMode

    return UpdateMode.REPLACE


@contextmanager
def _operation(name: str) -> Iterator[None]:
    """Counts one store operation, and turns any failure into ChatHistoryUnavailable (logged by type only:
    an SDK message can quote the request URL, which holds the person's ids)."""
    try:
        yield
    except ChatHistoryUnavailable as error:
        record_chat_history(name, ok=False)
        _log.warning("chat history %s failed: %s", name, error)
        raise
    except Exception as error:
        record_chat_history(name, ok=False)
        code = getattr(error, "error_code", None)
        reason = type(error).__name__ + (f" ({code})" if isinstance(code, str) and code.isalnum() else "")
        _log.warning("chat history %s failed: %s", name, reason)
        raise ChatHistoryUnavailable(f"the chat history store failed: {reason}") from error
    record_chat_history(name, ok=True)


class ChatHistory:
    """The store for the settings in force: one client per distinct options (settings can change at run time)."""

    def __init__(self, client_factory: TableClientFactory = sdk_table_client) -> None:
        self._client_factory = client_factory
        self._stores: dict[ChatHistoryOptions, ChatHistoryStore] = {}
        self._lock = threading.Lock()

    def store(self, options: ChatHistoryOptions) -> ChatHistoryStore:
        with self._lock:
            store = self._stores.get(options)
            if store is None:
                try:
                    client = self._client_factory(options)
                except Exception as error:  # a malformed connection string, a credential that cannot be built
                    _log.warning("chat history client could not be made: %s", type(error).__name__)
                    raise ChatHistoryUnavailable(f"the chat history client failed: {type(error).__name__}") from error
                store = self._stores[options] = ChatHistoryStore(options, client)
            return store
