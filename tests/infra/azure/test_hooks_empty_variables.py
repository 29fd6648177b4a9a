"""Issue 22, item 1: a GitHub `vars.X` nobody defined reaches the job as "", and the hooks must read it as unset.

Every variable deploy.yml maps is set to the empty string, as on a first pipeline run with only the required
variables defined; then the three hooks run as azd runs them (separate processes). Before the fix the preprovision
check refused CONNECT_WIDGET_COLOR="" ("must be a colour"). Azure cannot be reached: the App Configuration write
goes to the loopback stand-ins with a fake `azd` (tests/infra/azure/test_app_config_hook.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import yaml

from tests.infra.azure.hook_modules import HOOKS_DIR, SPA_HOOK_ENV
from tests.infra.azure.test_app_config_hook import install_fake_azd, run_hook, stand_in_env
from tests.support.iac_tools import REPO_ROOT

SPA_HOOK = HOOKS_DIR / "write_spa_config.py"


def _empty_workflow_variables() -> dict[str, str]:
    workflow = yaml.safe_load((REPO_ROOT / ".github" / "workflows" / "deploy.yml").read_text(encoding="utf-8"))
    mapped = workflow["jobs"]["deploy"]["env"]
    variables = {name: "" for name, value in mapped.items() if "vars." in str(value)}
    assert "CONNECT_WIDGET_COLOR" in variables and "APP_CONFIG_SENTINEL_KEY" in variables
    return variables


def _run_spa_hook(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SPA_HOOK), *args],
        env={"PATH": os.environ["PATH"], **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_page_hooks_read_empty_workflow_variables_as_unset(tmp_path):
    env = {**_empty_workflow_variables(), **SPA_HOOK_ENV}

    check = _run_spa_hook(env, "--check")
    assert check.returncode == 0, check.stderr

    output = tmp_path / "config.json"
    written = _run_spa_hook(env, "--output", str(output))
    assert written.returncode == 0, written.stderr
    widget = json.loads(output.read_text(encoding="utf-8"))["widget"]
    assert widget["styles"]["openChat"] == {"color": "#ffffff", "backgroundColor": "#123456"}
    assert widget["modes"] == ["chat"]


def test_the_app_configuration_hook_reads_empty_workflow_variables_as_unset(tmp_path, azure):
    code, err, _ = run_hook(install_fake_azd(tmp_path / "bin"), {**_empty_workflow_variables(), **stand_in_env(azure)})

    assert code == 0, err
    assert ("connect-sso:sentinel", None) in azure.store.values, "an empty APP_CONFIG_SENTINEL_KEY is the default"
