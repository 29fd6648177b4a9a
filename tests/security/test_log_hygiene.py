"""The whole-suite log check can fail: planted leaks of every kind are caught through the real pipeline
(logger -> root handler -> scanner), and a run that leaks fails even when nobody takes the leak back.

The check itself is tests/security/log_hygiene.py; it runs for every test of the suite, these included.
"""

from __future__ import annotations

import logging
import os
import threading

import pytest

from tests.security.log_hygiene import LeakCheckingHandler
from tools.paths import REPO_ROOT
from tools.testkit.fake_entra import FakeEntra
from tools.testkit.function_http import call_function, function_using
from tools.testkit.leak_registry import LeakRegistry, fingerprint
from tools.testkit.service import base_settings, make_service
from tools.testkit.tokens import WIDGET_SECRET, SigningKey, access_token, entra_v2_claims

_log = logging.getLogger("connect_sso.planted")


def planted(log_hygiene: LeakCheckingHandler, request: pytest.FixtureRequest) -> list[str]:
    """Takes back the leaks this test planted (so it does not fail) and returns their kinds."""
    return [finding.kind for leak in log_hygiene.take_leaks(request.node.nodeid) for finding in leak.findings]


def test_a_whole_access_token_in_a_log_line_is_caught(
    fake_entra: FakeEntra, log_hygiene: LeakCheckingHandler, request: pytest.FixtureRequest
) -> None:
    token = access_token(fake_entra.key)
    _log.info("Authorization: Bearer %s", token)
    assert set(planted(log_hygiene, request)) == {"JWT-shaped string", "token payload", "signature"}


def test_a_signature_alone_truncated_and_from_another_thread_is_caught(
    fake_entra: FakeEntra, log_hygiene: LeakCheckingHandler, request: pytest.FixtureRequest
) -> None:
    signature = access_token(fake_entra.key).split(".")[2]
    thread = threading.Thread(target=lambda: _log.debug("sig=%s...", signature[:20]))
    thread.start()
    thread.join()
    assert planted(log_hygiene, request) == ["signature"]


def test_a_secret_in_an_exception_traceback_is_caught(
    log_hygiene: LeakCheckingHandler, request: pytest.FixtureRequest
) -> None:
    try:
        raise ValueError(f"could not sign with {WIDGET_SECRET}")
    except ValueError:
        _log.exception("signing failed")  # the secret is only in the formatted traceback
    assert planted(log_hygiene, request) == ["widget secret"]


def test_a_contact_token_the_function_issued_is_caught(
    fake_entra: FakeEntra, log_hygiene: LeakCheckingHandler, request: pytest.FixtureRequest
) -> None:
    with function_using(make_service(base_settings(fake_entra.authority))):
        answer = call_function(f"Bearer {access_token(fake_entra.key)}")
    assert answer.status == 200
    assert planted(log_hygiene, request) == []  # the function itself logged nothing secret
    logging.getLogger("some.library").warning("response body: %s", answer.text)
    assert "JWT-shaped string" in planted(log_hygiene, request)


def test_the_function_at_its_most_verbose_logs_claims_but_no_token(
    fake_entra: FakeEntra, log_hygiene: LeakCheckingHandler, request: pytest.FixtureRequest
) -> None:
    """Every kind of answer, VERBOSE_LOG on: the claims are logged (that is the setting's job), tokens are not."""
    records_before = log_hygiene.records_scanned
    settings = base_settings(fake_entra.authority, VERBOSE_LOG="true", SSO_CUSTOM_ATTRIBUTES="department")
    with function_using(make_service(settings)):
        for claims in (entra_v2_claims(), entra_v2_claims(aud="someone-else"), entra_v2_claims(scp="Other")):
            call_function(f"Bearer {access_token(fake_entra.key, claims)}")
        call_function(f"Bearer {access_token(fake_entra.key)}x")
    assert log_hygiene.records_scanned - records_before >= 4  # the function's lines went through the check
    assert planted(log_hygiene, request) == []


def test_findings_name_a_fingerprint_never_the_value() -> None:
    registry = LeakRegistry()
    registry.register_secret("fake-widget-secret-for-this-test-only")
    (finding,) = registry.scan("key=fake-widget-secret-for-this-test-only")
    assert "fake-widget-secret" not in str(finding)
    assert finding.fingerprint == fingerprint("fake-widget-secret-for-this-test-only")


def test_ordinary_log_lines_are_not_flagged() -> None:
    registry = LeakRegistry()
    registry.register_token(access_token(SigningKey.generate("registry-test")))
    for line in (
        "refused with 401 invalid_signature: the token's signature is not valid",
        "loaded 3 signing keys from https://login.microsoftonline.com/common/discovery/v2.0/keys",
        "GET /api/AWSConnectJWT 200, invocation 0b1c2d3e-0000-4000-8000-0000000000d1",
        'verbose: claims received: {"name": "Ada Lovelace", "oid": "0b1c2d3e-0000-4000-8000-0000000000d1"}',
    ):
        assert registry.scan(line) == [], line


def test_a_run_that_leaks_fails_even_when_nobody_takes_the_leak_back(pytester: pytest.Pytester) -> None:
    """A separate pytest run with the plugin: one test leaks a token, one leaks between tests (a session
    fixture's teardown, as a late background thread would). The first errors; the session fails too."""
    pytester.makeconftest('pytest_plugins = ("tests.security.log_hygiene",)\n')
    pytester.makepyfile(
        test_leaky="""
        import logging
        import pytest
        from tools.testkit.tokens import SigningKey, access_token

        KEY = SigningKey.generate("inner")

        @pytest.fixture(scope="session")
        def late_logger():
            yield
            logging.getLogger("late").info("late %s", access_token(KEY))

        def test_leaks():
            logging.getLogger("connect_sso").info("token %s", access_token(KEY))

        def test_clean(late_logger):
            logging.getLogger("connect_sso").info("refused with 401 invalid_signature")
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=2, errors=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "*secret material reached the log:*",
            "*INFO record of logger 'connect_sso' (test_leaky.py::test_leaks) holds JWT-shaped string*",
            "*1 LEAK(S) outside any test*",
            "*INFO record of logger 'late' (outside any test)*",
        ]
    )


@pytest.fixture(autouse=True)
def _repo_on_the_path(monkeypatch: pytest.MonkeyPatch) -> None:
    # pytester's subprocess runs in a temporary folder: it must still import tests.* and shared.*
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")]))
