"""The azd hook scripts (infra/azure/hooks/*.py) imported as modules: they are scripts, not a package."""

from __future__ import annotations

import importlib.util
import sys
from functools import cache
from types import ModuleType

from tests.infra.azure.bicep_model import INFRA_DIR

HOOKS_DIR = INFRA_DIR / "hooks"


@cache
def load_hook(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"azd_hook_{name}", HOOKS_DIR / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # Registered before running: dataclasses look their module up in sys.modules.
    sys.modules[f"azd_hook_{name}"] = module
    spec.loader.exec_module(module)
    return module
