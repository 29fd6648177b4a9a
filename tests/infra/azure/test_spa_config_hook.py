"""The azd hook that writes the page's config.json from the deployment outputs (infra/azure/hooks).

The written file is also checked by the page's own validator (static_spa/src/config.js) under Node, so the two
sides of the config.json contract cannot drift apart.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from tests.infra.azure.bicep_model import MAIN_BICEP, parse_file
from tests.infra.azure.hook_modules import HOOKS_DIR, load_hook
from tests.infra.azure.hook_modules import SPA_HOOK_ENV as AZD_ENV
from tests.support.iac_tools import REPO_ROOT

HOOK_PATH = HOOKS_DIR / "write_spa_config.py"
SPA_CONFIG_MODULE = REPO_ROOT / "static_spa" / "src" / "config.js"
hook = load_hook("write_spa_config")


def test_builds_the_agreed_config_shape():
    assert hook.build_spa_config(AZD_ENV) == {
        "msal": {
            "clientId": AZD_ENV["ENTRA_SPA_CLIENT_ID"],
            "authority": AZD_ENV["SPA_AUTHORITY"],
            "apiScope": AZD_ENV["ENTRA_API_SCOPE"],
        },
        "api": {"contactTokenUrl": AZD_ENV["CONTACT_TOKEN_URL"]},
        "widget": {
            "scriptUrl": AZD_ENV["CONNECT_WIDGET_SCRIPT_URL"],
            "widgetId": AZD_ENV["CONNECT_WIDGET_ID"],
            "snippetId": AZD_ENV["CONNECT_SNIPPET_ID"],
            "modes": ["chat"],
            "styles": {
                "iconType": "CHAT",
                "openChat": {"color": "#ffffff", "backgroundColor": "#123456"},
                "closeChat": {"color": "#ffffff", "backgroundColor": "#123456"},
            },
            "supportedMessagingContentTypes": ["text/plain", "text/markdown"],
        },
    }


def test_reads_exactly_the_outputs_that_main_bicep_declares():
    outputs = set(parse_file(MAIN_BICEP)["outputs"])
    assert set(hook.DEPLOYMENT_OUTPUTS) <= outputs
    # The widget values come from the Connect console (azd env set), not from the deployment.
    assert outputs.isdisjoint(name for name, _ in hook.WIDGET_SETTINGS)
    assert parse_file(MAIN_BICEP)["outputs"]["CONTACT_TOKEN_URL"]["value"].endswith("/api/AWSConnectJWT")


def test_widget_colours_can_be_set():
    config = hook.build_spa_config(
        {**AZD_ENV, "CONNECT_WIDGET_COLOR": "#000000", "CONNECT_WIDGET_BACKGROUND_COLOR": "#a1b2c3"}
    )
    assert config["widget"]["styles"]["openChat"] == {"color": "#000000", "backgroundColor": "#a1b2c3"}


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("ENTRA_SPA_CLIENT_ID", "", "ENTRA_SPA_CLIENT_ID is not set: run `azd provision` first"),
        ("CONTACT_TOKEN_URL", "http://func.example.net/api/AWSConnectJWT", "CONTACT_TOKEN_URL must be an https URL"),
        ("ENTRA_API_SCOPE", "JWT.Read", "ENTRA_API_SCOPE must look like api://<api-client-id>/JWT.Read"),
        ("CONNECT_WIDGET_ID", "", "CONNECT_WIDGET_ID is not set: azd env set CONNECT_WIDGET_ID"),
        ("CONNECT_WIDGET_ID", "ZmFrZS1zbmlwcGV0", "CONNECT_WIDGET_ID must be a UUID"),
        ("CONNECT_WIDGET_SCRIPT_URL", "https://user:pw@x.cloudfront.net/a.js", "CONNECT_WIDGET_SCRIPT_URL must be"),
        ("CONNECT_SNIPPET_ID", "'quoted value'", "CONNECT_SNIPPET_ID must be the base64 snippetId"),
        ("CONNECT_WIDGET_BACKGROUND_COLOR", "blue", "CONNECT_WIDGET_BACKGROUND_COLOR must be a colour"),
        ("CONNECT_WIDGET_MODES", "chat,phone", "CONNECT_WIDGET_MODES must list chat, voice and/or video"),
        ("CONNECT_WIDGET_MODES", "voice,voice", "CONNECT_WIDGET_MODES must list chat, voice and/or video"),
    ],
)
def test_names_the_variable_to_fix(name, value, message):
    with pytest.raises(hook.SpaConfigError) as raised:
        hook.build_spa_config({**AZD_ENV, name: value})
    assert any(problem.startswith(message) for problem in raised.value.problems), raised.value.problems


def test_writes_config_json_into_the_build_folder(tmp_path):
    output = tmp_path / "dist" / "config.json"
    output.parent.mkdir()
    assert hook.main(["--output", str(output)], env=AZD_ENV) == 0
    assert json.loads(output.read_text(encoding="utf-8")) == hook.build_spa_config(AZD_ENV)
    assert [path.name for path in output.parent.iterdir()] == ["config.json"], "no temporary file left behind"


def test_refuses_without_a_build_folder_and_writes_nothing(tmp_path, capsys):
    output = tmp_path / "dist" / "config.json"
    assert hook.main(["--output", str(output)], env=AZD_ENV) == 1
    assert not output.parent.exists()
    assert "build the page first" in capsys.readouterr().err


def test_invalid_environment_writes_nothing(tmp_path, capsys):
    output = tmp_path / "config.json"
    assert hook.main(["--output", str(output)], env={**AZD_ENV, "CONNECT_WIDGET_ID": ""}) == 1
    assert not output.exists()
    assert "CONNECT_WIDGET_ID is not set" in capsys.readouterr().err


def test_check_mode_needs_only_the_widget_values(capsys):
    widget_only = {name: AZD_ENV[name] for name, _ in hook.WIDGET_SETTINGS}
    assert hook.main(["--check"], env=widget_only) == 0
    assert hook.main(["--check"], env={**widget_only, "CONNECT_SNIPPET_ID": ""}) == 1
    assert "CONNECT_SNIPPET_ID is not set" in capsys.readouterr().err


def test_runs_as_a_script_like_azd_does(tmp_path):
    output = tmp_path / "config.json"
    completed = subprocess.run(
        [sys.executable, str(HOOK_PATH), "--output", str(output)],
        env=AZD_ENV,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert json.loads(output.read_text(encoding="utf-8"))["msal"]["clientId"] == AZD_ENV["ENTRA_SPA_CLIENT_ID"]


@pytest.mark.skipif(not SPA_CONFIG_MODULE.exists() or shutil.which("node") is None, reason="page or Node absent")
@pytest.mark.parametrize(("modes", "expected"), [(None, ["chat"]), ("chat, video", ["chat", "video"])])
def test_the_widget_modes_reach_the_page(modes, expected):
    env = {**AZD_ENV, **({"CONNECT_WIDGET_MODES": modes} if modes else {})}
    assert hook.build_spa_config(env)["widget"]["modes"] == expected


@pytest.mark.parametrize("modes", [None, "chat,voice,video"])
def test_the_page_accepts_the_written_config(tmp_path, modes):
    output = tmp_path / "config.json"
    env = {**AZD_ENV, **({"CONNECT_WIDGET_MODES": modes} if modes else {})}
    output.write_text(json.dumps(hook.build_spa_config(env)), encoding="utf-8")
    script = (
        f"import {{ validateConfig }} from {json.dumps(SPA_CONFIG_MODULE.as_uri())};\n"
        "import { readFileSync } from 'node:fs';\n"
        "const config = validateConfig(JSON.parse(readFileSync(process.argv[1], 'utf8')));\n"
        "console.log(JSON.stringify(config));\n"
    )
    completed = subprocess.run(
        [shutil.which("node"), "--input-type=module", "-e", script, str(output)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    accepted = json.loads(completed.stdout)
    assert accepted["msal"]["apiScope"] == AZD_ENV["ENTRA_API_SCOPE"]
    assert accepted["widget"]["widgetId"] == AZD_ENV["CONNECT_WIDGET_ID"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"SPA_LOCAL_REDIRECT_URIS": "http://localhost:5173/"}, "registered only for development environments"),
        ({"ENVIRONMENT_TYPE": "staging"}, "ENVIRONMENT_TYPE must be production or development"),
        ({"CUSTOM_WEB_ORIGINS": "https://chat.contoso.com/page"}, "must be an https origin"),
        ({"CUSTOM_WEB_ORIGINS": "http://chat.contoso.com"}, "must be an https origin"),
        (
            {"ENVIRONMENT_TYPE": "development", "SPA_LOCAL_REDIRECT_URIS": "localhost:5173"},
            "must be an http(s) URL",
        ),
    ],
)
def test_check_mode_refuses_deployment_values_that_would_not_take_effect(extra, message, capsys):
    widget_only = {name: AZD_ENV[name] for name, _ in hook.WIDGET_SETTINGS}
    assert hook.main(["--check"], env={**widget_only, **extra}) == 1
    assert message in capsys.readouterr().err


def test_check_mode_accepts_development_redirects_and_custom_origins():
    widget_only = {name: AZD_ENV[name] for name, _ in hook.WIDGET_SETTINGS}
    development = {
        "ENVIRONMENT_TYPE": "development",
        "SPA_LOCAL_REDIRECT_URIS": "http://localhost:5173/, http://localhost:5173/redirect.html",
        "CUSTOM_WEB_ORIGINS": "https://chat.contoso.com,https://help.contoso.com/",
    }
    assert hook.main(["--check"], env={**widget_only, **development}) == 0


@pytest.mark.parametrize("value", ['{"a": 1}', "C:\\path", 'say "hi"'])
def test_check_mode_refuses_quotes_and_backslashes_in_values_azd_pastes_into_the_parameters_file(value, capsys):
    """azd substitutes main.parameters.json's `${NAME}` as text inside JSON: `"` or `\\` would break provisioning."""
    widget_only = {name: AZD_ENV[name] for name, _ in hook.WIDGET_SETTINGS}
    assert hook.main(["--check"], env={**widget_only, "ALERT_EMAIL_ADDRESSES": value}) == 1
    err = capsys.readouterr().err
    assert "ALERT_EMAIL_ADDRESSES must not contain" in err
    assert value not in err


