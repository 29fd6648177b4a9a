"""The whole-suite telemetry check can fail: planted tokens, signatures and secrets in span attributes, span
events, span status and metric attributes are caught through the real pipeline (API -> SDK -> in-memory
exporter/reader -> scanner), and a run that leaks into a span fails even when nobody takes the leak back.

The check itself is tests/security/telemetry_hygiene.py; it runs after every test of the suite, these included.
"""

from __future__ import annotations

import os

import pytest
from opentelemetry import metrics, trace
from opentelemetry.trace import Status, StatusCode

from tests.security.telemetry_hygiene import TelemetryCapture
from tools.paths import REPO_ROOT
from tools.testkit.fake_entra import FakeEntra
from tools.testkit.function_http import call_function, function_using
from tools.testkit.service import base_settings, make_service
from tools.testkit.tokens import WIDGET_SECRET, access_token, entra_v2_claims

_tracer = trace.get_tracer("connect_sso.planted")
_meter = metrics.get_meter("connect_sso.planted")


def _kinds(telemetry: TelemetryCapture, test: str) -> set[str]:
    """Takes back what this test planted (so it does not fail) and returns the kinds found."""
    return {finding.kind for leak in telemetry.scan_new(test) for finding in leak.findings}


def test_a_token_in_a_span_attribute_is_caught(
    fake_entra: FakeEntra, telemetry: TelemetryCapture, request: pytest.FixtureRequest
) -> None:
    with _tracer.start_as_current_span("planted", attributes={"http.request.header.authorization": "Bearer x"}) as s:
        s.set_attribute("token", access_token(fake_entra.key))
    assert _kinds(telemetry, request.node.nodeid) == {"JWT-shaped string", "token payload", "signature"}


def test_a_truncated_signature_in_a_span_event_and_a_secret_in_a_status_are_caught(
    fake_entra: FakeEntra, telemetry: TelemetryCapture, request: pytest.FixtureRequest
) -> None:
    signature = access_token(fake_entra.key).split(".")[2]
    with _tracer.start_as_current_span("planted") as span:
        span.add_event("retry", {"detail": f"sig={signature[:20]}..."})
        span.set_status(Status(StatusCode.ERROR, f"could not sign with {WIDGET_SECRET}"))
    assert _kinds(telemetry, request.node.nodeid) == {"signature", "widget secret"}


def test_a_secret_in_a_metric_attribute_is_caught_once(
    telemetry: TelemetryCapture, request: pytest.FixtureRequest
) -> None:
    counter = _meter.create_counter("connect_sso.planted.counter")
    counter.add(1, {"key": WIDGET_SECRET})
    assert _kinds(telemetry, request.node.nodeid) == {"widget secret"}
    counter.add(1, {"key": WIDGET_SECRET})  # the same attribute set again: already reported, not a new leak
    assert _kinds(telemetry, request.node.nodeid) == set()


def test_the_functions_own_telemetry_carries_no_token_for_any_answer(
    fake_entra: FakeEntra, telemetry: TelemetryCapture, request: pytest.FixtureRequest
) -> None:
    spans_before = telemetry.spans_scanned
    with function_using(make_service(base_settings(fake_entra.authority))):
        for claims in (entra_v2_claims(), entra_v2_claims(aud="someone-else"), entra_v2_claims(scp="Other")):
            call_function(f"Bearer {access_token(fake_entra.key, claims)}")
        call_function(f"Bearer {access_token(fake_entra.key)}x")
    assert telemetry.scan_new(request.node.nodeid) == []
    assert telemetry.spans_scanned - spans_before >= 4  # the function's spans went through the check


def test_a_run_that_leaks_into_a_span_fails_even_when_nobody_takes_it_back(pytester: pytest.Pytester) -> None:
    """A separate pytest (own process, so its own providers) with the plugin: one test leaks a token into a span."""
    pytester.makeconftest('pytest_plugins = ("tests.security.telemetry_hygiene",)\n')
    pytester.makepyfile(
        test_leaky="""
        from opentelemetry import trace
        from tools.testkit.leak_registry import REGISTRY
        from tools.testkit.tokens import SigningKey, access_token

        def test_leaks():
            token = access_token(SigningKey.generate("inner"))
            with trace.get_tracer("inner").start_as_current_span("leaky") as span:
                span.set_attribute("authorization", token)

        def test_clean():
            with trace.get_tracer("inner").start_as_current_span("clean") as span:
                span.set_attribute("outcome", "issued")
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, errors=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        ["*secret material reached telemetry:*", "*span 'leaky' (test_leaky.py::test_leaks) holds JWT-shaped string*"]
    )


@pytest.fixture(autouse=True)
def _repo_on_the_path(monkeypatch: pytest.MonkeyPatch) -> None:
    # pytester's subprocess runs in a temporary folder: it must still import tests.* and shared.*
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")]))
