"""The page: config.json (validated by the page's own rules), its function URL, and the headers it is served with."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests

from connect_sso_admin.doctor.report import Result, failed, passed, skipped, warned
from connect_sso_admin.doctor.target import Target, origin_of, unreachable

REPO_ROOT = Path(__file__).resolve().parents[2]
# The page's own config.json validator (static_spa/src/config.js) behind a small CLI, as the azd hook runs it.
PAGE_CONFIG_CHECK = REPO_ROOT / "static_spa" / "scripts" / "check-config.mjs"
NODE_TIMEOUT_SECONDS = 30


def validate_with_page_rules(body: bytes) -> tuple[dict[str, Any] | None, list[str]]:
    """(normalised config, []) or (None, ["field message", ...]) from static_spa/src/config.js, run with Node."""
    node = shutil.which("node")
    if node is None:
        raise FileNotFoundError("node")
    completed = subprocess.run(  # noqa: S603 - fixed program and arguments
        [node, str(PAGE_CONFIG_CHECK)],
        input=body,
        capture_output=True,
        timeout=NODE_TIMEOUT_SECONDS,
        check=False,
    )
    try:
        answer = json.loads(completed.stdout)
    except ValueError:
        raise RuntimeError(completed.stderr.decode(errors="replace").strip()[-300:]) from None
    if answer["ok"]:
        return answer["config"], []
    return None, [f"{problem['field']} {problem['message']}" for problem in answer["problems"]]


def check_page(target: Target) -> list[Result]:
    if not target.page_url:
        reason = "no --page-url given"
        return [
            skipped(name, reason) for name in ("page.config", "page.function", "page.csp", "page.permissions-policy")
        ]
    results = [_config(target)]
    results.append(_function_url(target))
    try:
        page = target.get(target.page_url)
    except requests.RequestException as error:
        results.append(failed("page.csp", unreachable(target.page_url, error), "check the page URL"))
        results.append(skipped("page.permissions-policy", "the page did not answer"))
        return results
    results.append(_csp(target, page.headers.get("Content-Security-Policy")))
    policy = page.headers.get("Permissions-Policy")
    if policy:
        results.append(passed("page.permissions-policy", f"sent: {policy[:80]}"))
    else:
        results.append(
            warned(
                "page.permissions-policy",
                "the page sends no Permissions-Policy",
                "deploy static_spa/staticwebapp.config.json with the page",
            )
        )
    return results


def _config(target: Target) -> Result:
    url = urljoin(target.page_url or "", "config.json")
    try:
        response = target.get(url, headers={"Accept": "application/json"})
    except requests.RequestException as error:
        return failed("page.config", unreachable(url, error), "check the page URL and that the page is deployed")
    if response.status_code != 200:
        return failed(
            "page.config",
            f"{url} answered HTTP {response.status_code}",
            "deploy config.json beside index.html (azd deploy web writes it)",
        )
    try:
        config, problems = validate_with_page_rules(response.content)
    except FileNotFoundError:
        return warned("page.config", "downloaded, not validated: Node.js is not installed", "install Node.js 20+")
    except (RuntimeError, subprocess.TimeoutExpired, ValueError) as error:
        return warned("page.config", f"downloaded, the page's validator did not run: {error}", "")
    if config is None:
        return failed("page.config", "invalid: " + "; ".join(problems), "fix config.json (docs/page.md)")
    target.page_config = config
    return passed("page.config", f"{url} passes the page's own validator")


def _function_url(target: Target) -> Result:
    config = target.page_config
    if config is None:
        return skipped("page.function", "no valid config.json")
    configured = config["api"]["contactTokenUrl"]
    if not target.function_url:
        target.function_url = configured
        return passed("page.function", f"api.contactTokenUrl is {configured} (checked as the function)")
    if configured.rstrip("/") != target.function_url.rstrip("/"):
        return failed(
            "page.function",
            f"api.contactTokenUrl is {configured}, not the function {target.function_url}",
            "set api.contactTokenUrl in config.json to the function's URL (azd env get-value CONTACT_TOKEN_URL)",
        )
    return passed("page.function", f"api.contactTokenUrl is the function {configured}")


def parse_csp(header: str) -> dict[str, list[str]]:
    directives: dict[str, list[str]] = {}
    for part in header.split(";"):
        tokens = part.split()
        if tokens:
            directives.setdefault(tokens[0].lower(), tokens[1:])
    return directives


def source_allows(sources: list[str], url: str, page_origin: str | None) -> bool:
    """CSP source matching for the forms this product uses: 'self', an origin, a *.host wildcard, *."""
    origin = origin_of(url)
    scheme, host = urlsplit(url).scheme, (urlsplit(url).hostname or "")
    for source in sources:
        value = source.lower().rstrip("/")
        if value == "*" or value == origin or (value == "'self'" and origin == page_origin):
            return True
        if value.startswith(f"{scheme}://*."):
            suffix = value.split("://*", 1)[1]
            if ":" not in suffix and host.endswith(suffix):
                return True
    return False


def _csp(target: Target, header: str | None) -> Result:
    if not header:
        return warned("page.csp", "the page sends no Content-Security-Policy", "deploy staticwebapp.config.json")
    config = target.page_config
    if config is None:
        return skipped("page.csp", "no valid config.json to compare the policy with")
    directives = parse_csp(header)

    def sources(name: str) -> list[str]:
        return directives.get(name, directives.get("default-src", []))

    needs = [
        ("script-src", "the widget's script host", config["widget"]["scriptUrl"]),
        ("frame-src", "the widget's script host", config["widget"]["scriptUrl"]),
        ("connect-src", "the function", config["api"]["contactTokenUrl"]),
        ("connect-src", "the authority", config["msal"]["authority"]),
        ("frame-src", "the authority", config["msal"]["authority"]),
    ]
    blocked = [
        f"{directive} blocks {what} {origin_of(url)}"
        for directive, what, url in needs
        if not source_allows(sources(directive), url, target.page_origin)
    ]
    if blocked:
        return failed(
            "page.csp",
            "; ".join(blocked),
            "narrow the policy from config.json: node static_spa/scripts/csp.mjs dist/config.json --write "
            "dist/staticwebapp.config.json, then redeploy the page",
        )
    return passed("page.csp", "allows the widget's script host, the function and the authority")
