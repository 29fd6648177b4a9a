"""The deployment's JSON and YAML files: they parse, and agree with main.bicep, the hooks and each other."""

from __future__ import annotations

import fnmatch
import json
import re
from pathlib import Path

import pytest
import yaml

from tests.infra.azure.bicep_model import INFRA_DIR, MAIN_BICEP, parse_file
from tests.support.iac_tools import REPO_ROOT

WORKFLOWS = REPO_ROOT / ".github" / "workflows"
_AZD_VARIABLE = re.compile(r"^\$\{[A-Z][A-Z0-9_]*(=[^}]*)?\}$")


def _load_yaml(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _parameters_file() -> dict:
    return json.loads((INFRA_DIR / "main.parameters.json").read_text(encoding="utf-8"))["parameters"]


def test_parameters_file_names_only_parameters_of_main_bicep():
    declared = parse_file(MAIN_BICEP)["parameters"]
    assert set(_parameters_file()) <= set(declared), set(_parameters_file()) - set(declared)


def test_every_parameter_without_a_default_is_supplied():
    declared = parse_file(MAIN_BICEP)["parameters"]
    required = {name for name, spec in declared.items() if spec.get("default") is None}
    assert required <= set(_parameters_file()), required - set(_parameters_file())


def test_parameter_values_come_from_the_azd_environment_not_from_the_file():
    for name, entry in _parameters_file().items():
        values = entry["value"].values() if isinstance(entry["value"], dict) else [entry["value"]]
        for value in values:
            assert _AZD_VARIABLE.match(value), f"{name}: {value!r} is a literal; map it from an azd variable"


def test_the_secure_parameter_has_an_empty_default_in_the_parameters_file():
    # An unset CONNECT_WIDGET_SECRET must mean "leave the stored key alone", never a placeholder value.
    assert _parameters_file()["connectWidgetSecret"] == {"value": "${CONNECT_WIDGET_SECRET=}"}


def test_json_files_parse():
    for path in (INFRA_DIR / "bicepconfig.json", INFRA_DIR / "abbreviations.json", INFRA_DIR / "main.parameters.json"):
        assert isinstance(json.loads(path.read_text(encoding="utf-8")), dict), path.name


def test_azure_yaml_declares_both_services_and_the_infra_path():
    azure = _load_yaml(REPO_ROOT / "azure.yaml")
    assert azure["infra"] == {"provider": "bicep", "path": "infra/azure", "module": "main"}
    assert (REPO_ROOT / azure["infra"]["path"] / f"{azure['infra']['module']}.bicep").is_file()
    api, web = azure["services"]["api"], azure["services"]["web"]
    assert (api["project"], api["language"], api["host"]) == (".", "python", "function")
    assert (web["project"], web["language"], web["host"], web["dist"]) == ("static_spa", "js", "staticwebapp", "dist")
    for required in ("function_app.py", "host.json", "requirements.txt"):
        assert required not in _funcignore_matches([required]), f"{required} would not be deployed"


def test_azure_yaml_service_names_match_the_bicep_tags():
    services = set(_load_yaml(REPO_ROOT / "azure.yaml")["services"])
    tagged = set()
    for path in (INFRA_DIR / "main.bicep", INFRA_DIR / "modules" / "function-app.bicep"):
        text = path.read_text(encoding="utf-8")
        tagged |= set(re.findall(r"'azd-service-name': '([a-z]+)'", text))
        tagged |= set(re.findall(r"param serviceName string = '([a-z]+)'", text))
    assert tagged == services


def _hook_commands() -> list[tuple[Path, str]]:
    """(working directory, command) of every hook in azure.yaml: service hooks run in the service's folder."""
    azure = _load_yaml(REPO_ROOT / "azure.yaml")
    found = [(REPO_ROOT, hook) for hook in azure.get("hooks", {}).values()]
    for service in azure["services"].values():
        found += [(REPO_ROOT / service["project"], hook) for hook in service.get("hooks", {}).values()]
    return [(cwd, hook[platform]["run"]) for cwd, hook in found for platform in ("posix", "windows")]


def test_hooks_run_scripts_that_exist_from_their_working_directory():
    commands = _hook_commands()
    assert len(commands) == 4
    for cwd, command in commands:
        scripts = [part for part in command.split() if part.endswith((".py", ".mjs"))]
        assert scripts, command
        for script in scripts:
            assert (cwd / script).resolve().is_file(), f"{command!r} from {cwd}"


def test_hooks_are_the_preprovision_check_and_the_web_predeploy_write():
    azure = _load_yaml(REPO_ROOT / "azure.yaml")
    assert set(azure["hooks"]) == {"preprovision"}
    assert azure["hooks"]["preprovision"]["posix"]["run"].endswith("--check")
    assert set(azure["services"]["web"]["hooks"]) == {"predeploy"}
    assert "--check" not in azure["services"]["web"]["hooks"]["predeploy"]["posix"]["run"]


def _funcignore_matches(paths: list[str]) -> set[str]:
    """Paths that .funcignore excludes (gitignore-style: a trailing / names a folder, * globs, no negation)."""
    patterns = [
        line.strip()
        for line in (REPO_ROOT / ".funcignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert not any(pattern.startswith("!") for pattern in patterns)
    excluded = set()
    for path in paths:
        parts = Path(path).parts
        for pattern in patterns:
            folder = pattern.endswith("/")
            name = pattern.rstrip("/")
            candidates = parts[:-1] if folder else parts
            if any(fnmatch.fnmatch(part, name) for part in candidates):
                excluded.add(path)
    return excluded


@pytest.mark.parametrize(
    "path",
    [
        "tests/test_function_app.py",
        "static_spa/index.html",
        "infra/azure/main.bicep",
        "docs/deploy.md",
        ".venv/bin/python",
        ".venv-iac/bin/checkov",
        "static_spa/node_modules/x/index.js",
        "bench/run.py",
        "tools/local_runner.py",
        "connect_sso_admin/doctor/cli.py",
        "local.settings.json",
        "shared/__pycache__/entra.cpython-311.pyc",
        ".azure/dev/.env",
    ],
)
def test_funcignore_leaves_out_what_the_function_does_not_run(path):
    assert _funcignore_matches([path]) == {path}


@pytest.mark.parametrize(
    "path", ["function_app.py", "host.json", "requirements.txt", "shared/entra.py", "shared/settings.py"]
)
def test_funcignore_keeps_what_the_function_runs(path):
    assert _funcignore_matches([path]) == set()


def test_tests_workflow_runs_the_suite_and_the_real_bicep_cli():
    workflow = _load_yaml(WORKFLOWS / "tests.yml")
    steps = [step.get("run", "") for job in workflow["jobs"].values() for step in job["steps"]]
    text = "\n".join(steps)
    assert "bash .ci/run" in text
    assert "az bicep build --file infra/azure/main.bicep" in text
    assert "az bicep lint" in text
    assert workflow["permissions"] == {"contents": "read"}


def test_deploy_workflow_uses_oidc_federation_and_no_stored_secret():
    text = (WORKFLOWS / "deploy.yml").read_text(encoding="utf-8")
    workflow = yaml.safe_load(text)
    assert workflow["permissions"] == {"id-token": "write", "contents": "read"}
    assert not re.search(r"\bsecrets\.\w", text), "federated sign-in needs no stored cloud secret"
    runs = "\n".join(step.get("run", "") for step in workflow["jobs"]["deploy"]["steps"])
    assert "--federated-credential-provider github" in runs
    assert "azd up --no-prompt" in runs
    env = workflow["jobs"]["deploy"]["env"]
    for name in (
        "AZURE_CLIENT_ID",
        "AZURE_TENANT_ID",
        "AZURE_SUBSCRIPTION_ID",
        "AZURE_ENV_NAME",
        "AZURE_LOCATION",
        "CONNECT_WIDGET_ID",
        "CONNECT_WIDGET_SCRIPT_URL",
        "CONNECT_SNIPPET_ID",
    ):
        assert env[name] == f"${{{{ vars.{name} }}}}"
