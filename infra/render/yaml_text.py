"""YAML output that stays readable in snapshots: multi-line strings as literal blocks, key order kept."""

from __future__ import annotations

from typing import Any

import yaml


class _LiteralDumper(yaml.SafeDumper):
    """SafeDumper that writes multi-line strings with ``|`` instead of escaped one-liners."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_LiteralDumper.add_representer(str, _represent_str)


def dump(document: Any) -> str:
    return yaml.dump(document, Dumper=_LiteralDumper, sort_keys=False, default_flow_style=False, width=120)


def dump_all(documents: list[Any]) -> str:
    return yaml.dump_all(
        documents, Dumper=_LiteralDumper, sort_keys=False, default_flow_style=False, width=120
    )
