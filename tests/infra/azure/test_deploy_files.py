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
    assert len(commands) == 6
    for cwd, command in commands:
        scripts = [part for part in command.split() if part.endswith((".py", ".mjs"))]
        assert scripts, command
        for script in scripts:
            assert (cwd / script).resolve().is_file(), f"{command!r} from {cwd}"


def test_hooks_are_the_checks_the_app_configuration_write_and_the_web_predeploy_write():
    azure = _load_yaml(REPO_ROOT / "azure.yaml")
    assert set(azure["hooks"]) == {"preprovision", "postprovision"}
    assert azure["hooks"]["preprovision"]["posix"]["run"].endswith("--check")
    # Key-values are written after provisioning, with retries, not by ARM racing the deployer's new role.
    for platform in ("posix", "windows"):
        assert azure["hooks"]["postprovision"][platform]["run"].endswith("infra/azure/hooks/write_app_config.py")
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


def _deploy_workflow() -> tuple[str, dict]:
    text = (WORKFLOWS / "deploy.yml").read_text(encoding="utf-8")
    return text, yaml.safe_load(text)


def _deploy_runs() -> list[str]:
    return [step.get("run", "") for step in _deploy_workflow()[1]["jobs"]["deploy"]["steps"]]


def test_deploy_workflow_uses_oidc_federation_and_no_stored_secret():
    text, workflow = _deploy_workflow()
    assert workflow["permissions"] == {}
    deploy = workflow["jobs"]["deploy"]
    assert deploy["permissions"] == {"id-token": "write", "contents": "read"}
    assert not re.search(r"\bsecrets\.\w", text), "federated sign-in needs no stored cloud secret"
    runs = "\n".join(_deploy_runs())
    assert "--federated-credential-provider github" in runs
    assert "azd up --no-prompt" in runs
    env = deploy["env"]
    for name in ("AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_SUBSCRIPTION_ID", "AZURE_ENV_NAME", "AZURE_LOCATION"):
        assert env[name] == f"${{{{ vars.{name} }}}}"


def test_deploy_runs_only_after_the_test_suite_passed_and_in_a_github_environment():
    _, workflow = _deploy_workflow()
    assert workflow["jobs"]["tests"]["uses"] == "./.github/workflows/tests.yml"
    assert workflow["jobs"]["deploy"]["needs"] == "tests"
    assert workflow["jobs"]["deploy"]["environment"] == "azure"
    tests = _load_yaml(WORKFLOWS / "tests.yml")
    assert "workflow_call" in tests[True], "deploy.yml calls tests.yml"  # PyYAML reads `on:` as True
    assert tests[True]["push"] == {"branches-ignore": ["main"]}, "on main the suite runs inside deploy.yml"


def _parameter_variables() -> set[str]:
    names = set()
    for entry in _parameters_file().values():
        values = entry["value"].values() if isinstance(entry["value"], dict) else [entry["value"]]
        names |= {re.match(r"^\$\{([A-Z0-9_]+)", value).group(1) for value in values}
    return names


# Set by `azd pipeline config` itself (azd's own variables), or fixed by the workflow for the CI identity.
AZD_PIPELINE_VARIABLES = {
    "AZURE_ENV_NAME",
    "AZURE_LOCATION",
    "AZURE_CLIENT_ID",
    "AZURE_TENANT_ID",
    "AZURE_SUBSCRIPTION_ID",
}
WORKFLOW_LITERALS = {"AZURE_DEPLOYER_PRINCIPAL_TYPE": "ServicePrincipal"}
# Never through CI: a person sets the widget key in Key Vault (docs/deploy.md).
NEVER_IN_CI = {"CONNECT_WIDGET_SECRET"}


def test_every_operator_setting_is_declared_for_the_pipeline_and_mapped_in_the_workflow():
    """A CI run must provision with the operator's values, not the parameter defaults."""
    from tests.infra.azure.hook_modules import load_hook

    pipeline = _load_yaml(REPO_ROOT / "azure.yaml")["pipeline"]
    declared = set(pipeline["variables"]) | set(pipeline.get("secrets") or ())
    spa_hook = load_hook("write_spa_config")
    page_values = {name for name, _ in spa_hook.WIDGET_SETTINGS} | set(spa_hook.OPTIONAL_PAGE_SETTINGS)
    wanted = (_parameter_variables() | page_values | {"APP_CONFIG_SENTINEL_KEY"}) - NEVER_IN_CI
    assert wanted - AZD_PIPELINE_VARIABLES - set(WORKFLOW_LITERALS) <= declared, wanted - declared
    assert declared <= wanted, declared - wanted
    env = _deploy_workflow()[1]["jobs"]["deploy"]["env"]
    for name in wanted:
        expected = WORKFLOW_LITERALS.get(name, f"${{{{ vars.{name} }}}}")
        assert env.get(name) == expected, f"{name} is not mapped in deploy.yml"
    assert NEVER_IN_CI.isdisjoint(env) and NEVER_IN_CI.isdisjoint(declared)
    assert _parameters_file()["deployerPrincipalType"] == {"value": "${AZURE_DEPLOYER_PRINCIPAL_TYPE=User}"}


def test_the_pipeline_never_writes_app_registrations():
    """CI deploys with the existing registrations: a service principal cannot manage apps a person owns."""
    runs = _deploy_runs()
    guard = next(index for index, run in enumerate(runs) if "ENTRA_EXISTING_API_CLIENT_ID" in run)
    assert '[ -z "$ENTRA_EXISTING_API_CLIENT_ID" ] || [ -z "$ENTRA_EXISTING_SPA_CLIENT_ID" ]' in runs[guard]
    assert "exit 1" in runs[guard]
    assert guard < next(index for index, run in enumerate(runs) if "azd up" in run)
    main = parse_file(MAIN_BICEP)
    for flag, parameter in (("createApiApp", "existingApiClientId"), ("createSpaApp", "existingSpaClientId")):
        assert main["variables"][flag]["value"] == {
            "function": {"type": "empty", "parameters": {"item_to_test": parameter}}
        }


