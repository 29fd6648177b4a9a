"""Command line: ``python -m connect_sso_admin agent-sso <command> --help``."""

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlsplit

from connect_sso_admin.agent_sso import aws_names, entra_app, metadata, relay_state, render, sign_in, usernames
from connect_sso_admin.agent_sso.graph import GRAPH_V1, GraphClient, GraphError, TokenCredential
from connect_sso_admin.agent_sso.safe_xml import XmlRejected

DESCRIPTION = """\
Agent and administrator SAML single sign-on into Amazon Connect, as code.

Typical order (docs/agent-sso.md walks through it):
  1. check-users     are the people's UPNs (or mails) valid Connect user names?
  2. entra-app       create/update the Entra ID enterprise application (--dry-run first)
  3. check-metadata  check the federation metadata downloaded from the URL entra-app printed
  4. render          write the CloudFormation template with the metadata embedded, then deploy it
  5. relay-state     the URLs to set as the relay state (Entra: Properties > Relay state)
Exit status: 0 fine, 1 problems found (or a call failed), 2 bad usage.
"""

EXAMPLES = {
    "check-metadata": "example: %(prog)s entra-agents.xml okta.xml --warn-days 45",
    "render": (
        "example: %(prog)s --provider EntraAgents=entra-agents.xml --provider EntraAdmins=entra-admins.xml \\\n"
        "           --existing-provider Okta=arn:aws:iam::111122223333:saml-provider/Okta \\\n"
        "           --instance-id 00000000-0000-0000-0000-000000000000 -o connect-sso.rendered.yaml\n"
        "then:    aws cloudformation deploy --template-file connect-sso.rendered.yaml --stack-name connect-sso \\\n"
        "           --capabilities CAPABILITY_NAMED_IAM"
    ),
    "relay-state": "example: %(prog)s --instance-arn arn:aws:connect:eu-west-2:111122223333:instance/<id>",
    "check-users": "example: %(prog)s jane.doe@contoso.com 'guest_fabrikam.com#EXT#@contoso.onmicrosoft.com'",
    "entra-app": (
        "example: %(prog)s --name 'Amazon Connect agents' --app-index 2 --account-id 111122223333 \\\n"
        "           --provider-name EntraAgents --region eu-west-2 --users-file agents.txt --tenant contoso.com \\\n"
        "           --dry-run\n"
        "Signs in with a device code (MSAL, public client; --client-id for your organisation's own) asking for the\n"
        "Graph scopes Application.ReadWrite.All, AppRoleAssignment.ReadWrite.All, Policy.Read.All,\n"
        "Policy.ReadWrite.ApplicationConfiguration, User.Read.All; a token without one of them is refused."
    ),
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m connect_sso_admin agent-sso",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        return commands.add_parser(
            name,
            help=help_text,
            description=help_text,
            epilog=EXAMPLES[name],
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    check = command(
        "check-metadata",
        "Check IdP federation metadata files: well-formed, no DOCTYPE, IdP SSO descriptor for SAML 2.0, "
        "RSA signing certificate >= 1024 bits and its expiry, IAM size limits (1,000-10,000,000 characters).",
    )
    check.add_argument("files", nargs="+", type=Path, metavar="FILE")
    check.add_argument(
        "--warn-days",
        type=int,
        default=metadata.DEFAULT_WARN_DAYS,
        help="warn when a certificate expires within this many days (default %(default)s)",
    )
    check.add_argument("--json", action="store_true", help="machine-readable output")

    rend = command(
        "render",
        "Write the stack-specific CloudFormation template: infra/aws/agent-sso.yaml with one IAM SAML provider per "
        "metadata file (checked first) and/or existing provider ARNs, and a Role claim output per provider.",
    )
    rend.add_argument(
        "--provider",
        action="append",
        default=[],
        metavar="NAME=FILE",
        help="IAM SAML provider NAME created from metadata FILE (repeat per IdP)",
    )
    rend.add_argument(
        "--existing-provider",
        action="append",
        default=[],
        metavar="NAME=ARN",
        help="an IAM SAML provider that already exists in the instance's account (e.g. one for Okta)",
    )
    _instance_arguments(rend, required=False)
    rend.add_argument("--role-name", help="federation role name (default in the template: AmazonConnectSSO)")
    rend.add_argument(
        "--signin-region",
        action="append",
        default=[],
        metavar="REGION",
        help="also accept the regional sign-in endpoint of REGION in SAML:aud",
    )
    rend.add_argument("--max-session-duration", type=int, metavar="SECONDS", help="role maximum session, 3600-43200")
    rend.add_argument(
        "--allow-session-tags",
        action="store_true",
        help="also trust sts:TagSession and sts:SetSourceIdentity (IdPs that send session tags or SourceIdentity)",
    )
    rend.add_argument("--base", type=Path, default=render.BASE_TEMPLATE, help="base template (default: %(default)s)")
    rend.add_argument("--warn-days", type=int, default=metadata.DEFAULT_WARN_DAYS, help=argparse.SUPPRESS)
    rend.add_argument("-o", "--output", type=Path, help="write here instead of standard output")

    relay = command(
        "relay-state",
        "Print the relay state URLs: admin (Connect admin website; also the Relay state of an Identity Center "
        "application), agent-ccp (Contact Control Panel), agent-workspace. GovCloud (us-gov-west-1) uses "
        "console.amazonaws-us-gov.com.",
    )
    _instance_arguments(relay, required=True)
    relay.add_argument("--audience", choices=["admin", "agent-ccp", "agent-workspace"], help="print only this URL")

    users = command(
        "check-users",
        "Check user names (the RoleSessionName each person will send: UPN or mail) against the rules of STS "
        "(2-64 characters) and Amazon Connect (letters, digits, _ - . @): '+', '=', ',' pass STS and fail in "
        "Connect; guest UPNs with #EXT# never work.",
    )
    users.add_argument("names", nargs="*", metavar="NAME")
    users.add_argument("--file", type=Path, help="one name per line (blank lines ignored)")
    users.add_argument("--json", action="store_true", help="machine-readable output")

    app = command(
        "entra-app",
        "Create or update the Entra ID enterprise application for a set of users through Microsoft Graph: SAML "
        "mode, identifier and reply URL, an app role whose value is the Role pair, a claims-mapping policy for Role "
        "and RoleSessionName, a token signing certificate, user assignments; prints the federation metadata URL. "
        "Idempotent: a second run writes nothing.",
    )
    app.add_argument("--name", required=True, help="display name of the enterprise application")
    app.add_argument(
        "--app-index",
        type=int,
        default=1,
        help="1 -> urn:amazon:webservices, N -> urn:amazon:webservices#N (one per AWS app in the tenant)",
    )
    claim = app.add_argument_group("Role claim (either --role-claim, or --account-id and --provider-name)")
    claim.add_argument("--role-claim", help="roleArn,providerArn exactly as the stack output RoleClaim<Provider>")
    claim.add_argument("--account-id", help="AWS account of the Connect instance")
    claim.add_argument("--provider-name", help="IAM SAML provider name (as in render --provider NAME=...)")
    claim.add_argument("--role-name", default="AmazonConnectSSO", help="federation role name (default %(default)s)")
    app.add_argument("--user", action="append", default=[], metavar="UPN", help="user to assign (repeat)")
    app.add_argument("--users-file", type=Path, help="users to assign, one UPN or object id per line")
    app.add_argument(
        "--claim-source",
        choices=sorted(entra_app.CLAIM_SOURCES),
        default="upn",
        help="RoleSessionName from the UPN or from mail (default %(default)s)",
    )
    app.add_argument("--session-duration", type=int, metavar="SECONDS", help="also send SessionDuration (900-43200)")
    app.add_argument(
        "--region",
        required=True,
        help="region of the Connect instance: its regional sign-in endpoint is the (default) reply URL; "
        "us-gov-* means GovCloud ARNs and endpoints",
    )
    app.add_argument(
        "--signin-region",
        action="append",
        default=[],
        metavar="REGION",
        help="add a further region's sign-in endpoint as a reply URL",
    )
    app.add_argument(
        "--global-signin",
        action="store_true",
        help="also keep the global endpoint https://signin.aws.amazon.com/saml as a reply URL (during a migration)",
    )
    app.add_argument("--template-id", help="application template id (default: look up the AWS gallery application)")
    app.add_argument("--roll-certificate", action="store_true", help="add and activate a new signing certificate")
    app.add_argument("--dry-run", action="store_true", help="read only; print the Graph writes it would make")
    app.add_argument(
        "--graph-url", default=GRAPH_V1, help="Microsoft Graph endpoint (sovereign clouds; default %(default)s)"
    )
    app.add_argument(
        "--login-url", default="https://login.microsoftonline.com", help="Entra ID sign-in host (sign-in, metadata URL)"
    )
    sign = app.add_argument_group("Sign-in (device code with explicit Graph scopes)")
    sign.add_argument("--tenant", default="organizations", help="tenant id or domain to sign in to")
    sign.add_argument(
        "--client-id",
        default=sign_in.GRAPH_COMMAND_LINE_TOOLS,
        help="public client to sign in with (default: Microsoft Graph Command Line Tools)",
    )
    sign.add_argument(
        "--default-credential",
        action="store_true",
        help="use azure-identity's DefaultAzureCredential instead (e.g. a service principal with application "
        "permissions); `az login` tokens lack the Policy scopes",
    )
    return parser


def _instance_arguments(parser: argparse.ArgumentParser, required: bool) -> None:
    group = parser.add_argument_group("Amazon Connect instance (--instance-arn, or --region and --instance-id)")
    group.add_argument("--instance-arn", help="arn:aws:connect:REGION:ACCOUNT:instance/ID")
    group.add_argument("--region", help="region of the instance, e.g. eu-west-2 or us-gov-west-1")
    group.add_argument("--instance-id", help="instance id (UUID)")
    parser.set_defaults(instance_required=required)


def _instance(args: argparse.Namespace) -> aws_names.ConnectInstance | None:
    if args.instance_arn:
        return aws_names.ConnectInstance.from_arn(args.instance_arn)
    if args.region and args.instance_id:
        return aws_names.ConnectInstance(
            aws_names.require_region(args.region), aws_names.require_instance_id(args.instance_id)
        )
    if args.instance_required:
        raise aws_names.InvalidName("give --instance-arn, or --region and --instance-id")
    return None


def _pairs(values: list[str], what: str) -> list[tuple[str, str]]:
    pairs = []
    for value in values:
        name, sep, rest = value.partition("=")
        if not sep or not name or not rest:
            raise aws_names.InvalidName(f"{what} must look like NAME={what.split('=')[-1]}, got {value!r}")
        pairs.append((name, rest))
    return pairs


def _lines(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _check_metadata(args: argparse.Namespace, now: datetime, out: TextIO) -> int:
    reports = [metadata.load_metadata(path, now, args.warn_days) for path in args.files]
    if args.json:
        json.dump([_report_json(report) for report in reports], out, indent=2)
        out.write("\n")
    else:
        for report in reports:
            out.write(f"{report.source}: {'ok' if report.ok else 'NOT USABLE'}\n")
            if report.entity_id:
                out.write(f"  entityID      {report.entity_id}\n")
            for cert in report.certificates:
                out.write(
                    f"  certificate   {cert.key_description}, expires {cert.not_after:%Y-%m-%d}, "
                    f"SHA-256 {cert.sha256_fingerprint}\n"
                )
            for url in report.sso_urls:
                out.write(f"  sign-in URL   {url}\n")
            for finding in report.findings:
                out.write(f"  {finding}\n")
    return 0 if all(report.ok for report in reports) else 1


def _report_json(report: metadata.MetadataReport) -> dict[str, Any]:
    return {
        "file": report.source,
        "ok": report.ok,
        "entityId": report.entity_id,
        "certificates": [
            {"keyType": c.key_description, "notAfter": c.not_after.isoformat(), "sha256": c.sha256_fingerprint}
            for c in report.certificates
        ],
        "singleSignOnUrls": list(report.sso_urls),
        "findings": [{"level": f.level.value, "message": f.message} for f in report.findings],
    }


def _render(args: argparse.Namespace, now: datetime, out: TextIO, err: TextIO) -> int:
    providers: list[render.Provider] = []
    for name, file in _pairs(args.provider, "--provider NAME=FILE"):
        report = metadata.load_metadata(Path(file), now, args.warn_days)
        for finding in report.findings:
            err.write(f"{file}: {finding}\n")
        providers.append(render.NewProvider(name, report))
    for name, arn in _pairs(args.existing_provider, "--existing-provider NAME=ARN"):
        providers.append(render.ExistingProvider(name, arn))
    instance = _instance(args)
    settings = render.StackSettings(
        instance_id=instance.instance_id if instance else None,
        role_name=args.role_name,
        regional_signin=tuple(args.signin_region),
        max_session_duration=args.max_session_duration,
        account_id=instance.account if instance else None,
        allow_session_tags=args.allow_session_tags,
    )
    rendered = render.render(args.base.read_text(encoding="utf-8"), providers, settings)
    for finding in rendered.findings:
        err.write(f"{finding}\n")
    if args.output:
        args.output.write_text(rendered.text, encoding="utf-8")
        err.write(f"wrote {args.output} ({len(rendered.text.encode()):,} bytes, {len(providers)} provider(s))\n")
    else:
        out.write(rendered.text)
    return 0


def _relay_state(args: argparse.Namespace, out: TextIO) -> int:
    instance = _instance(args)
    assert instance is not None  # noqa: S101 -- required for this command, _instance raised otherwise
    for audience, url in relay_state.relay_states(instance.region, instance.instance_id).items():
        if args.audience in (None, audience):
            out.write(f"{url}\n" if args.audience else f"{audience:<16} {url}\n")
    return 0


def _check_users(args: argparse.Namespace, out: TextIO) -> int:
    names = list(args.names) + (_lines(args.file) if args.file else [])
    if not names:
        raise aws_names.InvalidName("give user names as arguments or with --file")
    results = usernames.check_user_names(names)
    if args.json:
        json.dump(
            [{"name": r.name, "ok": r.ok, "problems": r.problems, "notes": r.notes} for r in results], out, indent=2
        )
        out.write("\n")
    else:
        for result in results:
            out.write(f"{'ok  ' if result.ok else 'FAIL'} {result.name}\n")
            for line in (*result.problems, *result.notes):
                out.write(f"     {line}\n")
        failed = sum(not r.ok for r in results)
        out.write(f"{len(results) - failed} of {len(results)} can sign in\n")
    return 0 if all(r.ok for r in results) else 1


def _role_claim(args: argparse.Namespace) -> str:
    if args.role_claim:
        role, _, provider = args.role_claim.partition(",")
        return aws_names.role_claim_value(role, provider)
    if not (args.account_id and args.provider_name):
        raise aws_names.InvalidName("give --role-claim, or --account-id and --provider-name")
    partition = aws_names.partition_of(args.region)
    return aws_names.role_claim_value(
        aws_names.role_arn(args.account_id, args.role_name, partition),
        aws_names.provider_arn(args.account_id, args.provider_name, partition),
    )


def _credential(args: argparse.Namespace, err: TextIO) -> TokenCredential:
    if args.default_credential:
        from azure.identity import DefaultAzureCredential  # imported late: only this option needs it

        return sign_in.ScopeCheckedCredential(DefaultAzureCredential())
    parts = urlsplit(args.graph_url)
    app = sign_in.msal_public_client(args.client_id, f"{args.login_url.rstrip('/')}/{args.tenant}")
    return sign_in.DeviceCodeCredential(app, f"{parts.scheme}://{parts.netloc}", prompt=err)


def _entra_app(
    args: argparse.Namespace, now: datetime, out: TextIO, err: TextIO, credential: TokenCredential | None
) -> int:
    users = list(args.user) + (_lines(args.users_file) if args.users_file else [])
    if args.session_duration is not None and not 900 <= args.session_duration <= 43200:
        raise aws_names.InvalidName("--session-duration must be 900 to 43200 seconds")
    spec = entra_app.EntraAppSpec(
        display_name=args.name,
        identifier=entra_app.identifier_for(args.app_index),
        reply_urls=tuple(relay_state.reply_urls(args.region, args.signin_region, args.global_signin)),
        role_claim=_role_claim(args),
        users=tuple(users),
        claim_source=args.claim_source,
        session_duration=args.session_duration,
        template_id=args.template_id,
        roll_certificate=args.roll_certificate,
    )
    graph = GraphClient(credential or _credential(args, err), args.graph_url, dry_run=args.dry_run, out=out)
    outcome = entra_app.configure_enterprise_app(graph, spec, now, args.login_url)
    verb = "would make" if args.dry_run else "made"
    out.write(f"{verb} {len(graph.writes)} change(s)\n" if graph.writes else "no changes: already as asked\n")
    out.write(f"application (client) id  {outcome.app_id}\n")
    out.write(f"Role claim value         {spec.role_claim}\n")
    out.write(f"federation metadata URL  {outcome.metadata_url}\n")
    for note in outcome.notes:
        out.write(f"note: {note}\n")
    return 0


def main(
    argv: Sequence[str] | None = None,
    *,
    out: TextIO | None = None,
    err: TextIO | None = None,
    credential: TokenCredential | None = None,
    now: datetime | None = None,
) -> int:
    """Runs one command; ``credential`` and ``now`` are injectable for tests (Graph and the clock)."""
    out, err = out or sys.stdout, err or sys.stderr
    args = _parser().parse_args(argv)
    now = now or datetime.now(UTC)
    try:
        if args.command == "check-metadata":
            return _check_metadata(args, now, out)
        if args.command == "render":
            return _render(args, now, out, err)
        if args.command == "relay-state":
            return _relay_state(args, out)
        if args.command == "check-users":
            return _check_users(args, out)
        return _entra_app(args, now, out, err, credential)
    except (
        aws_names.InvalidName,
        render.RenderError,
        entra_app.EntraAppError,
        GraphError,
        XmlRejected,
        sign_in.SignInError,
    ) as error:
        err.write(f"error: {error}\n")
        return 1
    except OSError as error:
        err.write(f"error: {error.filename or ''}: {error.strerror}\n")
        return 1
