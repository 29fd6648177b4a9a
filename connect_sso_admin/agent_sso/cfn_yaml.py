"""Reads CloudFormation YAML (short-form tags such as ``!Sub``) and writes it back in long form.

Short tags become their JSON equivalents (``!Sub x`` -> ``{"Fn::Sub": x}``), so a loaded template is the same
dict as its JSON form. Output uses long form only, which every YAML reader understands, and literal blocks for
multi-line strings so that embedded metadata stays readable in a review.
"""

from typing import Any

import yaml


class _CfnLoader(yaml.SafeLoader):
    """SafeLoader (no arbitrary objects) that knows CloudFormation's short-form tags."""


def _intrinsic(loader: _CfnLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "Condition":
        return {"Condition": value}
    if suffix == "GetAtt" and isinstance(value, str):
        return {"Fn::GetAtt": value.split(".", 1)}
    return {f"Fn::{suffix}": value}


def _no_duplicate_keys(loader: _CfnLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    keys = [loader.construct_object(key_node, deep=deep) for key_node, _ in node.value]
    duplicates = sorted({str(key) for key in keys if keys.count(key) > 1})
    if duplicates:
        raise yaml.constructor.ConstructorError(None, None, f"duplicate keys {duplicates}", node.start_mark)
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


_CfnLoader.add_multi_constructor("!", _intrinsic)
_CfnLoader.construct_mapping = _no_duplicate_keys  # type: ignore[method-assign,assignment]


class _CfnDumper(yaml.SafeDumper):
    """SafeDumper writing multi-line strings as literal blocks and no anchors (CloudFormation rejects aliases)."""

    def ignore_aliases(self, data: Any) -> bool:  # noqa: ARG002 -- signature of yaml.SafeDumper
        return True


def _string(dumper: _CfnDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_CfnDumper.add_representer(str, _string)


def load_template(text: str) -> dict[str, Any]:
    template = yaml.load(text, Loader=_CfnLoader)  # noqa: S506 -- _CfnLoader derives from SafeLoader
    if not isinstance(template, dict) or "Resources" not in template:
        raise ValueError("not a CloudFormation template (no Resources section)")
    return template


def dump_template(template: dict[str, Any]) -> str:
    return yaml.dump(template, Dumper=_CfnDumper, sort_keys=False, width=120, allow_unicode=False)
