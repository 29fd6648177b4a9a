"""Command line of ``python -m connect_sso_admin doctor``: builds the target, runs every check, prints the table."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

import requests

from connect_sso_admin.doctor.agent_sso import check_agent_sso
from connect_sso_admin.doctor.contact_token import check_contact_token
from connect_sso_admin.doctor.function import check_function
from connect_sso_admin.doctor.identity import check_identity
from connect_sso_admin.doctor.page import check_page
from connect_sso_admin.doctor.report import Result, Status, print_table
from connect_sso_admin.doctor.sign_in import device_code_source
from connect_sso_admin.doctor.step_up import check_step_up
from connect_sso_admin.doctor.target import Target

# What the running development stack writes about itself (tools/dev_stack.py, write_stack_file).
STACK_FILE = Path(__file__).resolve().parents[2] / ".dev" / "stack.json"

DESCRIPTION = """\
Checks a connect-sso deployment end to end: the page (config.json, headers), the function (health, challenges,
CORS), the identity provider, a contact token and each widget's step-up requirement (with --token), agent SSO
(with its inputs). One line per check: PASS, WARN, FAIL or SKIP (input not given). Exit status 1 on any FAIL.
Never prints a token or a secret.
Checks and what to do about a FAIL: docs/operations.md, The doctor."""

EXAMPLE = """\
example: %(prog)s --page-url https://<static web app>/ --token "$TOKEN" --widget-secret-env CONNECT_WIDGET_SECRET
         %(prog)s --local          (the scripts/run stack)"""


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m connect_sso_admin doctor",
        description=DESCRIPTION,
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--local", action="store_true", help="the running scripts/run stack (its .dev/stack.json)")
    p.add_argument("--stack-file", type=Path, default=STACK_FILE, help="with --local: the stack's file (%(default)s)")
    p.add_argument("--page-url", help="the chat page, e.g. https://<name>.azurestaticapps.net/")
    p.add_argument("--function-url", help="the contact-token URL (default: the page's api.contactTokenUrl)")
    p.add_argument("--authority", help="the Entra authority (default: the page's msal.authority)")
    p.add_argument("--token", help="an access token for the API (prefer --token-env: arguments are visible)")
    p.add_argument("--token-env", metavar="NAME", help="environment variable holding the access token")
    p.add_argument("--widget-secret-env", metavar="NAME", help="environment variable holding the widget key")
    p.add_argument("--widget-secret", help="the widget key (prefer --widget-secret-env: arguments are visible)")
    p.add_argument("--device-code", action="store_true", help="sign in with MSAL's device code flow for a token")
    p.add_argument("--client-id", help="with --device-code: the page's client id (default: its msal.clientId)")
    p.add_argument("--scope", help="with --device-code: the API scope (default: the page's msal.apiScope)")
    p.add_argument("--widget-id", help="expected contact-token sub (default: the page's widget.widgetId)")
    p.add_argument(
        "--step-up-widget",
        action="append",
        default=[],
        metavar="WIDGET_ID",
        help="another widget whose step-up requirement to report (repeatable; the page's widget always is)",
    )
    p.add_argument("--ca-bundle", type=Path, help="CA certificates to trust (a self-signed development provider)")
    p.add_argument("--saml-metadata", action="append", default=[], metavar="FILE_OR_URL", help="repeatable")
    p.add_argument("--saml-metadata-warn-days", type=int, default=30, help="default %(default)s")
    p.add_argument("--instance-arn", help="the Amazon Connect instance (relay state)")
    p.add_argument("--user", action="append", default=[], help="an agent's user name (repeatable)")
    p.add_argument("--users-file", type=Path, help="agents' user names, one per line")
    p.add_argument("--warnings-fail", action="store_true", help="exit 1 on a WARN too")
    return p


class StackFileError(Exception):
    """The development stack's file is missing or unreadable: the stack is not running."""


