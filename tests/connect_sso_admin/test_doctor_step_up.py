"""The doctor's step-up checks (issue 21) against the development stack: the default widget requires nothing, the
development step-up widget requires c1. Real identity provider, real function in its own process."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from connect_sso_admin.doctor.cli import main as doctor_main
from connect_sso_admin.doctor.cli import parser, target_from
from connect_sso_admin.doctor.contact_token import check_contact_token
from connect_sso_admin.doctor.report import Result, Status
from connect_sso_admin.doctor.step_up import check_step_up
from connect_sso_admin.doctor.target import Target
from shared.auth_context import claims_request
from tools.dev_defaults import DEV_STEP_UP_WIDGET_ID, DEV_WIDGET_ID
from tools.dev_identity import node_modules_ready
from tools.dev_stack import DevStack, run_stack, write_stack_file

pytestmark = pytest.mark.skipif(not node_modules_ready(), reason="run scripts/bootstrap node")
UNKNOWN_WIDGET = "00000000-0000-0000-0000-0000000000ff"


@pytest.fixture(scope="module")
def stack() -> Iterator[DevStack]:
    with run_stack() as running:
        yield running


def target(stack: DevStack, token: str | None) -> Target:
    return Target(
        function_url=stack.function_url,
        token=token,
        widget_id=DEV_WIDGET_ID,
        step_up_widgets=[DEV_STEP_UP_WIDGET_ID],
        ca_bundle=stack.certificate_file,
    )


def reasons(results: list[Result]) -> dict[str, tuple[Status, str]]:
    """By widget id: each step-up line's reason starts with `widget <id>: `."""
    assert {result.check for result in results} == {"step-up"}
    found = {}
    for result in results:
        widget, _, reason = result.reason.removeprefix("widget ").partition(": ")
        found[widget] = (result.status, reason)
    return found


def test_each_widgets_requirement_and_that_a_plain_token_does_not_satisfy_c1(stack: DevStack) -> None:
    found = reasons(check_step_up(target(stack, stack.identity.token())))
    assert found[DEV_WIDGET_ID] == (Status.PASS, "requires no authentication context")
    status, reason = found[DEV_STEP_UP_WIDGET_ID]
    assert status is Status.PASS
    assert reason.startswith("requires authentication context c1; the token does not satisfy it (its acrs: none)")


def test_a_token_with_c1_satisfies_it(stack: DevStack) -> None:
    token = stack.identity.token(claims=claims_request("c1"))
    found = reasons(check_step_up(target(stack, token)))
    assert found[DEV_STEP_UP_WIDGET_ID] == (
        Status.PASS,
        "requires authentication context c1; the token satisfies it",
    )


def test_without_a_token_the_requirement_cannot_be_seen(stack: DevStack) -> None:
    (status, reason), _ = reasons(check_step_up(target(stack, None))).values()
    assert status is Status.SKIP
    assert "--token" in reason


def test_a_widget_the_function_does_not_know_fails(stack: DevStack) -> None:
    checked = target(stack, stack.identity.token())
    checked.step_up_widgets = [UNKNOWN_WIDGET]
    assert reasons(check_step_up(checked))[UNKNOWN_WIDGET][0] is Status.FAIL


def test_the_command_line_takes_more_widgets_and_prints_no_token(stack: DevStack) -> None:
    token = stack.identity.token()
    arguments = ["--function-url", stack.function_url, "--token", token, "--widget-id", DEV_WIDGET_ID]
    arguments += ["--step-up-widget", DEV_STEP_UP_WIDGET_ID, "--ca-bundle", str(stack.certificate_file)]
    assert target_from(parser().parse_args(arguments)).step_up_widgets == [DEV_STEP_UP_WIDGET_ID]
    out = io.StringIO()
    doctor_main(arguments, out=out)
    text = out.getvalue()
    assert f"widget {DEV_STEP_UP_WIDGET_ID}: requires authentication context c1" in text
    assert token.split(".")[1] not in text and "eyJ" not in text


def test_local_reports_the_development_step_up_widget(tmp_path: Path) -> None:
    stack_file = tmp_path / "stack.json"  # what the running stack writes about itself (tools/dev_stack.py)
    write_stack_file(
        stack_file, page_url="http://localhost:1/", function_url="http://127.0.0.1:2/", ca_bundle=tmp_path, issuer="x"
    )
    target = target_from(parser().parse_args(["--local", "--stack-file", str(stack_file)]))
    assert target.step_up_widgets == [DEV_STEP_UP_WIDGET_ID]


def test_the_contact_token_checks_skip_a_challenged_widget_instead_of_failing(stack: DevStack) -> None:
    challenged = target(stack, stack.identity.token())
    challenged.function_url = f"{stack.function_url}?widgetId={DEV_STEP_UP_WIDGET_ID}"
    results = check_contact_token(challenged)
    assert {result.status for result in results} == {Status.SKIP}
    assert "requires step-up" in results[0].reason
