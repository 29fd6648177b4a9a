"""azd hook: writes the page's run-time config (config.json) from the deployment's outputs.

azd passes its environment values (the Bicep outputs plus what `azd env set` stored) to hooks as environment
variables. `--check` (preprovision) only checks what an administrator sets by hand: the Amazon Connect widget
values copied from the Connect console, the origins and redirect URIs of the deployment, and that no value azd
pastes into main.parameters.json holds a quote or a backslash; the default mode
(the web service's predeploy hook) writes static_spa/dist/config.json, so nobody edits a deployed file by hand.
Nothing here is secret: the widget security key never reaches the page.

This hook only reads the azd environment and builds the document; whether the document is right is the page's
own rule (static_spa/src/config.js), run with Node through static_spa/scripts/check-config.mjs as the doctor
runs it. Each problem is then worded for the azd variable that fills the field.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from azd_env import env_value
from scale_check import scale_problems

REPO_ROOT = Path(__file__).resolve().parents[3]
DEFAULT_OUTPUT = REPO_ROOT / "static_spa" / "dist" / "config.json"
PAGE_CONFIG_CHECK = REPO_ROOT / "static_spa" / "scripts" / "check-config.mjs"
NODE_TIMEOUT_SECONDS = 60
PARAMETERS_FILE = REPO_ROOT / "infra" / "azure" / "main.parameters.json"
_PARAMETER_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)")

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
OPTIONAL_PAGE_SETTINGS = (*DEFAULT_COLORS, "CONNECT_WIDGET_MODES")  # azd variables the page reads, with defaults
# Which azd variable fills each config.json field build_spa_config writes: a problem config.js reports on a field is
# reported on its variable. A field missing here is the hook's own doing and is reported by its config.json name.
FIELD_SOURCES: Mapping[str, str] = {
    "msal.clientId": "ENTRA_SPA_CLIENT_ID",
    "msal.authority": "SPA_AUTHORITY",
    "msal.apiScope": "ENTRA_API_SCOPE",
    "api.contactTokenUrl": "CONTACT_TOKEN_URL",
    "widget.scriptUrl": "CONNECT_WIDGET_SCRIPT_URL",
    "widget.widgetId": "CONNECT_WIDGET_ID",
    "widget.snippetId": "CONNECT_SNIPPET_ID",
    "widget.modes": "CONNECT_WIDGET_MODES",
    "widget.styles.openChat.color": "CONNECT_WIDGET_COLOR",
    "widget.styles.closeChat.color": "CONNECT_WIDGET_COLOR",
    "widget.styles.openChat.backgroundColor": "CONNECT_WIDGET_BACKGROUND_COLOR",
    "widget.styles.closeChat.backgroundColor": "CONNECT_WIDGET_BACKGROUND_COLOR",
}


class SpaConfigError(Exception):
    """The azd environment lacks a value or holds an invalid one; each problem names the variable to fix."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(self.problems))


def _is_https_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme == "https" and bool(parts.hostname) and not parts.username and not parts.fragment


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


def parameter_file_problems(env: Mapping[str, str], parameters_file: Path = PARAMETERS_FILE) -> list[str]:
    """azd pastes each `${NAME}` of main.parameters.json into the file as text inside JSON, so a `"` or `\\` in
    one of those values breaks provisioning. JSON-valued settings go through the postprovision hook instead."""
    names = sorted(set(_PARAMETER_VARIABLE.findall(parameters_file.read_text(encoding="utf-8"))))
    return [
        f"{name} must not contain '\"' or '\\': azd pastes it into main.parameters.json as text"
        for name in names
        if any(character in env.get(name, "") for character in '"\\')
    ]


def page_verdict(config: Mapping[str, object]) -> tuple[dict[str, Any] | None, list[dict[str, str]]]:
    """What the page's own validator (static_spa/src/config.js) says of ``config``: (the page's normalised reading,
    []) or (None, [{field, message}, ...])."""
    node = shutil.which("node")
    if node is None:
        raise SpaConfigError(
            [
                "node is not on PATH: the page's config.json rules (static_spa/src/config.js) run with Node.js, "
                "which building the page needs too"
            ]
        )
    try:
        completed = subprocess.run(  # noqa: S603 - fixed program and arguments
            [node, str(PAGE_CONFIG_CHECK)],
            input=json.dumps(config),
            capture_output=True,
            text=True,
            timeout=NODE_TIMEOUT_SECONDS,
            check=False,
        )
        answer = json.loads(completed.stdout)
    except subprocess.TimeoutExpired:
        raise SpaConfigError([f"{PAGE_CONFIG_CHECK.name} gave no answer in {NODE_TIMEOUT_SECONDS} s"]) from None
    except ValueError:
        raise SpaConfigError([f"{PAGE_CONFIG_CHECK.name} failed: {completed.stderr.strip()[-300:]}"]) from None
    return (answer["config"], []) if answer["ok"] else (None, list(answer["problems"]))


def _how_to_set(name: str) -> str:
    if name in DEPLOYMENT_OUTPUTS:
        return "run `azd provision` first (it is a deployment output)"
    what = dict(WIDGET_SETTINGS).get(name, "value")
    return f"azd env set {name} <{what}>"


def _variable_problems(
    env: Mapping[str, str], problems: Sequence[Mapping[str, str]], ignored: Sequence[str] = ()
) -> list[str]:
    """config.js's problems, each on the azd variable that fills its field (once, though it may fill two), but
    those on the ``ignored`` variables."""
    worded: list[str] = []
    for problem in problems:
        name = FIELD_SOURCES.get(problem["field"])
        if name in ignored:
            continue
        if name is None:
            text = f"config.json {problem['field']} {problem['message']}"
        elif not env_value(env, name):
            text = f"{name} is not set: {_how_to_set(name)}"
        else:
            text = f"{name} {problem['message']}"
        if text not in worded:
            worded.append(text)
    return worded


def widget_problems(env: Mapping[str, str]) -> list[str]:
    """Problems with the values an administrator sets (widget values, colours, modes), before the deployment
    exists: the page's rules on the document, less the fields that deployment outputs fill."""
    return _variable_problems(env, page_verdict(spa_config_document(env))[1], ignored=DEPLOYMENT_OUTPUTS)


def build_spa_config(env: Mapping[str, str]) -> dict[str, object]:
    """The config.json document for the page, or SpaConfigError listing every missing or invalid value."""
    config = spa_config_document(env)
    accepted, problems = page_verdict(config)
    if accepted is None:
        raise SpaConfigError(_variable_problems(env, problems))
    # Written out even when CONNECT_WIDGET_MODES is unset, as the page reads it: its default is the page's rule.
    return spa_config_document(env, modes=accepted["widget"]["modes"])


def spa_config_document(env: Mapping[str, str], modes: Sequence[str] = ()) -> dict[str, object]:
    """The config.json document from the azd environment, unchecked (an unset value is an empty text; unset
    CONNECT_WIDGET_MODES leaves `widget.modes` out, for the page's default, unless ``modes`` gives them)."""
    modes = _comma_list(env, "CONNECT_WIDGET_MODES") or list(modes)
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
            **({"modes": modes} if modes else {}),
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
            problems = (
                widget_problems(values)
                + environment_problems(values)
                + scale_problems(values)
                + parameter_file_problems(values)
            )
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
