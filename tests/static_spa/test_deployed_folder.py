"""The folder azd deploys holds exactly one staticwebapp.config.json, and it is the narrowed one (issue 13 item 5).

azd deploys the web service with the Static Web Apps CLI from azure.yaml's `project` folder (static_spa/); the CLI
walks that whole folder for staticwebapp.config.json, skipping only names containing node_modules
(Azure/static-web-apps-cli, src/core/utils/user-config.ts, traverseFolder), and keeps the last one it finds. So a
copy of static_spa/ is built for production and for development (a developer's checkout has both), the web
service's real predeploy hook line from azure.yaml runs in it, and the folder is walked the way the CLI walks it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import yaml

from tests.infra.azure.hook_modules import SPA_HOOK_ENV as AZD_ENV
from tools.dev_page import SPA_DIR, npm_executable
from tools.paths import REPO_ROOT

SWA_CONFIG = "staticwebapp.config.json"
# Not part of the deployed page's sources: left out of the copy (node_modules is linked instead).
LEFT_OUT = shutil.ignore_patterns("node_modules", "dist", "dist-*", ".vite")


def web_service() -> dict:
    return yaml.safe_load((REPO_ROOT / "azure.yaml").read_text(encoding="utf-8"))["services"]["web"]


def swa_cli_config_files(folder: Path) -> list[Path]:
    """Every staticwebapp.config.json the Static Web Apps CLI would consider, in its walk order."""
    found: list[Path] = []
    for entry in sorted(folder.iterdir()):
        if "node_modules" in entry.name:
            continue
        if entry.is_dir():
            found += swa_cli_config_files(entry)
        elif entry.name == SWA_CONFIG:
            found.append(entry)
    return found


def run(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> None:
    subprocess.run(command, cwd=cwd, env=env, check=True, capture_output=True, timeout=180)


def test_the_deployed_folder_holds_one_staticwebapp_config_json_and_it_is_the_narrowed_one(tmp_path: Path) -> None:
    service = web_service()
    project = tmp_path / service["project"]
    shutil.copytree(SPA_DIR, project, ignore=LEFT_OUT)
    (project / "node_modules").symlink_to(SPA_DIR / "node_modules", target_is_directory=True)
    shutil.copytree(REPO_ROOT / "infra" / "azure" / "hooks", tmp_path / "infra" / "azure" / "hooks")
    assert swa_cli_config_files(project) == [], "the source must not be named staticwebapp.config.json"

    npm = npm_executable()
    run([npm, "run", "--silent", "build", "--", "--logLevel", "warn"], project)
    run([npm, "run", "--silent", "build:development", "--", "--logLevel", "warn"], project)
    hook = service["hooks"]["predeploy"]["posix"]
    env = {**os.environ, **AZD_ENV}
    run([hook["shell"], "-c", hook["run"]], project, env)

    found = swa_cli_config_files(project)
    deployed = project / service["dist"] / SWA_CONFIG
    assert found == [deployed]

    expected = json.loads(
        subprocess.run(
            ["node", str(project / "scripts" / "csp.mjs"), str(deployed.parent / "config.json"), "--headers"],
            check=True,
            capture_output=True,
            text=True,
            timeout=30,
        ).stdout
    )
    headers = json.loads(deployed.read_text(encoding="utf-8"))["globalHeaders"]
    assert headers["Content-Security-Policy"] == expected["Content-Security-Policy"]
    assert headers["Permissions-Policy"] == expected["Permissions-Policy"]
    assert "https://func-abc123.azurewebsites.net" in headers["Content-Security-Policy"]
    assert "*.azurewebsites.net" not in headers["Content-Security-Policy"]
    assert "*.cloudfront.net" not in headers["Content-Security-Policy"]
