"""Command line of ``python -m connect_sso_admin doctor``: builds the target, runs every check, prints the table."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
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
from connect_sso_admin.doctor.target import Target

DESCRIPTION = """\
Checks a connect-sso deployment end to end: the page (config.json, headers), the function (health, challenges,
CORS), the identity provider, a contact token (with --token), agent SSO (with its inputs). One line per check:
PASS, WARN, FAIL or SKIP (input not given). Exit status 1 on any FAIL. Never prints a token or a secret.
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
    p.add_argument("--local", action="store_true", help="the scripts/run stack on its default ports, token included")
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
    p.add_argument("--ca-bundle", type=Path, help="CA certificates to trust (a self-signed development provider)")
    p.add_argument("--saml-metadata", action="append", default=[], metavar="FILE_OR_URL", help="repeatable")
    p.add_argument("--saml-metadata-warn-days", type=int, default=30, help="default %(default)s")
    p.add_argument("--instance-arn", help="the Amazon Connect instance (relay state)")
    p.add_argument("--user", action="append", default=[], help="an agent's user name (repeatable)")
    p.add_argument("--users-file", type=Path, help="agents' user names, one per line")
    p.add_argument("--warnings-fail", action="store_true", help="exit 1 on a WARN too")
    return p


def local_target() -> Target:
    """The `scripts/run` stack (tools/dev_stack.py defaults): development values, so the key may be shown to it."""
    from shared.routes import CONTACT_TOKEN_PATH
    from tools.dev_certificate import ensure_localhost_certificate
    from tools.dev_defaults import DEV_API_SCOPE, DEV_FUNCTION_PORT, DEV_SPA_CLIENT_ID, DEV_USERS, DEV_WIDGET_SECRET
    from tools.dev_page import DEV_PAGE_PORT
    from tools.paths import DEV_FOLDER

    target = Target(
        page_url=f"http://localhost:{DEV_PAGE_PORT}/",
        function_url=f"http://127.0.0.1:{DEV_FUNCTION_PORT}{CONTACT_TOKEN_PATH}",
        widget_secret=DEV_WIDGET_SECRET,
        ca_bundle=ensure_localhost_certificate(DEV_FOLDER).cert_file,
    )
    target.token_source = lambda authority: development_token(  # type: ignore[attr-defined]
        target, authority, next(iter(DEV_USERS)), DEV_API_SCOPE, DEV_SPA_CLIENT_ID
    )
    return target


def development_token(target: Target, authority: str, user: str, scope: str, client_id: str) -> str | None:
    """A token from the local development provider (its password grant, a shortcut it offers for tools)."""
    data = {"grant_type": "password", "username": user, "password": "development", "scope": scope}
    try:
        response = target.request("POST", f"{authority.rstrip('/')}/token", data={**data, "client_id": client_id})
    except requests.RequestException:
        return None
    return response.json().get("access_token") if response.status_code == 200 else None


def target_from(args: argparse.Namespace) -> Target:
    target = local_target() if args.local else Target()
    for name in ("page_url", "function_url", "authority", "widget_id", "ca_bundle", "instance_arn"):
        if getattr(args, name) is not None:
            setattr(target, name, getattr(args, name))
    target.token = args.token or (os.environ.get(args.token_env) if args.token_env else None)
    if args.widget_secret_env:
        target.widget_secret = os.environ.get(args.widget_secret_env) or None
    elif args.widget_secret:
        target.widget_secret = args.widget_secret
    if args.device_code and target.token is None:
        target.token_source = device_code_source(  # type: ignore[attr-defined]
            args.client_id, args.scope, lambda: target.page_config, sys.stderr
        )
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
    token_source: Callable[[str], str | None] | None = getattr(target, "token_source", None)
    if target.token is None and token_source is not None and target.page_config is not None:
        target.token = token_source(target.page_config["msal"]["authority"])
    for check in (check_function, check_identity, check_contact_token, check_agent_sso):
        results += check(target)
    return results


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    command_line = parser()
    args = command_line.parse_args(argv)
    for problem in unset_variables(args):
        command_line.error(problem)  # exit status 2: a named input that is missing is not a check to SKIP
    results = run_checks(target_from(args))
    print_table(results, out)
    failing = {Status.FAIL, Status.WARN} if args.warnings_fail else {Status.FAIL}
    return 1 if any(result.status in failing for result in results) else 0
