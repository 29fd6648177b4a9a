"""infra/aws/persistent-chat.yaml: linters, least privilege, the embedded Lambda, and the flow's shape and routes.

AWS cannot exist here: the template is checked by cfn-lint and checkov (offline, from .venv-iac) and read as data;
the flow is walked as a graph and run by a small interpreter of its own actions, with the Lambda's answer given.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import yaml

from tests.infra.aws.test_agent_sso_template import run_cfn_lint, run_checkov
from tools.paths import REPO_ROOT

TEMPLATE = REPO_ROOT / "infra" / "aws" / "persistent-chat.yaml"
LAMBDA_SOURCE = REPO_ROOT / "infra" / "aws" / "persistent_chat" / "verify_previous_contact.py"
TERMINAL_TYPES = {"DisconnectParticipant"}
# What each action type must handle besides NextAction (AWS flow language: every error a block can take).
REQUIRED_ERRORS = {
    "MessageParticipant": {"NoMatchingError"},
    "Compare": {"NoMatchingCondition"},
    "InvokeLambdaFunction": {"NoMatchingError"},
    "CreatePersistentContactAssociation": {"NoMatchingError"},
    "UpdateContactTargetQueue": {"NoMatchingError"},
    "TransferContactToQueue": {"QueueAtCapacity", "NoMatchingError"},
}


class CloudFormationLoader(yaml.SafeLoader):
    """Reads CloudFormation's short tags (!Sub, !Ref, !GetAtt...) as {"Fn::X": value}."""


def _tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        return {name: loader.construct_scalar(node)}
    if isinstance(node, yaml.SequenceNode):
        return {name: loader.construct_sequence(node, deep=True)}
    return {name: loader.construct_mapping(node, deep=True)}  # type: ignore[arg-type]


CloudFormationLoader.add_multi_constructor("!", _tag)


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return yaml.load(TEMPLATE.read_text(), Loader=CloudFormationLoader)  # noqa: S506 - SafeLoader subclass


def resources_of(template: dict[str, Any], kind: str) -> dict[str, Any]:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == kind}


def flow_of(template: dict[str, Any]) -> dict[str, Any]:
    (flow,) = resources_of(template, "AWS::Connect::ContactFlow").values()
    content = flow["Properties"]["Content"]["Fn::Sub"]
    # The template's substitutions, with sample values, as CloudFormation would fill them in.
    filled = content.replace(
        "${VerifyPreviousContactFunction.Arn}", "arn:aws:lambda:eu-west-2:111122223333:function:verify"
    ).replace("${QueueArn}", "arn:aws:connect:eu-west-2:111122223333:instance/i/queue/q")
    assert "${" not in filled, "the flow has a substitution this test does not know"
    return json.loads(filled)


def targets(action: dict[str, Any]) -> list[str]:
    transitions = action.get("Transitions", {})
    found = [transitions["NextAction"]] if "NextAction" in transitions else []
    found += [c["NextAction"] for c in transitions.get("Conditions", [])]
    found += [e["NextAction"] for e in transitions.get("Errors", [])]
    return found


# --- linters -----------------------------------------------------------------------------------------------------


@pytest.mark.iac
def test_cfn_lint_passes() -> None:
    result = run_cfn_lint([TEMPLATE])
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


@pytest.mark.iac
def test_checkov_passes_with_only_the_reviewed_skips_in_the_template() -> None:
    failed, passed, result = run_checkov([TEMPLATE])
    assert failed == [], result.stdout[-3000:]
    assert passed > 0, "checkov checked nothing"


def test_every_checkov_skip_in_the_template_says_why(template: dict[str, Any]) -> None:
    skips = [
        skip
        for resource in template["Resources"].values()
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
    ]
    assert {s["id"] for s in skips} == {"CKV_AWS_116", "CKV_AWS_117", "CKV_AWS_158"}
    assert all(len(s.get("comment", "")) > 40 for s in skips)


# --- the Lambda: same code as the tested file, least privilege ---------------------------------------------------


def test_the_inline_lambda_code_is_the_tested_file(template: dict[str, Any]) -> None:
    (function,) = resources_of(template, "AWS::Lambda::Function").values()
    inline = function["Properties"]["Code"]["ZipFile"]
    assert inline == LAMBDA_SOURCE.read_text(), (
        "the template's ZipFile differs from infra/aws/persistent_chat/verify_previous_contact.py: copy the file in"
    )
    assert len(inline) <= 4096, "CloudFormation's inline ZipFile takes at most 4096 characters"
    assert function["Properties"]["Handler"] == "index.handler"


