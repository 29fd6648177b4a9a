"""Flex Consumption tuned for chat (docs/deploy.md): one always-ready HTTP instance, 16 requests per instance with
as many worker threads, the instance memory and maximum instance count as parameters of main.bicep."""

from __future__ import annotations

import json

from tests.infra.azure.bicep_model import (
    INFRA_DIR,
    MAIN_BICEP,
    MODULES_DIR,
    app_settings,
    modules,
    parse_file,
    resources,
)

# main.bicep parameter -> (function-app.bicep parameter, default)
FLEX_PARAMETERS = {
    "functionHttpPerInstanceConcurrency": ("httpPerInstanceConcurrency", 16),
    "functionInstanceMemoryMB": ("instanceMemoryMB", 2048),
}
# main.bicep parameter (text, empty: derived) -> (main.bicep variable, function-app.bicep parameter, production,
# development): development environments derive cheaper defaults (issue 22, items 8 and 12).
DERIVED_FLEX_PARAMETERS = {
    "functionMaximumInstanceCount": ("maximumInstanceCount", "maximumInstanceCount", 10, 5),
    "functionAlwaysReadyInstances": ("alwaysReadyInstances", "alwaysReadyInstanceCount", 1, 0),
}


def _site():
    parsed = parse_file(MODULES_DIR / "function-app.bicep")
    return next(d for d in resources(parsed).values() if d.type == "Microsoft.Web/sites")


def test_scale_and_concurrency_use_the_parameters() -> None:
    scale = _site().get("properties.functionAppConfig.scaleAndConcurrency")
    assert scale["alwaysReady"] == [{"name": "http", "instanceCount": "alwaysReadyInstanceCount"}]
    assert scale["triggers"] == {"http": {"perInstanceConcurrency": "httpPerInstanceConcurrency"}}
    assert scale["maximumInstanceCount"] == "maximumInstanceCount"
    assert scale["instanceMemoryMB"] == "instanceMemoryMB"


def test_worker_threads_match_the_http_concurrency() -> None:
    setting = app_settings(_site())["PYTHON_THREADPOOL_THREAD_COUNT"]
    assert setting == {"function": {"type": "string", "parameters": {"value_to_convert": "httpPerInstanceConcurrency"}}}


def test_main_passes_each_flex_parameter_with_its_documented_default() -> None:
    main = parse_file(MAIN_BICEP)
    module = parse_file(MODULES_DIR / "function-app.bicep")
    function_app = modules(main)["functionApp"]
    mapped = json.loads((INFRA_DIR / "main.parameters.json").read_text(encoding="utf-8"))["parameters"]
    deploy_doc = (INFRA_DIR.parents[1] / "docs" / "deploy.md").read_text(encoding="utf-8")
    for main_name, (module_name, default) in FLEX_PARAMETERS.items():
        assert function_app.get(f"params.{module_name}") == main_name
        assert main["parameters"][main_name]["default"] == default
        assert module["parameters"][module_name]["default"] == default
        assert mapped[main_name]["value"].endswith(f"={default}}}"), main_name
        assert f"`{main_name}`" in deploy_doc, main_name


def test_derived_flex_parameters_default_by_environment_type() -> None:
    main = parse_file(MAIN_BICEP)
    module = parse_file(MODULES_DIR / "function-app.bicep")
    function_app = modules(main)["functionApp"]
    mapped = json.loads((INFRA_DIR / "main.parameters.json").read_text(encoding="utf-8"))["parameters"]
    deploy_doc = (INFRA_DIR.parents[1] / "docs" / "deploy.md").read_text(encoding="utf-8")
    for main_name, (variable, module_name, production, development) in DERIVED_FLEX_PARAMETERS.items():
        assert main["parameters"][main_name]["default"] == ""
        assert mapped[main_name]["value"].endswith("=}"), main_name
        assert function_app.get(f"params.{module_name}") == variable
        derived = json.dumps(main["variables"][variable]["value"])
        assert f'"true_value": {production}, "false_value": {development}' in derived, derived
        assert f"`{main_name}`" in deploy_doc, main_name
    assert module["parameters"]["maximumInstanceCount"]["default"] == 10


def test_the_maximum_instance_count_may_go_down_to_the_platform_minimum_of_one() -> None:
    """Flex's lowest maximum is 1 (always-ready instances do not count); 40 x 2 GB instances could bill in a flood."""
    decorators = parse_file(MODULES_DIR / "function-app.bicep")["parameters"]["maximumInstanceCount"]["decorators"]
    assert {"type": "min_value", "argument": 1} in decorators, decorators
