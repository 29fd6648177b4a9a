"""The azd hook scripts (infra/azure/hooks/*.py) imported as modules: they are scripts, not a package."""

from __future__ import annotations

import importlib.util
import sys
from functools import cache
from types import ModuleType

from tests.infra.azure.bicep_model import INFRA_DIR

HOOKS_DIR = INFRA_DIR / "hooks"
# What `azd provision` leaves in the azd environment (fake ids), plus the administrator's widget values: the
# input of the page-config hook, for its tests and for the test of the deployed folder.
SPA_HOOK_ENV = {
    "ENTRA_SPA_CLIENT_ID": "00000000-0000-0000-0000-000000000001",
    "SPA_AUTHORITY": "https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000",
    "ENTRA_API_SCOPE": "api://00000000-0000-0000-0000-000000000002/JWT.Read",
    "CONTACT_TOKEN_URL": "https://func-abc123.azurewebsites.net/api/AWSConnectJWT",
    "CONNECT_WIDGET_SCRIPT_URL": "https://example0000000.cloudfront.net/amazon-connect-chat-interface-client.js",
    "CONNECT_WIDGET_ID": "00000000-0000-0000-0000-000000000003",
    "CONNECT_SNIPPET_ID": "ZmFrZS1zbmlwcGV0LWlkLWZvci10ZXN0cw==",
}


@cache
def load_hook(name: str) -> ModuleType:
    # azd runs a hook as a script, with its folder first on sys.path: the hooks import their shared modules so.
    if str(HOOKS_DIR) not in sys.path:
        sys.path.insert(0, str(HOOKS_DIR))
    spec = importlib.util.spec_from_file_location(f"azd_hook_{name}", HOOKS_DIR / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # Registered before running: dataclasses look their module up in sys.modules.
    sys.modules[f"azd_hook_{name}"] = module
    spec.loader.exec_module(module)
    return module
