"""The agent-SSO side, with the agent-SSO command's own checks (connect_sso_admin/agent_sso): metadata, relay
state, user names."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import requests

from connect_sso_admin.agent_sso import metadata, relay_state, usernames
from connect_sso_admin.agent_sso.aws_names import ConnectInstance, InvalidName
from connect_sso_admin.agent_sso.findings import Level
from connect_sso_admin.doctor.report import Result, failed, passed, skipped, warned
from connect_sso_admin.doctor.target import Target, unreachable

MAX_METADATA_BYTES = 4 * metadata.IAM_MAX_CHARACTERS


def check_agent_sso(target: Target, now: datetime | None = None) -> list[Result]:
    now = now or datetime.now(UTC)
    results = [_metadata(target, source, now) for source in target.saml_metadata] or [
        skipped("agent-sso.metadata", "no --saml-metadata given")
    ]
    results.append(_relay_state(target))
    results.append(_users(target))
    return results


def _read(target: Target, source: str) -> bytes:
    if source.startswith("https://"):
        with target.get(source, stream=True) as response:
            if response.status_code != 200:
                raise OSError(f"HTTP {response.status_code}")
            data: bytes = response.raw.read(MAX_METADATA_BYTES + 1, decode_content=True)
            return data
    with Path(source).open("rb") as handle:
        return handle.read(MAX_METADATA_BYTES + 1)


def _metadata(target: Target, source: str, now: datetime) -> Result:
    try:
        data = _read(target, source)
    except requests.RequestException as error:
        return failed("agent-sso.metadata", unreachable(source, error))
    except OSError as error:
        return failed("agent-sso.metadata", f"{source}: {error}")
    report = metadata.check_metadata(data, source, now, target.saml_warn_days)
    expiry = ", ".join(f"certificate expires {cert.not_after:%Y-%m-%d}" for cert in report.certificates)
    errors = [f.message for f in report.findings if f.level is Level.ERROR]
    warnings = [f.message for f in report.findings if f.level is Level.WARNING]
    if errors:
        return failed("agent-sso.metadata", f"{source}: {'; '.join(errors)}", "docs/agent-sso.md, Certificate rolls")
    if warnings:
        return warned("agent-sso.metadata", f"{source}: {'; '.join(warnings)}", "docs/agent-sso.md, Certificate rolls")
    return passed("agent-sso.metadata", f"{source}: usable, {expiry or 'no certificate'}")


def _relay_state(target: Target) -> Result:
    if not target.instance_arn:
        return skipped("agent-sso.relay-state", "no --instance-arn given")
    try:
        instance = ConnectInstance.from_arn(target.instance_arn)
    except InvalidName as error:
        return failed("agent-sso.relay-state", str(error))
    urls = relay_state.relay_states(instance.region, instance.instance_id)
    return passed("agent-sso.relay-state", f"admin relay state {urls['admin']}")


def _users(target: Target) -> Result:
    if not target.users:
        return skipped("agent-sso.users", "no --user or --users-file given")
    bad = [check for check in usernames.check_user_names(target.users) if not check.ok]
    if bad:
        detail = "; ".join(f"{check.name!r} {check.problems[0]}" for check in bad[:3])
        more = f" (and {len(bad) - 3} more)" if len(bad) > 3 else ""
        return failed("agent-sso.users", detail + more, "python -m connect_sso_admin agent-sso check-users")
    return passed("agent-sso.users", f"{len(target.users)} valid Connect user names")