def test_the_lambda_may_read_contact_attributes_of_this_instance_and_write_its_own_log_only(
    template: dict[str, Any],
) -> None:
    (role,) = resources_of(template, "AWS::IAM::Role").values()
    (policy,) = role["Properties"]["Policies"]
    statements = policy["PolicyDocument"]["Statement"]
    assert "ManagedPolicyArns" not in role["Properties"]
    by_sid = {s["Sid"]: s for s in statements}
    read = by_sid["ReadPreviousContactAttributes"]
    assert read["Action"] == "connect:GetContactAttributes"
    instance = "arn:${AWS::Partition}:connect:${AWS::Region}:${AWS::AccountId}:instance/${ConnectInstanceId}"
    assert read["Resource"] == {"Fn::Sub": f"{instance}/contact/*"}
    assert sorted(by_sid["WriteOwnLogs"]["Action"]) == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert by_sid["WriteOwnLogs"]["Resource"] == {"Fn::Sub": "${VerifyPreviousContactLogGroup.Arn}:*"}
    assert all(s["Effect"] == "Allow" and "*" not in json.dumps(s["Action"]) for s in statements)


def test_only_this_instance_may_invoke_the_lambda_and_it_is_attached_to_it(template: dict[str, Any]) -> None:
    (permission,) = resources_of(template, "AWS::Lambda::Permission").values()
    instance_arn = {
        "Fn::Sub": "arn:${AWS::Partition}:connect:${AWS::Region}:${AWS::AccountId}:instance/${ConnectInstanceId}"
    }
    assert permission["Properties"]["Principal"] == "connect.amazonaws.com"
    assert permission["Properties"]["SourceArn"] == instance_arn
    assert permission["Properties"]["SourceAccount"] == {"Ref": "AWS::AccountId"}
    (association,) = resources_of(template, "AWS::Connect::IntegrationAssociation").values()
    assert association["Properties"]["IntegrationType"] == "LAMBDA_FUNCTION"
    assert association["Properties"]["InstanceId"] == instance_arn
    assert association["Properties"]["IntegrationArn"] == {"Fn::GetAtt": "VerifyPreviousContactFunction.Arn"}


# --- the flow as a graph -----------------------------------------------------------------------------------------


def test_the_flow_is_an_inbound_contact_flow(template: dict[str, Any]) -> None:
    (flow,) = resources_of(template, "AWS::Connect::ContactFlow").values()
    assert flow["Properties"]["Type"] == "CONTACT_FLOW"
    assert flow_of(template)["Version"] == "2019-10-30"


def test_every_transition_target_exists_and_every_action_is_reachable(template: dict[str, Any]) -> None:
    flow = flow_of(template)
    actions = {a["Identifier"]: a for a in flow["Actions"]}
    assert len(actions) == len(flow["Actions"]), "two actions share an Identifier"
    assert all(not re.search(r"[%:()\\/=$,;\[\]{}]", name) and len(name) <= 50 for name in actions)
    assert flow["StartAction"] in actions
    for name, action in actions.items():
        missing = [t for t in targets(action) if t not in actions]
        assert missing == [], f"{name} goes to actions that do not exist: {missing}"
    reached, queue = set(), [flow["StartAction"]]
    while queue:
        name = queue.pop()
        if name not in reached:
            reached.add(name)
            queue.extend(targets(actions[name]))
    assert reached == set(actions), f"unreachable actions: {set(actions) - reached}"


def test_every_branch_ends_in_a_terminal_action(template: dict[str, Any]) -> None:
    """No dangling action (each non-terminal one goes somewhere and handles its errors), no cycle: every path ends."""
    actions = {a["Identifier"]: a for a in flow_of(template)["Actions"]}
    for name, action in actions.items():
        if action["Type"] in TERMINAL_TYPES:
            assert targets(action) == [], f"{name} is terminal but goes on"
            continue
        assert "NextAction" in action["Transitions"], f"{name} has no NextAction"
        handled = {e["ErrorType"] for e in action["Transitions"].get("Errors", [])}
        assert REQUIRED_ERRORS[action["Type"]] <= handled, f"{name} leaves an error branch dangling"

    def paths_end(name: str, on_path: tuple[str, ...]) -> None:
        assert name not in on_path, f"cycle: {' -> '.join((*on_path, name))}"
        for target in targets(actions[name]):
            paths_end(target, (*on_path, name))
        if not targets(actions[name]):
            assert actions[name]["Type"] in TERMINAL_TYPES

    paths_end(flow_of(template)["StartAction"], ())


