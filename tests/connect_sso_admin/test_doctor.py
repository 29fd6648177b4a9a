"""The doctor against real local stacks on free ports: the development identity provider (HTTPS, oauth2-mock-server),
the function in its own process (local runner) and the page server with the page's real headers and a
config.json. Against the working stack every check passes; each deliberately broken stack fails the right check
with the right message; the output never holds the token, the contact JWT, its signature or the widget key.
(Amazon Connect and Entra are not here: the widget host is a name in the policy, the provider is the local one.)"""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import Iterator
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
import requests

from connect_sso_admin.doctor.cli import main as doctor_main
from connect_sso_admin.doctor.cli import parser, run_checks, target_from
from connect_sso_admin.doctor.report import Result, Status
from connect_sso_admin.doctor.target import Target
from tools.dev_certificate import ensure_localhost_certificate
from tools.dev_defaults import DEV_FUNCTION_PORT, DEV_IDENTITY_PORT, DEV_WIDGET_SECRET, function_settings
from tools.dev_identity import node_modules_ready
from tools.dev_page import DEV_PAGE_PORT, PageServer, development_config, serve_page, static_web_app_headers
from tools.dev_stack import DevStack, free_port, run_function, run_stack, write_stack_file
from tools.paths import DEV_FOLDER, REPO_ROOT

pytestmark = pytest.mark.skipif(not node_modules_ready(), reason="run scripts/bootstrap node")


@dataclass
class Deployment:
    stack: DevStack
    page_url: str
    page_root: Path
    variant_port: int  # also allowed by the function's CORS: broken pages are served here, one at a time

    def variant(self, config: dict, **options: Any) -> AbstractContextManager[PageServer]:
        return serve_page(config, port=self.variant_port, root=self.page_root, **options)

    def target(self, **changes: object) -> Target:
        base = Target(
            page_url=self.page_url,
            function_url=self.stack.function_url,
            token=self.stack.identity.token(),
            widget_secret=DEV_WIDGET_SECRET,
            ca_bundle=self.stack.certificate_file,
        )
        return replace(base, **changes)


