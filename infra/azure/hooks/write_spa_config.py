"""azd hook: writes the page's run-time config (config.json) from the deployment's outputs.

azd passes its environment values (the Bicep outputs plus what `azd env set` stored) to hooks as environment
variables. `--check` (preprovision) only checks what an administrator sets by hand: the Amazon Connect widget
values copied from the Connect console, and the origins and redirect URIs of the deployment; the default mode
(the web service's predeploy hook) writes static_spa/dist/config.json, so nobody edits a deployed file by hand.
Nothing here is secret: the widget security key never reaches the page.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from urllib.parse import urlsplit

from azd_env import env_value
from scale_check import scale_problems

REPO_ROOT = Path(__file__).resolve().parents[3]
DEFAULT_OUTPUT = REPO_ROOT / "static_spa" / "dist" / "config.json"

_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_API_SCOPE = re.compile(r"^api://[^\s/]+/[^\s/]+$")
_SNIPPET_ID = re.compile(r"^[A-Za-z0-9+/=_-]+$")
_HEX_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")

WIDGET_SETTINGS: tuple[tuple[str, str], ...] = (
    ("CONNECT_WIDGET_SCRIPT_URL", "the widget script URL (https) from the Amazon Connect snippet"),
    ("CONNECT_WIDGET_ID", "the widget id (UUID): the 4th argument of the snippet's wrapper function"),
    ("CONNECT_SNIPPET_ID", "the snippetId value from the Amazon Connect snippet"),
)
DEPLOYMENT_OUTPUTS: tuple[str, ...] = (
    "ENTRA_SPA_CLIENT_ID",
    "SPA_AUTHORITY",
    "ENTRA_API_SCOPE",
    "CONTACT_TOKEN_URL",
)
DEFAULT_COLORS = {"CONNECT_WIDGET_COLOR": "#ffffff", "CONNECT_WIDGET_BACKGROUND_COLOR": "#123456"}
WIDGET_MODES = ("chat", "voice", "video")  # what the page's config.json `widget.modes` accepts (config.js)
OPTIONAL_PAGE_SETTINGS = (*DEFAULT_COLORS, "CONNECT_WIDGET_MODES")  # azd variables the page reads, with defaults


class SpaConfigError(Exception):
    """The azd environment lacks a value or holds an invalid one; each problem names the variable to fix."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(self.problems))


def _is_https_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme == "https" and bool(parts.hostname) and not parts.username and not parts.fragment


def widget_problems(env: Mapping[str, str]) -> list[str]:
    """Problems with the Amazon Connect widget values (empty list: all present and well formed)."""
    problems = [
        f"{name} is not set: azd env set {name} <{what}>" for name, what in WIDGET_SETTINGS if not env_value(env, name)
    ]
    script_url = env_value(env, "CONNECT_WIDGET_SCRIPT_URL")
    if script_url and not _is_https_url(script_url):
        problems.append("CONNECT_WIDGET_SCRIPT_URL must be an https URL without credentials or #fragment")
    widget_id = env_value(env, "CONNECT_WIDGET_ID")
    if widget_id and not _GUID.match(widget_id):
        problems.append("CONNECT_WIDGET_ID must be a UUID (the widget id, not the snippetId)")
    snippet_id = env_value(env, "CONNECT_SNIPPET_ID")
    if snippet_id and not _SNIPPET_ID.match(snippet_id):
        problems.append("CONNECT_SNIPPET_ID must be the base64 snippetId, without quotes or spaces")
    for name, default in DEFAULT_COLORS.items():
        if not _HEX_COLOR.match(env_value(env, name, default)):
            problems.append(f"{name} must be a colour like #1a2b3c")
    modes = widget_modes(env)
    if any(mode not in WIDGET_MODES for mode in modes) or len(set(modes)) != len(modes):
        problems.append("CONNECT_WIDGET_MODES must list chat, voice and/or video once each, comma-separated")
    return problems


def widget_modes(env: Mapping[str, str]) -> list[str]:
    """The widget's modes (CONNECT_WIDGET_MODES, e.g. `chat,voice`): they set the page's calling headers."""
    return _comma_list(env, "CONNECT_WIDGET_MODES") or ["chat"]


def _comma_list(env: Mapping[str, str], name: str) -> list[str]:
    return [item.strip() for item in env_value(env, name).split(",") if item.strip()]


