"""Validate a custom resource against its CRD in platform/crds (`spec.versions[].schema.openAPIV3Schema`).

The API server silently prunes unknown fields of a custom resource, so the schema is closed here: an object
with ``properties`` admits no other key unless it says ``x-kubernetes-preserve-unknown-fields``. Other
``x-kubernetes-*`` extensions are dropped; ``x-kubernetes-int-or-string`` and ``nullable`` keep their meaning.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

CRD_DIR = Path(__file__).resolve().parents[2] / "platform" / "crds"
_NESTED_MAPS = ("properties", "patternProperties")
_NESTED_ONE = ("items", "additionalProperties", "not")
_NESTED_LISTS = ("allOf", "anyOf", "oneOf")


def _closed(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    schema: dict[str, Any] = {}
    for key, value in node.items():
        if key.startswith("x-kubernetes-"):
            continue
        if key in _NESTED_MAPS:
            schema[key] = {name: _closed(sub) for name, sub in value.items()}
        elif key in _NESTED_LISTS:
            schema[key] = [_closed(sub) for sub in value]
        elif key in _NESTED_ONE:
            schema[key] = _closed(value)
        else:
            schema[key] = value
    if node.get("x-kubernetes-int-or-string") is True and "type" not in node:
        schema["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if schema.pop("nullable", False) is True and isinstance(schema.get("type"), str):
        schema["type"] = [schema["type"], "null"]
    preserve = node.get("x-kubernetes-preserve-unknown-fields") is True
    if "properties" in schema and "additionalProperties" not in schema and not preserve:
        schema["additionalProperties"] = False
    return schema


@cache
def _schemas() -> dict[tuple[str, str], dict[str, Any]]:
    """(apiVersion, kind) → closed schema, for every CRD file."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for path in sorted(CRD_DIR.glob("*.yaml")):
        crd = yaml.load(
            path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        )
        spec = crd["spec"]
        for version in spec["versions"]:
            key = (f"{spec['group']}/{version['name']}", spec["names"]["kind"])
            found[key] = _closed(version["schema"]["openAPIV3Schema"])
    return found


def validate_custom_resource(manifest: dict[str, Any]) -> None:
    """Raise ``jsonschema.ValidationError`` if ``manifest`` breaks its CRD; ``LookupError`` without a CRD."""
    key = (manifest.get("apiVersion", ""), manifest.get("kind", ""))
    schema = _schemas().get(key)
    if schema is None:
        raise LookupError(f"no CRD in {CRD_DIR} for {key[0]} {key[1]}")
    # Not jsonschema.validate: it checks the schema itself with Python's re, which rejects the Go-style
    # pattern ^(?i)(abort|warn)?$ of PrometheusRule's partial_response_strategy.
    jsonschema.Draft7Validator(schema).validate(manifest)
