"""The Bicep files as data: pycep-parser's JSON form, with helpers to find resources, modules and references.

pycep keeps literals and identifiers alike as plain strings (`'UserAssigned'` and a variable named `tags` both
become "UserAssigned" / "tags"), keeps quoted object keys with their quotes, and nests a conditional resource's
body under {"condition": ..., "config": ...}. The helpers below hide those details from the tests.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from pycep import BicepParser

from tests.support.iac_tools import REPO_ROOT

INFRA_DIR = REPO_ROOT / "infra" / "azure"
MAIN_BICEP = INFRA_DIR / "main.bicep"
MODULES_DIR = INFRA_DIR / "modules"
_GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def bicep_files(root: Path = INFRA_DIR) -> list[Path]:
    return sorted(root.rglob("*.bicep"))


@cache
def _parser() -> BicepParser:
    return BicepParser()


def parse_text(text: str) -> dict[str, Any]:
    return _parser().parse(text=text)


@cache
def parse_file(path: Path) -> dict[str, Any]:
    return _parser().parse(text=path.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Declaration:
    """A resource or module: its symbolic name, type, body (unwrapped from a condition) and condition."""

    symbol: str
    type: str
    body: dict[str, Any]
    condition: Any = None
    existing: bool = False

    def get(self, dotted: str, default: Any = None) -> Any:
        return get_path(self.body, dotted, default)


def _unwrap(config: Any) -> tuple[dict[str, Any], Any]:
    if isinstance(config, dict) and set(config) == {"condition", "config"}:
        return config["config"], config["condition"]
    if isinstance(config, dict) and "loop_type" in config:  # [for ...: {...}]
        inner = config.get("config", {})
        return (inner if isinstance(inner, dict) else {}), None
    return config, None


def resources(parsed: dict[str, Any]) -> dict[str, Declaration]:
    found = {}
    for symbol, raw in (parsed.get("resources") or {}).items():
        body, condition = _unwrap(raw["config"])
        found[symbol] = Declaration(symbol, raw["type"], body, condition, bool(raw.get("existing")))
    return found


def modules(parsed: dict[str, Any]) -> dict[str, Declaration]:
    found = {}
    for symbol, raw in (parsed.get("modules") or {}).items():
        body, condition = _unwrap(raw["config"])
        found[symbol] = Declaration(symbol, raw["detail"]["path"], body, condition)
    return found


def resources_of_type(resource_type: str, root: Path = INFRA_DIR) -> list[tuple[Path, Declaration]]:
    return [
        (path, declaration)
        for path in bicep_files(root)
        for declaration in resources(parse_file(path)).values()
        if declaration.type == resource_type
    ]


def only_resource_of_type(resource_type: str, root: Path = INFRA_DIR) -> Declaration:
    found = resources_of_type(resource_type, root)
    assert len(found) == 1, f"expected one {resource_type}, found {[str(path) for path, _ in found]}"
    return found[0][1]


def get_path(node: Any, dotted: str, default: Any = None) -> Any:
    """node['a']['b'] for 'a.b'; quoted keys ('azd-env-name') match with or without their quotes."""
    for key in dotted.split("."):
        if not isinstance(node, dict):
            return default
        if key in node:
            node = node[key]
        elif f"'{key}'" in node:
            node = node[f"'{key}'"]
        else:
            return default
    return node


def strings_in(node: Any) -> Iterator[str]:
    """Every string anywhere in a parsed value (identifiers, literals, interpolations)."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from strings_in(key)
            yield from strings_in(value)
    elif isinstance(node, list):
        for item in node:
            yield from strings_in(item)


def function_calls(node: Any) -> Iterator[dict[str, Any]]:
    """Every function call ({"type": name, "parameters": ...}) anywhere in a parsed value."""
    if isinstance(node, dict):
        if set(node) == {"function"} and isinstance(node["function"], dict):
            yield node["function"]
        for value in node.values():
            yield from function_calls(value)
    elif isinstance(node, list):
        for item in node:
            yield from function_calls(item)


def called_names(node: Any) -> set[str]:
    """Names of functions called anywhere in a value, plain (`concat(...)`) or on a symbol (`x.listKeys()`)."""
    names = {call["type"] for call in function_calls(node)}
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if item.get("type") == "function_accessor":
                names.add(item["operands"]["func_name"])
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return names


def references(node: Any, identifier: str) -> bool:
    """Whether a parsed value mentions an identifier, bare or inside a ${...} interpolation."""
    pattern = re.compile(rf"(^|\$\{{|[^A-Za-z0-9_.]){re.escape(identifier)}($|[^A-Za-z0-9_])")
    return any(value == identifier or pattern.search(value) for value in strings_in(node))


def guids_in(node: Any) -> set[str]:
    return {match.lower() for value in strings_in(node) for match in _GUID.findall(value.lower())}


def secure_parameters(parsed: dict[str, Any]) -> set[str]:
    return {
        name
        for name, spec in (parsed.get("parameters") or {}).items()
        if any(decorator.get("type") == "secure" for decorator in spec.get("decorators") or ())
    }


def app_settings(site: Declaration) -> dict[str, Any]:
    """siteConfig.appSettings of a Microsoft.Web/sites resource as {name: value}: the literal list, or the literal
    lists of a concat() (the conditional parts, held in variables, are left out)."""
    entries = site.get("properties.siteConfig.appSettings", [])
    if isinstance(entries, dict) and entries.get("function", {}).get("type") == "concat":
        parts = entries["function"]["parameters"].values()
        entries = [entry for part in parts if isinstance(part, list) for entry in part]
    return {entry["name"]: entry["value"] for entry in entries}


def unquote(key: str) -> str:
    return key[1:-1] if len(key) >= 2 and key[0] == key[-1] == "'" else key