def environment_problems(env: Mapping[str, str]) -> list[str]:
    """Problems with ENVIRONMENT_TYPE, CUSTOM_WEB_ORIGINS and SPA_LOCAL_REDIRECT_URIS (main.parameters.json)."""
    problems = []
    environment_type = env_value(env, "ENVIRONMENT_TYPE", "production")
    if environment_type not in {"production", "development"}:
        problems.append("ENVIRONMENT_TYPE must be production or development")
    for origin in _comma_list(env, "CUSTOM_WEB_ORIGINS"):
        parts = urlsplit(origin)
        if not _is_https_url(origin) or parts.path not in ("", "/") or parts.query:
            problems.append(f"CUSTOM_WEB_ORIGINS: {origin!r} must be an https origin such as https://chat.contoso.com")
    local = _comma_list(env, "SPA_LOCAL_REDIRECT_URIS")
    if local and environment_type == "production":
        # Bicep ignores them in production; saying so beats a silently missing redirect URI.
        problems.append(
            "SPA_LOCAL_REDIRECT_URIS is set, but local redirect URIs are registered only for development "
            "environments: azd env set ENVIRONMENT_TYPE development, or unset SPA_LOCAL_REDIRECT_URIS"
        )
    for uri in local:
        if urlsplit(uri).scheme not in {"http", "https"} or not urlsplit(uri).hostname:
            problems.append(f"SPA_LOCAL_REDIRECT_URIS: {uri!r} must be an http(s) URL")
    return problems


def _deployment_problems(env: Mapping[str, str]) -> list[str]:
    problems = [
        f"{name} is not set: run `azd provision` first (it is a deployment output)"
        for name in DEPLOYMENT_OUTPUTS
        if not env_value(env, name)
    ]
    client_id = env_value(env, "ENTRA_SPA_CLIENT_ID")
    if client_id and not _GUID.match(client_id):
        problems.append("ENTRA_SPA_CLIENT_ID must be a GUID")
    scope = env_value(env, "ENTRA_API_SCOPE")
    if scope and not _API_SCOPE.match(scope):
        problems.append("ENTRA_API_SCOPE must look like api://<api-client-id>/JWT.Read")
    for name in ("SPA_AUTHORITY", "CONTACT_TOKEN_URL"):
        value = env_value(env, name)
        if value and not _is_https_url(value):
            problems.append(f"{name} must be an https URL")
    return problems


def build_spa_config(env: Mapping[str, str]) -> dict[str, object]:
    """The config.json document for the page, or SpaConfigError listing every missing or invalid value."""
    problems = _deployment_problems(env) + widget_problems(env)
    if problems:
        raise SpaConfigError(problems)
    button = {
        "color": env_value(env, "CONNECT_WIDGET_COLOR", DEFAULT_COLORS["CONNECT_WIDGET_COLOR"]),
        "backgroundColor": env_value(
            env, "CONNECT_WIDGET_BACKGROUND_COLOR", DEFAULT_COLORS["CONNECT_WIDGET_BACKGROUND_COLOR"]
        ),
    }
    return {
        "msal": {
            "clientId": env_value(env, "ENTRA_SPA_CLIENT_ID"),
            "authority": env_value(env, "SPA_AUTHORITY"),
            "apiScope": env_value(env, "ENTRA_API_SCOPE"),
        },
        "api": {"contactTokenUrl": env_value(env, "CONTACT_TOKEN_URL")},
        "widget": {
            "scriptUrl": env_value(env, "CONNECT_WIDGET_SCRIPT_URL"),
            "widgetId": env_value(env, "CONNECT_WIDGET_ID"),
            "snippetId": env_value(env, "CONNECT_SNIPPET_ID"),
            "modes": widget_modes(env),
            "styles": {"iconType": "CHAT", "openChat": dict(button), "closeChat": dict(button)},
            "supportedMessagingContentTypes": ["text/plain", "text/markdown"],
        },
    }


def write_spa_config(config: Mapping[str, object], output: Path) -> None:
    """Writes config.json into an existing build folder, atomically (a half-written file would break the page)."""
    if not output.parent.is_dir():
        raise SpaConfigError([f"{output.parent} does not exist: build the page first (npm run build in static_spa)"])
    text = json.dumps(config, indent=2) + "\n"
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=output.parent, delete=False, suffix=".tmp") as tmp:
        tmp.write(text)
    Path(tmp.name).replace(output)


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check the values set by hand (preprovision)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="where to write config.json")
    args = parser.parse_args(argv)
    values = os.environ if env is None else env
    try:
        if args.check:
            problems = widget_problems(values) + environment_problems(values) + scale_problems(values)
            if problems:
                raise SpaConfigError(problems)
            print("spa config: Amazon Connect widget and deployment values look right", file=sys.stderr)
        else:
            write_spa_config(build_spa_config(values), args.output)
            print(f"spa config: wrote {args.output}", file=sys.stderr)
    except SpaConfigError as error:
        for problem in error.problems:
            print(f"spa config: {problem}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
