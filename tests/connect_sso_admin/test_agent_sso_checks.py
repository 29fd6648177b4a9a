"""The doctor's agent-SSO checks call the agent-SSO command's own checks (connect_sso_admin/agent_sso), and the one
entry point dispatches `agent-sso` to that tool's command line."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from connect_sso_admin.cli import main as admin_main
from connect_sso_admin.doctor.agent_sso import check_agent_sso
from connect_sso_admin.doctor.cli import main as doctor_main
from connect_sso_admin.doctor.report import Status
from connect_sso_admin.doctor.target import Target
from tests.connect_sso_admin.agent_sso.saml_fixtures import certificate_b64, metadata_xml
from tools.paths import REPO_ROOT

INSTANCE_ARN = "arn:aws:connect:eu-west-2:111122223333:instance/00000000-0000-4000-8000-000000000001"


def test_each_agent_sso_check_is_skipped_without_its_input() -> None:
    results = check_agent_sso(Target())
    assert [(r.check, r.status) for r in results] == [
        ("agent-sso.metadata", Status.SKIP),
        ("agent-sso.relay-state", Status.SKIP),
        ("agent-sso.users", Status.SKIP),
    ]


def test_good_inputs_pass(tmp_path: Path) -> None:
    good = tmp_path / "entra.xml"
    good.write_bytes(metadata_xml())
    target = Target(saml_metadata=[str(good)], instance_arn=INSTANCE_ARN, users=["jane.doe@contoso.com"])
    results = check_agent_sso(target)
    assert [r.status for r in results] == [Status.PASS] * 3, results
    assert "certificate expires" in results[0].reason
    assert results[1].reason == (
        "admin relay state https://eu-west-2.console.aws.amazon.com/connect/federate/"
        "00000000-0000-4000-8000-000000000001?new_domain=true"
    )


def test_a_certificate_near_expiry_warns_and_an_expired_one_fails(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    soon, gone = tmp_path / "soon.xml", tmp_path / "gone.xml"
    soon.write_bytes(metadata_xml([certificate_b64(not_after=now + timedelta(days=10))]))
    gone.write_bytes(
        metadata_xml([certificate_b64(not_after=now - timedelta(days=1), not_before=now - timedelta(days=400))])
    )
    near, expired, *_ = check_agent_sso(Target(saml_metadata=[str(soon), str(gone)]))
    assert near.status is Status.WARN and "expires" in near.reason
    assert expired.status is Status.FAIL and "expired" in expired.reason


def test_bad_user_names_and_a_bad_instance_arn_fail() -> None:
    results = check_agent_sso(Target(instance_arn="arn:aws:s3:::bucket", users=["guest_fabrikam.com#EXT#@x.com"]))
    assert results[1].status is Status.FAIL and "is not an Amazon Connect instance ARN" in results[1].reason
    assert results[2].status is Status.FAIL and "#EXT#" in results[2].reason


def test_warnings_fail_makes_a_warning_exit_non_zero(tmp_path: Path, capsys) -> None:
    soon = tmp_path / "soon.xml"
    soon.write_bytes(metadata_xml([certificate_b64(not_after=datetime.now(UTC) + timedelta(days=10))]))
    assert doctor_main(["--saml-metadata", str(soon)]) == 0
    assert doctor_main(["--saml-metadata", str(soon), "--warnings-fail"]) == 1
    assert "WARN  agent-sso.metadata" in capsys.readouterr().out


def test_agent_sso_dispatches_to_the_agent_sso_command_line(capsys) -> None:
    assert admin_main(["agent-sso", "relay-state", "--instance-arn", INSTANCE_ARN, "--audience", "admin"]) == 0
    assert "connect/federate/00000000-0000-4000-8000-000000000001" in capsys.readouterr().out
    assert admin_main(["no-such-command"]) == 2


def test_python_dash_m_connect_sso_admin_lists_both_commands() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "connect_sso_admin", "--help"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0
    assert "doctor" in completed.stdout and "agent-sso" in completed.stdout