def test_check_mode_lets_json_settings_through_the_hook_road(capsys):
    widget_only = {name: AZD_ENV[name] for name, _ in hook.WIDGET_SETTINGS}
    segment = '{"connect:Subtype": {"ValueString": "connect:Guide"}}'
    assert hook.main(["--check"], env={**widget_only, "CONNECT_SEGMENT_ATTRIBUTES": segment}) == 0


PAGE_CONFIG_CHECK = REPO_ROOT / "static_spa" / "scripts" / "check-config.mjs"


def _page_check(document: object) -> tuple[int, dict]:
    completed = subprocess.run(
        [shutil.which("node"), str(PAGE_CONFIG_CHECK)],
        input=json.dumps(document),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return completed.returncode, json.loads(completed.stdout)


@pytest.mark.parametrize(
    ("name", "value", "field"),
    [
        ("CONNECT_WIDGET_ID", "ZmFrZS1zbmlwcGV0", "widget.widgetId"),
        ("CONNECT_WIDGET_COLOR", "red", "widget.styles.openChat.color"),
        ("CONTACT_TOKEN_URL", "ftp://func.example.net/api/AWSConnectJWT", "api.contactTokenUrl"),
    ],
)
def test_the_hook_words_the_pages_own_rule_on_the_variable(name, value, field):
    """Issue 18 item 6: the rule and its words are static_spa/src/config.js's; the hook only names the variable."""
    env = {**AZD_ENV, name: value}
    code, answer = _page_check(hook.spa_config_document(env))
    assert code == 1 and not answer["ok"]
    message = next(problem["message"] for problem in answer["problems"] if problem["field"] == field)
    with pytest.raises(hook.SpaConfigError) as raised:
        hook.build_spa_config(env)
    assert raised.value.problems == (f"{name} {message}",), "one problem, though the colour fills two fields"


def test_a_rule_only_the_page_had_now_reaches_the_hook():
    """The page accepts plain http for a loopback function (the local stack); the old Python copy refused it."""
    config = hook.build_spa_config({**AZD_ENV, "CONTACT_TOKEN_URL": "http://localhost:7071/api/AWSConnectJWT"})
    assert config["api"]["contactTokenUrl"] == "http://localhost:7071/api/AWSConnectJWT"


def test_the_page_check_script_answers_in_json_and_exit_code():
    code, answer = _page_check(hook.spa_config_document(AZD_ENV))
    assert (code, answer["ok"]) == (0, True)
    assert answer["config"]["widget"]["modes"] == ["chat"]
    completed = subprocess.run(
        [shutil.which("node"), str(PAGE_CONFIG_CHECK)], input="{", capture_output=True, text=True, timeout=60
    )
    assert completed.returncode == 1
    assert json.loads(completed.stdout)["problems"] == [{"field": "config.json", "message": "is not valid JSON."}]


def test_without_node_the_hook_fails_closed_and_writes_nothing(tmp_path):
    output = tmp_path / "config.json"
    completed = subprocess.run(
        [sys.executable, str(HOOK_PATH), "--output", str(output)],
        env={**AZD_ENV, "PATH": str(tmp_path)},  # a PATH without node
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert completed.returncode == 1
    assert "node is not on PATH" in completed.stderr
    assert not output.exists()
