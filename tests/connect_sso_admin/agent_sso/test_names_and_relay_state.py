"""AWS names, Role claim values, relay states and sign-in endpoints."""

import pytest

from connect_sso_admin.agent_sso.aws_names import ConnectInstance, InvalidName, provider_arn, role_arn, role_claim_value
from connect_sso_admin.agent_sso.relay_state import relay_states, reply_urls

INSTANCE = "00000000-0000-0000-0000-000000000000"


def test_relay_states_commercial_region():
    urls = relay_states("eu-west-2", INSTANCE)
    base = f"https://eu-west-2.console.aws.amazon.com/connect/federate/{INSTANCE}"
    # AWS's "Update your Amazon Connect domain" guide: new_domain=true on every relay state.
    assert urls == {
        "admin": base + "?new_domain=true",
        "agent-ccp": base + "?destination=%2Fccp-v2%2Fchat&new_domain=true",
        "agent-workspace": base + "?destination=%2Fagent-app-v2&new_domain=true",
    }


def test_relay_states_govcloud():
    assert relay_states("us-gov-west-1", INSTANCE)["admin"] == (
        f"https://console.amazonaws-us-gov.com/connect/federate/{INSTANCE}?new_domain=true"
    )


@pytest.mark.parametrize(
    ("region", "instance"),
    [("eu-west", INSTANCE), ("eu-west-2", "not-an-id"), ("eu-west-2", "ABCDEF00-0000-0000-0000-000000000000")],
)
def test_relay_state_refuses_bad_input(region, instance):
    with pytest.raises(InvalidName):
        relay_states(region, instance)


def test_instance_from_arn():
    arn = f"arn:aws:connect:ap-southeast-2:111122223333:instance/{INSTANCE}"
    assert ConnectInstance.from_arn(arn) == ConnectInstance("ap-southeast-2", INSTANCE, "111122223333")
    with pytest.raises(InvalidName):
        ConnectInstance.from_arn("arn:aws:iam::111122223333:role/x")


def test_reply_urls_default_to_the_instance_regions_endpoint():
    assert reply_urls("eu-west-2") == ["https://eu-west-2.signin.aws.amazon.com/saml"]
    assert reply_urls("eu-west-2", ["us-east-1", "eu-west-2"], include_global=True) == [
        "https://eu-west-2.signin.aws.amazon.com/saml",
        "https://us-east-1.signin.aws.amazon.com/saml",
        "https://signin.aws.amazon.com/saml",
    ]
    assert reply_urls("us-gov-west-1") == ["https://us-gov-west-1.signin.amazonaws-us-gov.com/saml"]
    with pytest.raises(InvalidName, match="same AWS partition"):
        reply_urls("us-gov-west-1", ["eu-west-2"])


def test_role_claim_value_is_role_then_provider():
    value = role_claim_value(role_arn("111122223333", "AmazonConnectSSO"), provider_arn("111122223333", "EntraAgents"))
    assert (
        value == "arn:aws:iam::111122223333:role/AmazonConnectSSO,arn:aws:iam::111122223333:saml-provider/EntraAgents"
    )


def test_role_claim_value_refuses_mixed_accounts_and_overlong_values():
    with pytest.raises(InvalidName, match="same AWS partition and account"):
        role_claim_value(role_arn("111122223333", "R"), provider_arn("444455556666", "P"))
    with pytest.raises(InvalidName, match="at most 120"):
        role_claim_value(role_arn("111122223333", "R" * 64), provider_arn("111122223333", "P" * 40))