def local_target(stack_file: Path = STACK_FILE) -> Target:
    """The running `scripts/run` stack, as it describes itself in .dev/stack.json (tools/dev_stack.py writes it):
    development values, so the key may be shown to it. Nothing is imported from the development tools."""
    try:
        stack = json.loads(stack_file.read_text(encoding="utf-8"))
        target = Target(
            page_url=str(stack["page_url"]),
            function_url=str(stack["function_url"]),
            widget_secret=str(stack["widget_secret"]),
            ca_bundle=Path(stack["ca_bundle"]),
            step_up_widgets=[str(widget_id) for widget_id in stack.get("step_up_widgets", [])],
        )
        token_endpoint, user = str(stack["token_endpoint"]), str(stack["user"])
        scope, client_id = str(stack["scope"]), str(stack["client_id"])
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise StackFileError(
            f"{stack_file} could not be read ({type(error).__name__}): start the development stack (scripts/run)"
        ) from error
    target.token_source = lambda _authority: development_token(target, token_endpoint, user, scope, client_id)
    return target


def development_token(target: Target, token_endpoint: str, user: str, scope: str, client_id: str) -> str | None:
    """A token from the local development provider (its password grant, a shortcut it offers for tools)."""
    data = {"grant_type": "password", "username": user, "password": "development", "scope": scope}
    try:
        response = target.request("POST", token_endpoint, data={**data, "client_id": client_id})
    except requests.RequestException:
        return None
    token = response.json().get("access_token") if response.status_code == 200 else None
    return str(token) if token else None


def target_from(args: argparse.Namespace) -> Target:
    target = local_target(args.stack_file) if args.local else Target()
    for name in ("page_url", "function_url", "authority", "widget_id", "ca_bundle", "instance_arn"):
        if getattr(args, name) is not None:
            setattr(target, name, getattr(args, name))
    target.token = args.token or (os.environ.get(args.token_env) if args.token_env else None)
    if args.widget_secret_env:
        target.widget_secret = os.environ.get(args.widget_secret_env) or None
    elif args.widget_secret:
        target.widget_secret = args.widget_secret
    if args.device_code and target.token is None:
        target.token_source = device_code_source(args.client_id, args.scope, lambda: target.page_config, sys.stderr)
    target.step_up_widgets = [*target.step_up_widgets, *args.step_up_widget]
    target.saml_metadata = list(args.saml_metadata)
    target.saml_warn_days = args.saml_metadata_warn_days
    target.users = list(args.user)
    if args.users_file:
        lines = args.users_file.read_text(encoding="utf-8").splitlines()
        target.users += [line.strip() for line in lines if line.strip()]
    return target


def unset_variables(args: argparse.Namespace) -> list[str]:
    """--token-env / --widget-secret-env naming a variable that is unset or empty: a mistake, said by name."""
    named = (("--token-env", args.token_env), ("--widget-secret-env", args.widget_secret_env))
    return [f"{flag} {name}: the environment variable {name} is not set (or empty)"
            for flag, name in named if name and not os.environ.get(name)]  # fmt: skip


def run_checks(target: Target) -> list[Result]:
    results = check_page(target)  # first: it reads config.json, which later checks compare with
    if target.token is None and target.token_source is not None and target.page_config is not None:
        target.token = target.token_source(target.page_config["msal"]["authority"])
    for check in (check_function, check_identity, check_contact_token, check_step_up, check_agent_sso):
        results += check(target)
    return results


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    command_line = parser()
    args = command_line.parse_args(argv)
    for problem in unset_variables(args):
        command_line.error(problem)  # exit status 2: a named input that is missing is not a check to SKIP
    try:
        target = target_from(args)
    except StackFileError as error:
        print(f"doctor: {error}", file=sys.stderr)
        return 2
    results = run_checks(target)
    print_table(results, out)
    failing = {Status.FAIL, Status.WARN} if args.warnings_fail else {Status.FAIL}
    return 1 if any(result.status in failing for result in results) else 0
