"""Amazon Connect flow step: may this chat continue the previous one? (infra/aws/persistent-chat.yaml)

The contact token's signed attributes name the customer (userId, tenantId) and, for a returning
customer, the previous contact (previousContactId). The browser supplied that id, so before the flow
associates the chats this checks that the previous contact was started by the same customer.
Any doubt answers verified=false. Logs carry the outcome only: never an id or an attribute value.
"""

import json
import logging
import re
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

IDENTITY = ("userId", "tenantId")
UUID = re.compile(r"^[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}$")
INSTANCE_ARN = re.compile(r"^arn:aws[a-z-]*:connect:[a-z0-9-]+:\d{12}:instance/([0-9a-fA-F-]{36})$")
# Its own logger at INFO (the runtime's handler sits on the root logger, whose level stays as configured).
LOG = logging.getLogger("verify_previous_contact")
LOG.setLevel(logging.INFO)
_connect: Any = None


def connect_client() -> Any:
    global _connect
    if _connect is None:
        _connect = boto3.client("connect")
    return _connect


def answer(verified: bool, reason: str) -> dict[str, str]:
    LOG.info(json.dumps({"verified": verified, "reason": reason}))
    return {"verified": "true" if verified else "false", "reason": reason}


def same_customer(current: dict[str, Any], previous: dict[str, Any]) -> bool | None:
    values = [(current.get(k), previous.get(k)) for k in IDENTITY]
    if not all(isinstance(a, str) and a and isinstance(b, str) and b for a, b in values):
        return None
    return all(a == b for a, b in values)


def handler(event: Any, _context: Any, client: Any = None) -> dict[str, str]:
    try:
        data = event["Details"]["ContactData"]
        current = data.get("Attributes") or {}
        previous_id = current.get("previousContactId")
        instance = INSTANCE_ARN.match(data.get("InstanceARN") or "")
    except (KeyError, TypeError, AttributeError):
        return answer(False, "bad_event")
    if not previous_id:
        return answer(False, "no_previous_contact")
    if not isinstance(previous_id, str) or not UUID.match(previous_id) or instance is None:
        return answer(False, "bad_request")
    if previous_id in (data.get("ContactId"), data.get("InitialContactId")):
        return answer(False, "same_contact")
    try:
        found = (client or connect_client()).get_contact_attributes(
            InstanceId=instance.group(1), InitialContactId=previous_id
        )
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code")
        if code == "ResourceNotFoundException":
            return answer(False, "previous_contact_not_found")
        return answer(False, "lookup_failed")
    except BotoCoreError:
        return answer(False, "lookup_failed")
    match = same_customer(current, found.get("Attributes") or {})
    if match is None:
        return answer(False, "identity_missing")
    return answer(match, "same_customer" if match else "different_customer")
