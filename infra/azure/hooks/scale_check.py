"""The preprovision check that ties the App Configuration refresh intervals to the function's maximum instance count.

Every serving instance checks the sentinel key once per APP_CONFIG_REFRESH_SECONDS (I) and re-reads each Key Vault
reference once per APP_CONFIG_SECRET_REFRESH_SECONDS (S). At the instance ceiling N that is N x 3600 / I App
Configuration requests an hour, which must leave a quarter of the tier's hourly quota for reloads and instance
starts (docs/performance.md, "Scale, on paper"). Empty values are the defaults main.bicep derives.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from azd_env import env_value

# The function's defaults (shared/settings.py; a test keeps them equal) and the template's derived defaults.
DEFAULT_REFRESH_SECONDS = 30
DEFAULT_SECRET_REFRESH_SECONDS = 600
DEFAULT_MAXIMUM_INSTANCES = {"production": 10, "development": 5}
DEFAULT_SKU = {"production": "standard", "development": "developer"}
HOURLY_QUOTA = {"standard": 30_000, "developer": 6_000}  # App Configuration requests per store and hour
QUOTA_SHARE_FOR_CHECKS = 0.75  # the rest is for reloads after a sentinel bump and instance starts
# Key Vault: 4,000 secret reads per 10 seconds per vault (service limits), a far looser bound.
KEY_VAULT_HOURLY_LIMIT = 4_000 * 360


def _whole(env: Mapping[str, str], name: str, low: int, high: int, default: int, problems: list[str]) -> int:
    raw = env_value(env, name)
    if not raw:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        problems.append(f"{name} must be a whole number from {low} to {high}")
        return default
    return int(raw)


def scale_problems(env: Mapping[str, str]) -> list[str]:
    problems: list[str] = []
    kind = env_value(env, "ENVIRONMENT_TYPE", "production")
    kind = kind if kind in DEFAULT_SKU else "production"  # the page hook reports a bad ENVIRONMENT_TYPE
    ceiling = _whole(env, "FUNCTION_MAXIMUM_INSTANCE_COUNT", 1, 1000, DEFAULT_MAXIMUM_INSTANCES[kind], problems)
    _whole(env, "FUNCTION_ALWAYS_READY_INSTANCES", 0, 10, 0, problems)
    refresh = _whole(env, "APP_CONFIG_REFRESH_SECONDS", 1, 3600, DEFAULT_REFRESH_SECONDS, problems)
    secret_refresh = _whole(
        env, "APP_CONFIG_SECRET_REFRESH_SECONDS", 1, 86400, DEFAULT_SECRET_REFRESH_SECONDS, problems
    )
    sku = env_value(env, "APP_CONFIG_SKU", DEFAULT_SKU[kind])
    if sku not in HOURLY_QUOTA:
        problems.append("APP_CONFIG_SKU must be standard or developer")
        return problems
    if env_value(env, "APP_CONFIG_REPLICA_LOCATION") and sku != "standard":
        problems.append(
            "APP_CONFIG_REPLICA_LOCATION needs APP_CONFIG_SKU=standard (the developer tier has no replicas)"
        )
    budget = HOURLY_QUOTA[sku] * QUOTA_SHARE_FOR_CHECKS
    checks = ceiling * 3600 / refresh
    if checks > budget:
        needed = math.ceil(ceiling * 3600 / budget)
        problems.append(
            f"APP_CONFIG_REFRESH_SECONDS={refresh} at FUNCTION_MAXIMUM_INSTANCE_COUNT={ceiling} costs "
            f"{checks:,.0f} App Configuration requests an hour, over {QUOTA_SHARE_FOR_CHECKS:.0%} of the {sku} tier's "
            f"{HOURLY_QUOTA[sku]:,}: set APP_CONFIG_REFRESH_SECONDS to {needed} or more, lower the instance count, "
            "or use the standard tier (docs/performance.md)"
        )
    if ceiling * 3600 / secret_refresh > KEY_VAULT_HOURLY_LIMIT * QUOTA_SHARE_FOR_CHECKS:
        problems.append(
            f"APP_CONFIG_SECRET_REFRESH_SECONDS={secret_refresh} at FUNCTION_MAXIMUM_INSTANCE_COUNT={ceiling} would "
            "approach Key Vault's request limit: raise it (docs/performance.md)"
        )
    return problems
