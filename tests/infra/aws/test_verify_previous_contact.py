"""The persistent-chat verification Lambda (infra/aws/persistent_chat/verify_previous_contact.py).

Amazon Connect and AWS cannot exist here: a real botocore Connect client answers through botocore's Stubber,
which also checks each request against the Connect API model (InstanceId, InitialContactId). Nothing leaves the
machine: the Stubber answers before any request is sent, and the client has fake credentials.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import botocore.session
import pytest
from botocore.stub import Stubber

from tools.paths import REPO_ROOT

SOURCE = REPO_ROOT / "infra" / "aws" / "persistent_chat" / "verify_previous_contact.py"
INSTANCE_ID = "4c2f7a1e-0000-4000-8000-00000000c0c0"
INSTANCE_ARN = f"arn:aws:connect:eu-west-2:111122223333:instance/{INSTANCE_ID}"
CURRENT = "aaaaaaaa-0000-4000-8000-000000000002"
PREVIOUS = "aaaaaaaa-0000-4000-8000-000000000001"
CUSTOMER = {"userId": "00000000-0000-0000-0000-0000000000d1", "tenantId": "00000000-0000-0000-0000-000000000001"}


@pytest.fixture(scope="module")
def verify() -> ModuleType:
    spec = importlib.util.spec_from_file_location("verify_previous_contact", SOURCE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def connect() -> Iterator[tuple[Any, Stubber]]:
    client = botocore.session.get_session().create_client(
        "connect",
        region_name="eu-west-2",
        aws_access_key_id="fake-test-key",
        aws_secret_access_key="fake-test-secret",  # a stand-in, never sent
    )
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def event(attributes: dict[str, str], *, instance_arn: str = INSTANCE_ARN) -> dict[str, Any]:
    """What Amazon Connect sends an InvokeLambdaFunction action (ContactData, abridged)."""
    return {
        "Name": "ContactFlowEvent",
        "Details": {
            "ContactData": {
                "Attributes": attributes,
                "Channel": "CHAT",
                "ContactId": CURRENT,
                "InitialContactId": CURRENT,
                "InstanceARN": instance_arn,
            },
            "Parameters": {},
        },
    }


def expect_lookup(stubber: Stubber, attributes: dict[str, str]) -> None:
    stubber.add_response(
        "get_contact_attributes",
        {"Attributes": attributes},
        {"InstanceId": INSTANCE_ID, "InitialContactId": PREVIOUS},
    )


def test_the_same_customer_is_verified(verify: ModuleType, connect: tuple[Any, Stubber]) -> None:
    client, stubber = connect
    expect_lookup(stubber, {**CUSTOMER, "name": "Dana Developer", "previousContactId": ""})
    answer = verify.handler(event({**CUSTOMER, "previousContactId": PREVIOUS}), None, client=client)
    assert answer == {"verified": "true", "reason": "same_customer"}


@pytest.mark.parametrize(
    "previous_attributes",
    [
        {**CUSTOMER, "userId": "00000000-0000-0000-0000-0000000000d2"},
        {**CUSTOMER, "tenantId": "00000000-0000-0000-0000-000000000002"},
        {"userId": CUSTOMER["userId"].upper(), "tenantId": CUSTOMER["tenantId"]},
    ],
    ids=["other-user", "same-user-id-other-tenant", "not-exactly-equal"],
)
def test_another_customer_s_contact_is_refused(
    verify: ModuleType, connect: tuple[Any, Stubber], previous_attributes: dict[str, str]
) -> None:
    client, stubber = connect
    expect_lookup(stubber, previous_attributes)
    answer = verify.handler(event({**CUSTOMER, "previousContactId": PREVIOUS}), None, client=client)
    assert answer == {"verified": "false", "reason": "different_customer"}


@pytest.mark.parametrize(
    ("current", "previous"),
    [
        ({"previousContactId": PREVIOUS, "tenantId": CUSTOMER["tenantId"]}, CUSTOMER),
        ({**CUSTOMER, "previousContactId": PREVIOUS}, {"tenantId": CUSTOMER["tenantId"]}),
        ({**CUSTOMER, "previousContactId": PREVIOUS}, {}),
        ({"userId": "", "tenantId": "", "previousContactId": PREVIOUS}, {"userId": "", "tenantId": ""}),
    ],
    ids=["current-without-userId", "previous-without-userId", "previous-without-attributes", "both-empty"],
)
def test_missing_identity_attributes_are_refused(
    verify: ModuleType, connect: tuple[Any, Stubber], current: dict[str, str], previous: dict[str, str]
) -> None:
    client, stubber = connect
    expect_lookup(stubber, previous)
    assert verify.handler(event(current), None, client=client) == {"verified": "false", "reason": "identity_missing"}


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("ResourceNotFoundException", "previous_contact_not_found"),
        ("AccessDeniedException", "lookup_failed"),
        ("ThrottlingException", "lookup_failed"),
        ("InternalServiceException", "lookup_failed"),
        ("InvalidRequestException", "lookup_failed"),
    ],
)
def test_a_failed_lookup_fails_closed(verify: ModuleType, connect: tuple[Any, Stubber], code: str, reason: str) -> None:
    client, stubber = connect
    stubber.add_client_error("get_contact_attributes", service_error_code=code, http_status_code=400)
    answer = verify.handler(event({**CUSTOMER, "previousContactId": PREVIOUS}), None, client=client)
    assert answer == {"verified": "false", "reason": reason}


@pytest.mark.parametrize(
    ("attributes", "instance_arn", "reason"),
    [
        (CUSTOMER, INSTANCE_ARN, "no_previous_contact"),
        ({**CUSTOMER, "previousContactId": ""}, INSTANCE_ARN, "no_previous_contact"),
        ({**CUSTOMER, "previousContactId": "not-a-contact-id"}, INSTANCE_ARN, "bad_request"),
        ({**CUSTOMER, "previousContactId": PREVIOUS}, "arn:aws:s3:::bucket", "bad_request"),
        ({**CUSTOMER, "previousContactId": CURRENT}, INSTANCE_ARN, "same_contact"),
    ],
    ids=["absent", "empty", "not-a-uuid", "not-a-connect-instance", "the-current-contact"],
)
def test_without_a_usable_previous_contact_nothing_is_looked_up(
    verify: ModuleType,
    connect: tuple[Any, Stubber],
    attributes: dict[str, str],
    instance_arn: str,
    reason: str,
) -> None:
    client, _ = connect  # no response queued: a lookup would fail the Stubber
    answer = verify.handler(event(attributes, instance_arn=instance_arn), None, client=client)
    assert answer == {"verified": "false", "reason": reason}


@pytest.mark.parametrize("broken", [{}, {"Details": {}}, {"Details": {"ContactData": None}}, None])
def test_a_malformed_event_fails_closed(verify: ModuleType, connect: tuple[Any, Stubber], broken: Any) -> None:
    client, _ = connect
    assert verify.handler(broken, None, client=client) == {"verified": "false", "reason": "bad_event"}


def test_the_log_says_the_outcome_and_never_an_id_or_attribute_value(
    verify: ModuleType, connect: tuple[Any, Stubber], caplog: pytest.LogCaptureFixture
) -> None:
    client, stubber = connect
    expect_lookup(stubber, {**CUSTOMER, "userId": "someone-else"})
    with caplog.at_level(logging.INFO):
        verify.handler(event({**CUSTOMER, "previousContactId": PREVIOUS}), None, client=client)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "different_customer" in logged
    for value in (PREVIOUS, CURRENT, INSTANCE_ID, "someone-else", *CUSTOMER.values()):
        assert value not in logged
