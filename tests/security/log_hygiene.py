"""pytest plugin (loaded by tests/conftest.py for the whole suite): no token, signature or secret in any log.

- One handler on the root logger for the whole session, with the root level at DEBUG, so every record any
  thread emits (function, background refreshes, loopback servers, libraries) is formatted, traceback
  included, and scanned with tools/testkit/leak_registry.py.
- `make_service` (tools/testkit/service.py) turns VERBOSE_LOG on unless the test's settings set it: every
  service the suite builds runs the function's most talkative logging path (claims in the log).
- A test during which a leak is logged fails at teardown, naming the logger and the kind of value (never the
  value). A leak outside any test (a late background thread) fails the session.
- The terminal summary prints how many records were scanned and how many sensitive values were registered.

A test that plants a leak on purpose takes it back with the `log_hygiene` fixture (see test_log_hygiene.py).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.support.session_checks import fail_session_on, fail_test_on, write_summary
from tools.dev_defaults import DEV_STEP_UP_WIDGET_SECRET, DEV_WIDGET_SECRET
from tools.testkit import service as service_support
from tools.testkit.leak_registry import REGISTRY, Finding, LeakRegistry
from tools.testkit.tokens import WIDGET_SECRET

FORMAT = "%(asctime)s %(threadName)s %(name)s %(levelname)s %(message)s"


@dataclass(frozen=True)
class Leak:
    test: str | None  # node id of the test running when it was logged; None: between tests
    logger: str
    level: str
    findings: tuple[Finding, ...]

    def __str__(self) -> str:
        where = self.test or "outside any test"
        return f"{self.level} record of logger {self.logger!r} ({where}) holds {', '.join(map(str, self.findings))}"


class LeakCheckingHandler(logging.Handler):
    """Scans each record as it is emitted; never raises (a logging handler must not break the code under test)."""

    def __init__(self, registry: LeakRegistry) -> None:
        super().__init__(level=logging.DEBUG)
        self.setFormatter(logging.Formatter(FORMAT))
        self.registry = registry
        self.current_test: str | None = None
        self.records_scanned = 0
        self.leaks: list[Leak] = []
        self._leaks_lock = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            findings = self.registry.scan(self.format(record))
        except Exception:  # an unformattable record is the logging call's bug, reported by logging itself
            self.handleError(record)
            return
        with self._leaks_lock:
            self.records_scanned += 1
            if findings:
                self.leaks.append(Leak(self.current_test, record.name, record.levelname, tuple(findings)))

    def take_leaks(self, test: str | None = None, *, everything: bool = False) -> list[Leak]:
        """Removes and returns the leaks logged during `test` (or all of them)."""
        with self._leaks_lock:
            taken = [leak for leak in self.leaks if everything or leak.test == test]
            self.leaks = [leak for leak in self.leaks if leak not in taken]
        return taken


def _with_verbose_log(make_service: Callable[..., Any]) -> Callable[..., Any]:
    def verbose_make_service(settings: dict[str, str], **options: Any) -> Any:
        if not {"VERBOSE_LOG", "verboselog"} & settings.keys():  # a test that sets it (either spelling) wins
            settings = {**settings, "VERBOSE_LOG": "true"}
        return make_service(settings, **options)

    verbose_make_service.__doc__ = make_service.__doc__
    return verbose_make_service


_handler = LeakCheckingHandler(REGISTRY)
_state: dict[str, Any] = {}


def pytest_configure(config: pytest.Config) -> None:
    REGISTRY.register_secret(WIDGET_SECRET, "widget secret")
    REGISTRY.register_secret(DEV_WIDGET_SECRET, "widget secret")
    REGISTRY.register_secret(DEV_STEP_UP_WIDGET_SECRET, "widget secret")
    root = logging.getLogger()
    _state["root_level"] = root.level
    root.addHandler(_handler)
    root.setLevel(logging.DEBUG)
    _state["make_service"] = service_support.make_service
    service_support.make_service = _with_verbose_log(service_support.make_service)


def pytest_unconfigure(config: pytest.Config) -> None:
    root = logging.getLogger()
    root.removeHandler(_handler)
    root.setLevel(_state.get("root_level", logging.WARNING))
    if "make_service" in _state:
        service_support.make_service = _state.pop("make_service")


@pytest.fixture(autouse=True)
def _no_secrets_in_logs(request: pytest.FixtureRequest) -> Iterator[None]:
    _handler.current_test = request.node.nodeid
    yield
    _handler.current_test = None
    fail_test_on(_handler.take_leaks(request.node.nodeid), "secret material reached the log")


@pytest.fixture
def log_hygiene() -> LeakCheckingHandler:
    """The session's checking handler, for tests that plant a leak to prove it is caught."""
    return _handler


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    stray = _handler.take_leaks(everything=True)
    _state["stray"] = stray
    fail_session_on(session, stray)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    write_summary(
        terminalreporter,
        "log hygiene",
        f"{_handler.records_scanned} log records (root at DEBUG, VERBOSE_LOG on) scanned against "
        f"{REGISTRY.count} registered tokens, signatures and secrets: ",
        _state.get("stray", []),
        clean="no leak outside the tests' own checks",
        dirty="LEAK(S) outside any test",
    )
