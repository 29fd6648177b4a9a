"""The files users read and copy stay true to the code: settings example, requirements, error catalogue, README."""

from __future__ import annotations

import json
import re
from pathlib import Path

from shared.catalogue import SETTING_NAMES
from shared.settings import parse_settings
from shared.widget import WIDGET_SECRET_PREFIX, is_widget_secret_setting

ROOT = Path(__file__).resolve().parents[1]


def test_local_settings_example_documents_every_setting_with_working_values() -> None:
    example = json.loads((ROOT / "local.settings.json.example").read_text())
    values = example["Values"]
    assert set(SETTING_NAMES) <= set(values)
    assert all(isinstance(value, str) for value in values.values())
    settings = parse_settings(values)
    assert settings.widget.secret.reveal().startswith("fake-")
    assert example["Host"]["CORS"] == "http://localhost:5173,http://127.0.0.1:5173"  # both loopback spellings


def test_local_settings_example_shows_a_second_widget_whose_key_setting_it_names() -> None:
    values = json.loads((ROOT / "local.settings.json.example").read_text())["Values"]
    settings = parse_settings(values)
    extra = [widget for widget in settings.widgets.values() if widget.widget_id != settings.default_widget_id]
    assert len(extra) == 1 and extra[0].secret.reveal().startswith("fake-")
    key_settings = {name for name in values if is_widget_secret_setting(name)}
    named = {entry["secretSetting"] for entry in json.loads(values["CONNECT_WIDGETS"]).values()}
    assert key_settings == named  # no stale key setting, none missing


def test_requirements_hold_runtime_packages_only() -> None:
    runtime = {
        re.split(r"[\[=<>~ ]", line)[0].lower()
        for line in (ROOT / "requirements.txt").read_text().splitlines()
        if line and not line.startswith("#")
    }
    assert {"azure-functions", "python-jose", "requests", "azure-identity", "azure-appconfiguration"} <= runtime
    assert not runtime & {"pytest", "pyjwt", "ruff", "hypothesis", "playwright", "checkov", "cfn-lint"}
    # The worker brings the OpenTelemetry SDK with the Azure Monitor distro; the app pins only the API it imports.
    assert {"azure-monitor-opentelemetry", "opentelemetry-api"} <= runtime
    assert "opentelemetry-sdk" not in runtime
    assert "python-jose[cryptography]==3.5.0" in (ROOT / "requirements.txt").read_text()


def test_every_error_code_is_documented() -> None:
    source = "\n".join(path.read_text() for path in (ROOT / "shared").glob("*.py"))
    codes = set(re.findall(r'code(?:: str)? ?=\s*"([a-z_]+)"', source))
    assert len(codes) > 15
    documented = set(re.findall(r"^\| `([a-z_]+)` \|", (ROOT / "docs" / "errors.md").read_text(), re.M))
    assert codes == documented


def test_readme_describes_every_setting_and_both_quick_start_commands() -> None:
    # The settings table moved to docs/configuration.md (the README is the front door): one row per catalogue name.
    configuration = (ROOT / "docs" / "configuration.md").read_text()
    for name in SETTING_NAMES:
        assert f"`{name}`" in configuration, name
    rows = set(re.findall(r"^\| `([A-Za-z_<>]+)` \|", configuration, re.M))
    assert rows == {*SETTING_NAMES, f"{WIDGET_SECRET_PREFIX}<NAME>"}, rows ^ {*SETTING_NAMES}
    readme = (ROOT / "README.md").read_text()
    assert "scripts/run" in readme
    assert "scripts/test" in readme
    assert (ROOT / ".ci" / "run").read_text().count("scripts/test") == 1


def test_the_route_names_tools_and_tests_use_are_the_function_apps() -> None:
    from shared import routes

    host = json.loads((ROOT / "host.json").read_text())
    assert host["extensions"]["http"]["routePrefix"] == routes.ROUTE_PREFIX
    import function_app

    assert function_app.ROUTE == routes.CONTACT_TOKEN_ROUTE


def test_bootstrap_installs_every_npm_folder_the_repository_ships() -> None:
    # A fresh clone has no node_modules: a folder with a lockfile that bootstrap skips fails on first use there.
    bootstrap = (ROOT / "scripts" / "bootstrap").read_text(encoding="utf-8")
    loop = re.search(r"for dir in ([^;]+); do", bootstrap)
    assert loop is not None, "scripts/bootstrap's node step lists its folders in one `for dir in ...` loop"
    installed = set(loop.group(1).split())
    shipped = {
        lock.parent.relative_to(ROOT).as_posix()
        for lock in ROOT.rglob("package-lock.json")
        if "node_modules" not in lock.parts
    }
    assert shipped <= installed, f"scripts/bootstrap node does not install {sorted(shipped - installed)}"