@pytest.fixture(scope="module")
def page_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The page's files do not matter to the doctor (config.json and headers do): no Vite build needed."""
    root = tmp_path_factory.mktemp("page")
    (root / "index.html").write_text("<!doctype html><title>chat</title>\n", encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def deployment(page_root: Path) -> Iterator[Deployment]:
    page_port, variant_port = free_port(), free_port()
    with ExitStack() as stack:
        cors = f"http://localhost:{page_port},http://localhost:{variant_port}"
        running = stack.enter_context(run_stack(cors=cors))
        config = development_config(running.identity.issuer, running.function_url)
        page = stack.enter_context(serve_page(config, port=page_port, root=page_root))
        yield Deployment(running, page.url, page_root, variant_port)


def by_check(results: list[Result]) -> dict[str, Result]:
    return {result.check: result for result in results}


def failures(results: list[Result]) -> dict[str, str]:
    return {result.check: result.reason for result in results if result.status is Status.FAIL}


def test_against_the_working_stack_every_check_passes(deployment: Deployment) -> None:
    results = by_check(run_checks(deployment.target()))
    not_agent_sso = {name: r for name, r in results.items() if not name.startswith("agent-sso.")}
    assert {name: r.status for name, r in not_agent_sso.items()} == dict.fromkeys(not_agent_sso, Status.PASS), [
        (r.check, r.status, r.reason) for r in not_agent_sso.values() if r.status is not Status.PASS
    ]
    assert set(not_agent_sso) >= {
        "page.config",
        "page.function",
        "page.csp",
        "page.permissions-policy",
        "function.health",
        "function.no-token",
        "function.cors",
        "function.bad-token",
        "identity.metadata",
        "identity.scope",
        "contact-token.sub",
        "contact-token.signature",
    }


def test_the_output_never_holds_the_token_the_contact_jwt_or_the_key(deployment: Deployment) -> None:
    target = deployment.target()
    out = io.StringIO()
    results = run_checks(target)
    from connect_sso_admin.doctor.report import print_table

    print_table(results, out)
    contact = requests.get(
        deployment.stack.function_url,
        headers={"Authorization": f"Bearer {target.token}", "Accept": "application/json"},
        timeout=10,
    ).json()["data"]
    text = out.getvalue()
    assert target.token is not None
    for secret in (target.token, *target.token.split(".")[1:], DEV_WIDGET_SECRET, contact.split(".")[2]):
        assert secret not in text
    assert "eyJ" not in text


def test_a_wrong_contact_token_url_fails_page_function(deployment: Deployment) -> None:
    wrong = deployment.stack.function_url.replace("AWSConnectJWT", "OldService")
    config = development_config(deployment.stack.identity.issuer, wrong)
    with deployment.variant(config) as page:
        results = run_checks(deployment.target(page_url=page.url))
    assert failures(results) == {
        "page.function": f"api.contactTokenUrl is {wrong}, not the function {deployment.stack.function_url}"
    }


def test_a_function_without_cors_for_the_page_fails_function_cors(deployment: Deployment) -> None:
    settings = function_settings(deployment.stack.identity.issuer)
    with run_function(free_port(), settings, ca_bundle=deployment.stack.certificate_file, cors="") as (url, _):
        config = development_config(deployment.stack.identity.issuer, url)
        with deployment.variant(config) as page:
            results = run_checks(deployment.target(page_url=page.url, function_url=url))
    origin = page.url.rstrip("/")
    assert failures(results) == {
        "function.cors": f"a preflight from {origin} is not allowed (Access-Control-Allow-Origin None)"
    }


def test_a_widget_whose_key_cannot_be_read_makes_function_health_warn_naming_it(deployment: Deployment) -> None:
    broken = "0f8e7d6c-0000-4000-8000-00000000e0c3"
    settings = {
        **function_settings(deployment.stack.identity.issuer),
        "CONNECT_WIDGETS": f'{{"{broken}": {{"secretSetting": "CONNECT_WIDGET_SECRET_BROKEN"}}}}',
    }
    with run_function(free_port(), settings, ca_bundle=deployment.stack.certificate_file) as (url, _):
        config = development_config(deployment.stack.identity.issuer, url)
        with deployment.variant(config) as page:
            results = by_check(run_checks(deployment.target(page_url=page.url, function_url=url)))
    assert results["function.health"].status is Status.WARN
    assert broken in results["function.health"].reason and "widget_unavailable" in results["function.health"].reason


def test_a_function_that_is_down_fails_function_health_and_skips_what_needs_it(deployment: Deployment) -> None:
    down = f"http://127.0.0.1:{free_port()}/api/AWSConnectJWT"
    config = development_config(deployment.stack.identity.issuer, down)
    with deployment.variant(config) as page:
        results = by_check(run_checks(deployment.target(page_url=page.url, function_url=down)))
    health_url = down.replace("AWSConnectJWT", "health")
    assert results["function.health"].status is Status.FAIL
    assert results["function.health"].reason == f"no answer from {health_url} (ConnectionError)"
    assert results["function.no-token"].status is Status.SKIP
    assert results["contact-token.issue"].status is Status.FAIL
    assert results["page.config"].status is Status.PASS


def test_a_widget_id_mismatch_fails_contact_token_sub(deployment: Deployment) -> None:
    config = development_config(deployment.stack.identity.issuer, deployment.stack.function_url)
    other = "00000000-0000-0000-0000-0000000000c9"
    config["widget"]["widgetId"] = other
    with deployment.variant(config) as page:
        results = run_checks(deployment.target(page_url=page.url))
    assert failures(results) == {
        "contact-token.sub": f"sub 00000000-0000-0000-0000-0000000000c1 is not the page's widget id {other}"
    }


def test_a_csp_that_blocks_the_widget_host_fails_page_csp(deployment: Deployment) -> None:
    config = development_config(deployment.stack.identity.issuer, deployment.stack.function_url)
    elsewhere = {**config, "widget": {**config["widget"], "scriptUrl": "https://cdn.example.net/widget.js"}}
    policy = static_web_app_headers(elsewhere)["Content-Security-Policy"]  # the real generator, another widget host
    with deployment.variant(config, header_overrides={"Content-Security-Policy": policy}) as page:
        results = run_checks(deployment.target(page_url=page.url))
    assert failures(results) == {
        "page.csp": "script-src blocks the widget's script host https://widget.invalid; "
        "frame-src blocks the widget's script host https://widget.invalid"
    }


def test_an_invalid_config_json_fails_with_the_pages_own_message(deployment: Deployment) -> None:
    config = development_config(deployment.stack.identity.issuer, deployment.stack.function_url)
    config["widget"]["widgetId"] = "not-a-uuid"
    with deployment.variant(config) as page:
        results = by_check(run_checks(deployment.target(page_url=page.url)))
    assert results["page.config"].status is Status.FAIL
    # The message is static_spa/src/config.js's, word for word.
    assert (
        results["page.config"].reason
        == "invalid: widget.widgetId must be a UUID: the widget id from the snippet, not the snippetId."
    )


def test_a_wrong_widget_key_fails_contact_token_signature(deployment: Deployment) -> None:
    results = run_checks(deployment.target(widget_secret="fake-wrong-widget-key-for-this-test"))
    assert failures(results) == {"contact-token.signature": "does not verify with the widget key given"}


def test_the_entry_point_runs_the_doctor_and_exits_non_zero_on_a_failure(deployment: Deployment) -> None:
    down = f"http://127.0.0.1:{free_port()}/api/AWSConnectJWT"
    completed = subprocess.run(
        [sys.executable, "-m", "connect_sso_admin", "doctor", "--function-url", down],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 1
    assert "FAIL  function.health" in completed.stdout
    out = io.StringIO()
    ok = doctor_main(
        ["--page-url", deployment.page_url, "--ca-bundle", str(deployment.stack.certificate_file)], out=out
    )
    assert ok == 0, out.getvalue()
    assert "SKIP  contact-token.issue       no --token given" in out.getvalue()


def test_local_means_the_scripts_run_ports_and_a_development_token(tmp_path: Path) -> None:
    # What the running stack writes (tools/dev_stack.py): the operator package imports nothing from tools/.
    stack_file = tmp_path / "stack.json"
    write_stack_file(
        stack_file,
        page_url=f"http://localhost:{DEV_PAGE_PORT}/",
        function_url=f"http://127.0.0.1:{DEV_FUNCTION_PORT}/api/AWSConnectJWT",
        ca_bundle=ensure_localhost_certificate(DEV_FOLDER).cert_file,
        issuer=f"https://localhost:{DEV_IDENTITY_PORT}",
    )
    target = target_from(parser().parse_args(["--local", "--stack-file", str(stack_file)]))
    assert target.page_url == f"http://localhost:{DEV_PAGE_PORT}/"
    assert target.function_url == f"http://127.0.0.1:{DEV_FUNCTION_PORT}/api/AWSConnectJWT"
    assert target.widget_secret == DEV_WIDGET_SECRET
    assert target.ca_bundle is not None and target.ca_bundle.is_file()
    assert callable(getattr(target, "token_source", None))


def test_local_without_a_running_stack_says_to_start_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert doctor_main(["--local", "--stack-file", str(tmp_path / "absent.json")]) == 2
    assert "start the development stack (scripts/run)" in capsys.readouterr().err


def test_the_operator_package_imports_nothing_from_the_development_tools() -> None:
    package = Path(__file__).resolve().parents[2] / "connect_sso_admin"
    for path in package.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "from tools" not in text and "import tools" not in text, path


def test_an_untrusted_provider_certificate_suggests_the_ca_bundle_not_the_authority(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    metadata = by_check(run_checks(deployment.target(ca_bundle=None)))["identity.metadata"]
    assert metadata.status is Status.FAIL
    assert "SSLError" in metadata.reason
    assert "--ca-bundle .dev/localhost.crt" in metadata.action
    assert "msal.authority" not in metadata.action


@pytest.mark.parametrize("flag", ["--token-env", "--widget-secret-env"])
def test_a_variable_flag_naming_an_unset_variable_is_an_error_that_names_it(
    flag: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("CONNECT_SSO_TEST_UNSET_VARIABLE", raising=False)
    with pytest.raises(SystemExit) as exited:
        doctor_main([flag, "CONNECT_SSO_TEST_UNSET_VARIABLE", "--function-url", "http://127.0.0.1:9/api/x"])
    assert exited.value.code == 2
    error = capsys.readouterr().err
    assert f"{flag} CONNECT_SSO_TEST_UNSET_VARIABLE" in error
    assert "not set" in error
