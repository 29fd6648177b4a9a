"""Operations in the Bicep (modules/alerts.bicep, modules/workbook.bicep, modules/queries/*.kql), parsed with
pycep: an availability test on the real health answer, the alert rules the issue lists, each with a severity and
its runbook section, an action group fed by a parameter, a workbook, and every metric, span, attribute and table
a query names is one the function really emits (shared/telemetry.py)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from shared import telemetry
from shared.health import Readiness
from tests.infra.azure.bicep_model import (
    MAIN_BICEP,
    MODULES_DIR,
    app_settings,
    function_calls,
    modules,
    parse_file,
    references,
    resources,
)
from tests.support.iac_tools import REPO_ROOT

ALERTS = MODULES_DIR / "alerts.bicep"
WORKBOOK = MODULES_DIR / "workbook.bicep"
QUERIES = MODULES_DIR / "queries"
RUNBOOK = REPO_ROOT / "docs" / "operations.md"
# What the function emits to Application Insights: custom metrics, and spans (internal spans land in dependencies).
EMITTED_TABLES = {"customMetrics", "dependencies"}
_NAME = re.compile(r"connect_sso\.[a-z_]+(?:\.[a-z_]+)*")
_DIMENSION = re.compile(r"customDimensions(?:\.([A-Za-z_]+)|\[\"([^\"]+)\"\])")
_TABLE = re.compile(r"^(?:let \w+ = )?([A-Za-z]+)\s*$", re.M)


# Queries over the Log Analytics workspace itself (its own operation log), not over the function's telemetry.
WORKSPACE_QUERIES = {"alert-workspace-over-quota.kql"}


def kql_texts() -> dict[str, str]:
    return {path.name: path.read_text(encoding="utf-8") for path in sorted(QUERIES.glob("*.kql"))}


def function_kql_texts() -> dict[str, str]:
    return {name: text for name, text in kql_texts().items() if name not in WORKSPACE_QUERIES}


def unknown_names(text: str) -> set[str]:
    """connect_sso.* names in `text` that the code does not emit."""
    return set(_NAME.findall(text)) - set(telemetry.METRIC_NAMES) - set(telemetry.SPAN_NAMES)


def runbook_anchors() -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens."""
    headings = re.findall(r"^#{1,6} (.+)$", RUNBOOK.read_text(encoding="utf-8"), re.M)
    return {re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-") for heading in headings}


def alert_definitions() -> dict[str, dict[str, Any]]:
    """{alert name: {"severity", "description", ...}} for the metric alert and every log alert."""
    parsed = parse_file(ALERTS)
    found = {alert["name"]: alert for alert in parsed["variables"]["queryAlerts"]["value"]}
    metric_alert = resources(parsed)["availabilityAlert"]
    found["availability"] = {
        "severity": metric_alert.get("properties.severity"),
        "description": metric_alert.get("properties.description"),
    }
    return found


def test_main_wires_both_modules_to_application_insights_and_the_function():
    main_modules = modules(parse_file(MAIN_BICEP))
    alerts, workbook = main_modules["alerts"], main_modules["workbook"]
    assert alerts.type == "modules/alerts.bicep"
    assert workbook.type == "modules/workbook.bicep"
    for module in (alerts, workbook):
        assert "applicationInsightsName" in json.dumps(module.get("params.applicationInsightsName"))
        assert "monitoring" in json.dumps(module.get("params.applicationInsightsName"))
    assert "functionApp" in json.dumps(alerts.get("params.functionHostName"))
    assert alerts.get("params.alertEmailAddresses") == "alertEmailAddresses"
    assert parse_file(MAIN_BICEP)["parameters"]["alertEmailAddresses"]["default"] == ""


def test_the_alerts_are_the_ones_the_issue_lists_each_with_a_severity_and_its_runbook_section():
    alerts = alert_definitions()
    assert set(alerts) == {
        "availability",
        "server-errors",
        "unavailable",
        "signing-key-fetch-failures",
        "unauthorized-surge",
        "slow-contact-tokens",
        "chat-history-errors",
    }
    anchors = runbook_anchors()
    for name, alert in alerts.items():
        assert alert["severity"] in range(5), name
        sections = re.findall(r"\$\{runbook\}#([a-z0-9-]+)", alert["description"])
        assert sections, f"{name}: its description names no runbook section"
        assert set(sections) <= anchors, f"{name}: docs/operations.md has no section {sections}"
    assert parse_file(ALERTS)["variables"]["runbook"]["value"] == "docs/operations.md"


def test_every_log_alert_runs_a_query_file_and_notifies_the_action_group():
    parsed = parse_file(ALERTS)
    for alert in parsed["variables"]["queryAlerts"]["value"]:
        (load,) = [c for c in function_calls(alert["query"]) if c["type"] == "load_text_content"]
        assert load["parameters"]["file_path"] == f"queries/alert-{alert['name']}.kql"
    rules = resources(parsed)["logAlerts"]
    assert rules.type == "Microsoft.Insights/scheduledQueryRules"
    assert references(rules.get("properties.actions.actionGroups"), "actionGroup")
    assert references(rules.get("properties.scopes"), "applicationInsights")
    metric_alert = resources(parsed)["availabilityAlert"]
    assert references(metric_alert.get("properties.actions"), "actionGroup")
    assert references(metric_alert.get("properties.criteria.webTestId"), "availabilityTest")


def test_the_action_group_mails_exactly_the_addresses_of_the_parameter():
    parsed = parse_file(ALERTS)
    assert parsed["parameters"]["alertEmailAddresses"]["default"] == ""
    receivers = resources(parsed)["actionGroup"].get("properties.emailReceivers")
    assert receivers["loop_type"]["detail"]["array_name"] == "emails"
    assert receivers["config"]["emailAddress"] == "address"
    assert "alertEmailAddresses" in json.dumps(parsed["variables"]["emails"])


def test_the_availability_test_gets_the_health_endpoint_and_matches_its_real_ready_answer():
    test = resources(parse_file(ALERTS))["availabilityTest"]
    assert test.type == "Microsoft.Insights/webtests"
    assert test.get("kind") == test.get("properties.Kind") == "standard"
    assert test.get("properties.Request.RequestUrl") == "https://${functionHostName}/api/health"
    assert test.get("properties.Request.HttpVerb") == "GET"
    assert test.get("properties.ValidationRules.ExpectedHttpStatusCode") == 200
    match = test.get("properties.ValidationRules.ContentValidation.ContentMatch")
    ready = Readiness(checks={"configuration": "ok", "signingKeys": "ok"})
    assert match in ready.body
    assert match not in Readiness(("signing_keys_unavailable",), 6).body
    # Microsoft recommends 5 locations for alerting on 2 failures; development environments take 2 (cheaper).
    locations = parse_file(ALERTS)["variables"]["availabilityLocations"]["value"]["function"]["parameters"]
    assert len(locations["original_value"]) == 5
    assert locations["number_to_take"] == "availabilityLocationCount"
    assert json.dumps(modules(parse_file(MAIN_BICEP))["alerts"].get("params.availabilityLocationCount")) == json.dumps(
        {
            "operator": {
                "type": "conditional",
                "operands": {"condition": "isProduction", "true_value": 5, "false_value": 2},
            }
        }
    )


@pytest.mark.parametrize("name", sorted(function_kql_texts()))
def test_every_query_names_only_metrics_spans_attributes_and_tables_the_function_emits(name):
    text = function_kql_texts()[name]
    assert _NAME.search(text), f"{name} names none of the function's metrics or spans"
    assert unknown_names(text) == set(), name
    dimensions = {a or b for a, b in _DIMENSION.findall(text)}
    assert dimensions <= set(telemetry.ATTRIBUTE_NAMES), dimensions - set(telemetry.ATTRIBUTE_NAMES)
    code = "\n".join(line for line in text.splitlines() if not line.startswith("//"))
    assert set(_TABLE.findall(code)) <= EMITTED_TABLES, name


def test_the_name_check_catches_a_misspelt_metric():
    assert unknown_names('customMetrics | where name == "connect_sso.contact_token.request"') == {
        "connect_sso.contact_token.request"
    }
    assert unknown_names('customMetrics | where name == "connect_sso.signing_keys.fetches"') == set()


def test_every_query_file_is_loaded_by_a_module():
    loaded: set[str] = set()
    for path in (ALERTS, WORKBOOK):
        text = path.read_text(encoding="utf-8")
        loaded |= set(re.findall(r"loadTextContent\('queries/([\w-]+\.kql)'\)", text))
    assert loaded == set(kql_texts())


def test_the_workbook_shows_what_the_issue_asks_for():
    parsed = parse_file(WORKBOOK)
    panels = {panel["name"] for panel in parsed["variables"]["panels"]["value"]}
    assert panels == {
        "requests-by-outcome",
        "duration",
        "key-fetches",
        "configuration-loads",
        "instances",
        "top-refusals",
    }
    workbook = resources(parsed)["workbook"]
    assert workbook.type == "Microsoft.Insights/workbooks"
    assert references(workbook.get("properties.sourceId"), "applicationInsights")
    assert workbook.get("properties.category") == "workbook"
    assert workbook.get("properties.serializedData") == {
        "function": {"type": "string", "parameters": {"value_to_convert": "content"}}
    }


def test_the_function_app_turns_the_workers_opentelemetry_on():
    site = next(
        d for d in resources(parse_file(MODULES_DIR / "function-app.bicep")).values() if d.type == "Microsoft.Web/sites"
    )
    assert app_settings(site)["PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY"] == "true"
    assert json.loads((REPO_ROOT / "host.json").read_text(encoding="utf-8"))["telemetryMode"] == "OpenTelemetry"
    pins = (REPO_ROOT / "requirements.txt").read_text(encoding="utf-8")
    assert re.search(r"^azure-monitor-opentelemetry==\d", pins, re.M)
    assert re.search(r"^opentelemetry-api==\d", pins, re.M)


def test_the_daily_cap_cannot_blind_the_alerts_silently():
    """Issue 22, item 10: an alert on the workspace's over-quota event, and a 401 surge that never auto-resolves."""
    parsed = parse_file(ALERTS)
    over_quota = resources(parsed)["workspaceOverQuota"]
    assert over_quota.type == "Microsoft.Insights/scheduledQueryRules"
    assert references(over_quota.get("properties.scopes"), "logAnalyticsWorkspaceId")
    assert over_quota.get("properties.autoMitigate") is False
    assert references(over_quota.get("properties.actions.actionGroups"), "actionGroup")
    query = kql_texts()["alert-workspace-over-quota.kql"]
    assert "_LogOperation" in query and 'Detail contains "OverQuota"' in query
    assert "#log-analytics-daily-cap-reached" in over_quota.get("properties.description")
    assert "log-analytics-daily-cap-reached" in runbook_anchors()
    assert "logAnalyticsWorkspaceId" in json.dumps(modules(parse_file(MAIN_BICEP))["alerts"].get("params"))
    surge = alert_definitions()["unauthorized-surge"]
    assert surge["autoMitigate"] is False
    rules = resources(parsed)["logAlerts"]
    assert "autoMitigate" in json.dumps(rules.get("properties.autoMitigate"))


@pytest.mark.parametrize("name", ["alert-slow-contact-tokens.kql", "workbook-duration.kql"])
def test_duration_percentiles_weigh_sampled_spans_by_item_count(name):
    code = "\n".join(line for line in kql_texts()[name].splitlines() if not line.startswith("//"))
    assert "percentile(" not in code and "count()" not in code
    assert "percentilew(duration, itemCount," in code


def test_audit_logs_are_kept_longer_than_30_days():
    monitoring = parse_file(MODULES_DIR / "monitoring.bicep")
    table = resources(monitoring)["auditTable"]
    assert table.get("name") == "AzureDiagnostics"
    assert table.get("properties.retentionInDays") == "auditRetentionInDays"
    assert monitoring["parameters"]["auditRetentionInDays"]["default"] > 30