# --- the flow, run -----------------------------------------------------------------------------------------------


def run_flow(
    flow: dict[str, Any], attributes: dict[str, str], lambda_answer: dict[str, str] | None
) -> list[tuple[str, dict[str, Any]]]:
    """Follows the flow for one contact. `lambda_answer` None means the Lambda failed (error branch)."""
    actions = {a["Identifier"]: a for a in flow["Actions"]}
    data: dict[str, Any] = {"Attributes": attributes, "External": {}}

    def value(path: str) -> str:
        namespace, key = path.removeprefix("$.").split(".", 1)
        return str(data[namespace].get(key, ""))

    def error(action: dict[str, Any], kind: str) -> str:
        return next(e["NextAction"] for e in action["Transitions"]["Errors"] if e["ErrorType"] == kind)

    visited, name = [], flow["StartAction"]
    for _ in range(len(actions) + 1):
        action = actions[name]
        visited.append((action["Type"], action["Parameters"]))
        kind, transitions = action["Type"], action["Transitions"]
        if kind in TERMINAL_TYPES:
            return visited
        if kind == "Compare":
            compared = value(action["Parameters"]["ComparisonValue"])
            matched = [
                c["NextAction"]
                for c in transitions["Conditions"]
                if c["Condition"]["Operator"] == "Equals" and c["Condition"]["Operands"] == [compared]
            ]
            name = matched[0] if matched else error(action, "NoMatchingCondition")
        elif kind == "InvokeLambdaFunction":
            if lambda_answer is None:
                name = error(action, "NoMatchingError")
            else:
                data["External"] = lambda_answer
                name = transitions["NextAction"]
        else:
            name = transitions["NextAction"]
    raise AssertionError("the flow did not end")


def types_of(visited: list[tuple[str, dict[str, Any]]]) -> list[str]:
    return [kind for kind, _ in visited]


SIGNED = {"name": "Dana Developer", "userId": "oid-1", "tenantId": "tid-1"}
PREVIOUS = "11111111-2222-4333-8444-555555555555"


def test_a_first_chat_is_greeted_and_queued_without_the_lambda(template: dict[str, Any]) -> None:
    visited = run_flow(flow_of(template), SIGNED, lambda_answer={"verified": "true"})
    assert types_of(visited) == [
        "MessageParticipant",
        "Compare",
        "UpdateContactTargetQueue",
        "TransferContactToQueue",
        "DisconnectParticipant",
    ]
    assert "$.Attributes.name" in visited[0][1]["Text"]


def test_a_verified_returning_customer_continues_the_entire_past_session(template: dict[str, Any]) -> None:
    visited = run_flow(flow_of(template), {**SIGNED, "previousContactId": PREVIOUS}, {"verified": "true"})
    kinds = types_of(visited)
    assert kinds.index("InvokeLambdaFunction") < kinds.index("CreatePersistentContactAssociation")
    assert kinds.index("CreatePersistentContactAssociation") < kinds.index("TransferContactToQueue")
    association = dict(visited)["CreatePersistentContactAssociation"]
    assert association == {
        "RehydrationType": "ENTIRE_PAST_SESSION",
        "SourceContactId": "$.Attributes.previousContactId",
    }
    assert dict(visited)["UpdateContactTargetQueue"]["QueueId"].endswith("/queue/q")


@pytest.mark.parametrize(
    "lambda_answer",
    [{"verified": "false", "reason": "different_customer"}, {"reason": "no answer"}, None],
    ids=["different-customer", "no-verdict", "lambda-failed"],
)
def test_an_unverified_previous_contact_is_never_associated_and_the_chat_still_reaches_the_queue(
    template: dict[str, Any], lambda_answer: dict[str, str] | None
) -> None:
    kinds = types_of(run_flow(flow_of(template), {**SIGNED, "previousContactId": PREVIOUS}, lambda_answer))
    assert "InvokeLambdaFunction" in kinds
    assert "CreatePersistentContactAssociation" not in kinds
    assert "TransferContactToQueue" in kinds
