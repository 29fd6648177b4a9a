"""Development tool: serves the customer chat page (a development build of static_spa/) on loopback.

The page is built with `vite build --mode development` (the Amazon Connect widget replaced by the development
panel), and served with the headers a deployment sends: staticwebapp.base.json narrowed to the local identity
provider, function and widget by the deploy hook's static_spa/scripts/csp.mjs, plus a generated config.json.
NOT a production host: Azure Static Web Apps is. Development and tests only.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from tools.background import serving_in_background
from tools.dev_defaults import DEV_API_SCOPE, DEV_SPA_CLIENT_ID, DEV_WIDGET_ID
from tools.paths import REPO_ROOT

SPA_DIR = REPO_ROOT / "static_spa"
BUILD_DIR = SPA_DIR / "dist-development"
BUILD_STAMP = BUILD_DIR / ".source-hash"
# The Static Web Apps configuration source; builds ship it as staticwebapp.config.json (production builds only).
STATIC_WEB_APP_BASE = SPA_DIR / "staticwebapp.base.json"
DEV_PAGE_PORT = 5173
BUILD_TIMEOUT_SECONDS = 120
# What the build depends on: a change to any of these makes the next start rebuild.
BUILD_INPUTS = ("index.html", "redirect.html", "vite.config.js", "package-lock.json", "src", "public")
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
}


class DevPageError(RuntimeError):
    pass


def development_config(authority: str, contact_token_url: str, *, token_issuer: str | None = None) -> dict[str, Any]:
    """config.json for the local stack: the local identity provider (OIDC mode) and the local function.

    `token_issuer`: the provider's issuer when its host is not the authority's (External ID mode). MSAL v5 checks
    the discovery document's issuer against the authority and accepts another host only when it is one of
    `knownAuthorities` (or matches External ID's own <tenant-id>.ciamlogin.com pattern), so it is listed there.
    """
    known = [urlsplit(authority).netloc]
    if token_issuer and urlsplit(token_issuer).netloc not in known:
        known.append(urlsplit(token_issuer).netloc)
    return {
        "msal": {
            "clientId": DEV_SPA_CLIENT_ID,
            "authority": authority,
            "apiScope": DEV_API_SCOPE,
            "knownAuthorities": known,
            "protocolMode": "OIDC",
        },
        "api": {"contactTokenUrl": contact_token_url},
        "widget": {
            # Never loaded: development builds use the development panel instead of the widget script.
            "scriptUrl": "https://widget.invalid/amazon-connect-chat-interface-client.js",
            "widgetId": DEV_WIDGET_ID,
            "snippetId": "ZGV2ZWxvcG1lbnQtc25pcHBldC1pZA==",
            "styles": {
                "iconType": "CHAT",
                "openChat": {"color": "#ffffff", "backgroundColor": "#123456"},
                "closeChat": {"color": "#ffffff", "backgroundColor": "#123456"},
            },
            "supportedMessagingContentTypes": ["text/plain", "text/markdown"],
        },
    }


def _source_hash() -> str:
    digest = hashlib.sha256()
    for name in BUILD_INPUTS:
        path = SPA_DIR / name
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            digest.update(str(file.relative_to(SPA_DIR)).encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()


def npm_executable() -> str:
    npm = shutil.which("npm")
    if npm is None:
        raise DevPageError("npm is needed to build the chat page (npm not found)")
    if not (SPA_DIR / "node_modules" / "vite").is_dir():
        raise DevPageError("run scripts/bootstrap node first (static_spa has no node_modules)")
    return npm


def build_development_page() -> Path:
    """Builds static_spa in development mode unless the last build is of the same sources."""
    wanted = _source_hash()
    if BUILD_STAMP.exists() and BUILD_STAMP.read_text(encoding="utf-8") == wanted:
        return BUILD_DIR
    vite_build("build:development")
    BUILD_STAMP.write_text(wanted, encoding="utf-8")
    return BUILD_DIR


def vite_build(script: str, *arguments: str) -> None:
    """`npm run SCRIPT -- ARGUMENTS --logLevel warn` in static_spa/ (a Vite build); its output only on failure."""
    result = subprocess.run(  # noqa: S603 - fixed program and arguments
        [npm_executable(), "run", "--silent", script, "--", *arguments, "--logLevel", "warn"],
        cwd=SPA_DIR,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT_SECONDS,
        check=False,
    )
    if result.returncode != 0:
        raise DevPageError(f"vite build failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")


def static_web_app_headers(config: Mapping[str, Any]) -> dict[str, str]:
    """The production headers for `config`: staticwebapp.base.json narrowed by the deploy hook's own command.

    Runs `csp.mjs CONFIG --write` on a copy of the base file, exactly as the predeploy hook does on
    dist/staticwebapp.config.json, so the browser tests run under the headers a deployment would send.
    """
    with tempfile.TemporaryDirectory(prefix="dev-page-") as folder:
        config_file = Path(folder) / "config.json"
        config_file.write_text(json.dumps(config), encoding="utf-8")
        target = Path(folder) / "staticwebapp.config.json"
        shutil.copyfile(STATIC_WEB_APP_BASE, target)
        narrow_static_web_app_config(config_file, target)
        return dict(json.loads(target.read_text(encoding="utf-8"))["globalHeaders"])


def narrow_static_web_app_config(config_file: Path, target: Path) -> None:
    """`csp.mjs CONFIG --write TARGET`: the deploy hook's own command, narrowing TARGET's policy to CONFIG's hosts."""
    node = shutil.which("node")
    if node is None:
        raise DevPageError("Node.js is needed to compute the page's Content-Security-Policy")
    result = subprocess.run(  # noqa: S603 - fixed program and arguments
        [node, str(SPA_DIR / "scripts" / "csp.mjs"), str(config_file), "--write", str(target)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    if result.returncode != 0:
        raise DevPageError(f"csp.mjs failed: {result.stderr.strip()[:500]}")


@dataclass
class PageServer:
    url: str
    port: int
    root: Path


def _handler(root: Path, config_body: bytes, headers: Mapping[str, str]) -> type[BaseHTTPRequestHandler]:
    resolved_root = root.resolve()

    class PageHandler(BaseHTTPRequestHandler):
        server_version = "connect-sso-dev-page"
        sys_version = ""

        def log_message(self, format: str, *args: Any) -> None:
            pass  # request lines would carry sign-in codes in query strings: keep them out of the terminal

        def do_HEAD(self) -> None:
            self._serve(send_body=False)

        def do_GET(self) -> None:
            self._serve(send_body=True)

        def _serve(self, *, send_body: bool) -> None:
            path = unquote(urlsplit(self.path).path)
            if path == "/config.json":
                self._send(HTTPStatus.OK, config_body, CONTENT_TYPES[".json"], send_body)
                return
            file = self._file_for(path)
            if file is None:
                self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain; charset=utf-8", send_body)
                return
            content_type = CONTENT_TYPES.get(file.suffix, "application/octet-stream")
            self._send(HTTPStatus.OK, file.read_bytes(), content_type, send_body)

        def _file_for(self, path: str) -> Path | None:
            candidate = (resolved_root / path.lstrip("/")).resolve()
            if not candidate.is_relative_to(resolved_root):
                return None
            if candidate.is_dir():
                candidate = candidate / "index.html"
            if candidate.is_file():
                return candidate
            # navigationFallback, as staticwebapp.base.json: extension-less paths get the page.
            return resolved_root / "index.html" if "." not in path.rsplit("/", 1)[-1] else None

        def _send(self, status: HTTPStatus, body: bytes, content_type: str, send_body: bool) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-cache")
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            if send_body:
                self.wfile.write(body)

    return PageHandler


@contextmanager
def serve_page(
    config: Mapping[str, Any] | bytes,
    *,
    port: int = 0,
    root: Path | None = None,
    headers: Mapping[str, str] | None = None,
    header_overrides: Mapping[str, str] | None = None,
) -> Iterator[PageServer]:
    """Serves the development build on http://localhost:<port>/ with `config` as config.json.

    `config` is a mapping (served as JSON, and used for the CSP) or raw bytes (tests of a broken config.json;
    the CSP then allows only the page itself). `headers` replaces the computed ones (regression tests of an
    older policy); `header_overrides` replace single headers (a broken deployment).
    """
    root = root or build_development_page()
    if isinstance(config, bytes):
        body, policy_source = config, development_config("https://localhost", "http://localhost/")
    else:
        body, policy_source = json.dumps(config, indent=2).encode(), config
    served_headers = dict(headers) if headers is not None else static_web_app_headers(policy_source)
    served_headers.update(header_overrides or {})
    server = ThreadingHTTPServer(("127.0.0.1", port), _handler(root, body, served_headers))
    with serving_in_background(server, "dev-page"):
        actual_port = server.server_address[1]
        # "localhost", not 127.0.0.1: the SPA's registered redirect URIs name localhost.
        yield PageServer(url=f"http://localhost:{actual_port}/", port=actual_port, root=root)
