"""The preprovision check tying APP_CONFIG_REFRESH_SECONDS / APP_CONFIG_SECRET_REFRESH_SECONDS to the maximum
instance count and the App Configuration tier (infra/azure/hooks/scale_check.py, issue 22, item 12)."""

from __future__ import annotations

import pytest

from shared.settings import default_of
from tests.infra.azure.hook_modules import SPA_HOOK_ENV, load_hook

check = load_hook("scale_check")
spa_hook = load_hook("write_spa_config")


def test_the_defaults_pass_in_both_environment_types():
    assert check.scale_problems({}) == []
    assert check.scale_problems({"ENVIRONMENT_TYPE": "development"}) == []


def test_the_check_uses_the_function_defaults():
    assert str(check.DEFAULT_REFRESH_SECONDS) == default_of("APP_CONFIG_REFRESH_SECONDS")
    assert str(check.DEFAULT_SECRET_REFRESH_SECONDS) == default_of("APP_CONFIG_SECRET_REFRESH_SECONDS")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        # 1,000 x 3600 / 30 = 120,000 an hour, over 75 % of Standard's 30,000: I >= 160 s.
        ({"FUNCTION_MAXIMUM_INSTANCE_COUNT": "1000"}, "set APP_CONFIG_REFRESH_SECONDS to 160 or more"),
        # Developer tier (development default), 40 instances x 3600 / 30 = 4,800 > 4,500.
        ({"ENVIRONMENT_TYPE": "development", "FUNCTION_MAXIMUM_INSTANCE_COUNT": "40"}, "developer tier's 6,000"),
        ({"FUNCTION_MAXIMUM_INSTANCE_COUNT": "0"}, "FUNCTION_MAXIMUM_INSTANCE_COUNT must be a whole number from 1"),
        ({"APP_CONFIG_REFRESH_SECONDS": "soon"}, "APP_CONFIG_REFRESH_SECONDS must be a whole number"),
        ({"APP_CONFIG_SKU": "free"}, "APP_CONFIG_SKU must be standard or developer"),
        (
            {"APP_CONFIG_SKU": "developer", "APP_CONFIG_REPLICA_LOCATION": "northeurope"},
            "needs APP_CONFIG_SKU=standard",
        ),
    ],
)
def test_names_what_to_change(env, message):
    problems = check.scale_problems(env)
    assert any(message in problem for problem in problems), problems


def test_a_long_enough_interval_makes_a_large_fleet_pass():
    assert check.scale_problems({"FUNCTION_MAXIMUM_INSTANCE_COUNT": "1000", "APP_CONFIG_REFRESH_SECONDS": "160"}) == []


def test_the_preprovision_check_runs_it(capsys):
    code = spa_hook.main(["--check"], {**SPA_HOOK_ENV, "FUNCTION_MAXIMUM_INSTANCE_COUNT": "1000"})
    assert code == 1
    assert "set APP_CONFIG_REFRESH_SECONDS to 160 or more" in capsys.readouterr().err
