"""Locates the infrastructure linters that scripts/bootstrap installs into .venv-iac."""

import shutil
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


def iac_tool(name: str) -> str:
    """Path of an IaC linter (checkov, cfn-lint): .venv-iac first, then PATH; fails loudly when absent."""
    bundled = REPO_ROOT / ".venv-iac" / "bin" / name
    if bundled.exists():
        return str(bundled)
    found = shutil.which(name)
    if found:
        return found
    pytest.fail(f"{name} is not installed: run scripts/bootstrap iac")
