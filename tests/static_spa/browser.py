"""Real Chromium for the chat page tests: Debian's build, headless, and a page object that records what it saw."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Request

from tools.paths import REPO_ROOT

CHROMIUM = "/usr/bin/chromium"
LOOPBACK_ONLY_RESOLVER = "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    # Every name but the loopback ones fails to resolve inside Chromium: the flags above still leave it asking the
    # machine's resolver for update.googleapis.com and accounts.google.com. IP literals are never resolved.
    LOOPBACK_ONLY_RESOLVER,
    # The local identity provider's certificate is self-signed (made at test time); tests only.
    "--ignore-certificate-errors",
]
ARTIFACTS = REPO_ROOT / "test-artifacts"
WAIT_MS = 45_000  # a ceiling for event waits, generous for a loaded 2-core machine; never a timing assertion


def chromium_path() -> str:
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        pytest.fail("Chromium is missing: run scripts/bootstrap browser (Debian's chromium package)")
    return CHROMIUM if Path(CHROMIUM).exists() else str(shutil.which("chromium"))


@dataclass
class RecordedPage:
    """A page plus everything the browser said: console lines, uncaught errors, requests."""

    page: Page
    context: BrowserContext
    console: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)

    def requests_to(self, url_prefix: str, method: str = "GET") -> list[Request]:
        return [r for r in self.requests if r.url.startswith(url_prefix) and r.method == method]

    def csp_violations(self) -> list[str]:
        return [line for line in self.console if "Content Security Policy" in line]

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


def open_page(browser: Browser) -> RecordedPage:
    """A fresh context (empty storage: nobody signed in) with recording wired up."""
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    recorded = RecordedPage(page, context)

    def on_console(message: ConsoleMessage) -> None:
        recorded.console.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: recorded.errors.append(str(error)))
    page.on("request", lambda request: recorded.requests.append(request))
    return recorded