def test_the_hooks_take_tokens_from_azd_and_the_azure_cli_is_never_signed_in_with_a_github_assertion():
    """`az login --federated-token` keeps a GitHub assertion that expires after ~5 minutes (issue 22, item 2)."""
    runs = _deploy_runs()
    text = "\n".join(runs)
    assert "az login" not in text and "ACTIONS_ID_TOKEN_REQUEST" not in text
    login = next(index for index, run in enumerate(runs) if "azd auth login" in run)
    assert login < next(index for index, run in enumerate(runs) if "azd up" in run)


_USES = re.compile(r"^\s*(?:-\s+)?uses:\s*(\S+?)@(\S+)(?:\s+#\s*(v\S+))?\s*$", re.MULTILINE)


def _remote_actions() -> list[tuple[str, str, str, str]]:
    """(workflow, action, ref, tag in the comment) of every `uses:` that is not a local workflow."""
    found = []
    for path in sorted(WORKFLOWS.glob("*.yml")):
        for action, ref, tag in _USES.findall(path.read_text(encoding="utf-8")):
            if not action.startswith("./"):
                found.append((path.name, action, ref, tag))
    return found


def test_every_action_is_pinned_by_commit_with_its_tag_beside_it():
    actions = _remote_actions()
    assert len(actions) >= 5
    for workflow, action, ref, tag in actions:
        assert re.fullmatch(r"[0-9a-f]{40}", ref), f"{workflow}: {action}@{ref} is not pinned by commit"
        assert tag, f"{workflow}: {action} names no tag in a comment"


def test_docs_only_pushes_do_not_deploy():
    _, workflow = _deploy_workflow()
    assert workflow[True]["push"]["paths-ignore"] == ["docs/**", "**/*.md"]


def _node_major(version: str) -> int:
    return int(re.match(r"\D*(\d+)", version).group(1))


def test_workflows_use_a_maintained_node_lts():
    """Node 20 reaches end of life in April 2026; the actions themselves move to releases that run on Node 24."""
    minimum_action = {"actions/checkout": 5, "actions/setup-node": 5, "actions/setup-python": 6}
    for workflow, action, _, tag in _remote_actions():
        if action in minimum_action:
            assert _node_major(tag) >= minimum_action[action], f"{workflow}: {action} {tag}"
    seen = 0
    for path in sorted(WORKFLOWS.glob("*.yml")):
        workflow = _load_yaml(path)
        for job in workflow["jobs"].values():
            if "container" in job:
                assert _node_major(job["container"].split(":", 1)[1]) >= 22, path.name
                seen += 1
            for step in job.get("steps", []):
                if step.get("uses", "").startswith("actions/setup-node@"):
                    assert _node_major(str(step["with"]["node-version"])) >= 22, path.name
                    seen += 1
    assert seen == 2


def test_azure_yaml_states_the_azd_version_it_needs():
    required = _load_yaml(REPO_ROOT / "azure.yaml")["requiredVersions"]["azd"]
    match = re.fullmatch(r">= (\d+)\.(\d+)\.(\d+)", required)
    assert match and tuple(map(int, match.groups())) >= (1, 18, 0), required


def test_host_json_sends_request_telemetry():
    """The `requests` table is the Host.Results category at Information: filtering it above that drops every request."""
    host = json.loads((REPO_ROOT / "host.json").read_text(encoding="utf-8"))
    levels = ["Trace", "Debug", "Information", "Warning", "Error", "Critical", "None"]
    log_level = host["logging"]["logLevel"]
    effective = log_level.get("Host.Results", log_level.get("Host", log_level.get("default", "Information")))
    assert levels.index(effective) <= levels.index("Information"), effective
    # Requests are never sampled away (classic mode); in OpenTelemetry mode the host exports them as requests too.
    if host.get("telemetryMode") != "OpenTelemetry":
        excluded = host["logging"]["applicationInsights"]["samplingSettings"]["excludedTypes"].split(";")
        assert "Request" in excluded
    assert host["extensions"]["http"]["routePrefix"] == "api"


DEPLOY_DOC = REPO_ROOT / "docs" / "deploy.md"


def _doc_section(title: str) -> str:
    text = DEPLOY_DOC.read_text(encoding="utf-8")
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else None]


def test_deploy_doc_says_which_app_settings_every_provision_replaces():
    from tests.infra.azure.bicep_model import MODULES_DIR, app_settings, resources

    site = next(
        d for d in resources(parse_file(MODULES_DIR / "function-app.bicep")).values() if d.type == "Microsoft.Web/sites"
    )
    section = _doc_section("What each provision replaces")
    assert "overwritten" in section or "replaced as a whole" in section
    assert "App Configuration" in section
    for name in app_settings(site):
        prefix = re.match(r"^(AzureWebJobsStorage__|APPLICATIONINSIGHTS_)", name)
        shown = f"`{prefix.group(1)}*`" if prefix else f"`{name}`"
        assert shown in section, f"{name} is not in the doc's list of replaced app settings"


def test_deploy_doc_documents_every_azd_variable_of_the_parameters_file():
    text = DEPLOY_DOC.read_text(encoding="utf-8")
    for name in _parameter_variables() - {"CONNECT_WIDGET_SECRET"}:
        assert f"`{name}`" in text, f"{name} is not documented in docs/deploy.md"
    assert "`CONNECT_WIDGET_SECRET=... azd provision`" in text or "CONNECT_WIDGET_SECRET=" in text
