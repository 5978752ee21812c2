"""Custom resources against the CRDs kept in ``platform/crds/`` (their ``openAPIV3Schema``, via jsonschema).

The API server prunes unknown fields of a custom resource silently; a typo in a key would vanish at ``pulumi
up``. So, as with the built-in strict schemas, an object schema with ``properties`` admits no other key unless
it says ``x-kubernetes-preserve-unknown-fields``. The other ``x-kubernetes-*`` extensions are dropped;
``nullable`` and ``x-kubernetes-int-or-string`` keep their meaning, and Go (RE2) patterns become Python ones
(RE2 accepts ``^(?i)...``, Python only takes inline flags at the very start).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from tools.plan.findings import Finding, json_path

CRD_DIR = Path(__file__).resolve().parents[2] / "platform" / "crds"
_SCHEMA_MAPS = ("properties", "patternProperties", "definitions")
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf")
_SCHEMA_VALUES = ("items", "additionalProperties", "not")
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_INLINE_FLAGS = re.compile(r"\(\?([aiLmsux]+)\)")


@dataclass(frozen=True)
class Crd:
    group: str
    kind: str
    namespaced: bool
    versions: Mapping[str, Mapping[str, Any]]
    """version name → its entry of ``spec.versions`` (``served``, ``schema``)."""
    source: str
    """File name in platform/crds/."""


def strict_schema(node: Any, preserve_unknown: bool = False) -> Any:
    """A CRD structural schema as plain JSON Schema, closed to unknown fields (see the module docstring)."""
    if not isinstance(node, dict):
        return node
    preserve = node.get("x-kubernetes-preserve-unknown-fields") is True
    schema: dict[str, Any] = {}
    for key, value in node.items():
        if key.startswith("x-kubernetes-"):
            continue
        if key in _SCHEMA_MAPS and isinstance(value, dict):
            schema[key] = {name: strict_schema(sub) for name, sub in value.items()}
        elif key in _SCHEMA_LISTS and isinstance(value, list):
            schema[key] = [strict_schema(sub) for sub in value]
        elif key in _SCHEMA_VALUES:
            schema[key] = strict_schema(value)
        elif key == "pattern" and isinstance(value, str):
            schema[key] = python_pattern(value)
        else:
            schema[key] = value
    if node.get("x-kubernetes-int-or-string") is True and "type" not in node and "anyOf" not in node:
        schema["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if schema.pop("nullable", False) is True and isinstance(schema.get("type"), str):
        schema["type"] = [schema["type"], "null"]
    if "properties" in schema and "additionalProperties" not in schema and not (preserve or preserve_unknown):
        schema["additionalProperties"] = False
    return schema


def python_pattern(pattern: str) -> str:
    """A Go regular expression whose inline flags sit mid-pattern (``^(?i)(abort|warn)?$``) as Python
    accepts it: the flags moved to the front (they then also cover the anchors before them, which have no
    case)."""
    flags = "".join(_INLINE_FLAGS.findall(pattern))
    if not flags or pattern.startswith(f"(?{flags})"):
        return pattern
    return f"(?{''.join(sorted(set(flags)))})" + _INLINE_FLAGS.sub("", pattern)


@cache
def catalogue(crd_dir: Path = CRD_DIR) -> dict[tuple[str, str], Crd]:
    """(group, kind) → CRD, for every CustomResourceDefinition file in ``crd_dir``."""
    found: dict[tuple[str, str], Crd] = {}
    for path in sorted(crd_dir.glob("*.yaml")):
        for document in yaml.load_all(path.read_text(encoding="utf-8"), Loader=_Loader):
            if not isinstance(document, dict) or document.get("kind") != "CustomResourceDefinition":
                continue
            spec = document["spec"]
            crd = Crd(
                group=spec["group"],
                kind=spec["names"]["kind"],
                namespaced=spec.get("scope", "Namespaced") == "Namespaced",
                versions={version["name"]: version for version in spec["versions"]},
                source=path.name,
            )
            found[(crd.group, crd.kind)] = crd
    return found


def cluster_scoped_kinds(crds: Iterable[Crd]) -> frozenset[str]:
    return frozenset(crd.kind for crd in crds if not crd.namespaced)


@cache
def _validator(crd_dir: Path, group: str, kind: str, version: str) -> jsonschema.protocols.Validator:
    crd = catalogue(crd_dir)[(group, kind)]
    schema = strict_schema(crd.versions[version]["schema"]["openAPIV3Schema"])
    return jsonschema.validators.Draft7Validator(schema)


def validator_for(api_version: str, kind: str, crd_dir: Path = CRD_DIR) -> jsonschema.protocols.Validator:
    """The closed schema of ``kind`` in ``api_version`` (LookupError without a CRD serving that version)."""
    group, _, version = api_version.rpartition("/")
    crd = catalogue(crd_dir).get((group, kind))
    if crd is None or not crd.versions.get(version, {}).get("served", False):
        raise LookupError(f"no CRD in {crd_dir} serves {api_version} {kind}")
    return _validator(crd_dir, group, kind, version)


def validate(
    manifest: dict[str, Any], group: str, version: str, kind: str, subject: str, crd_dir: Path = CRD_DIR
) -> list[Finding]:
    """Schema errors of one custom resource; an unknown kind or an unserved version is a finding too."""
    crd = catalogue(crd_dir).get((group, kind))
    if crd is None:
        known = ", ".join(f"{k} ({g})" for g, k in sorted(catalogue(crd_dir))) or "none"
        return [
            Finding(
                "crd",
                subject,
                "",
                f"no CustomResourceDefinition for {kind} in group {group} under platform/crds/ "
                f"(known: {known}); add the CRD of the version the platform installs",
            )
        ]
    entry = crd.versions.get(version)
    if entry is None or not entry.get("served", False):
        served = ", ".join(name for name, item in crd.versions.items() if item.get("served")) or "none"
        return [
            Finding("crd", subject, "apiVersion", f"{group}/{version} is not served by the CRD ({served})")
        ]
    validator = _validator(crd_dir, group, kind, version)
    errors = sorted(validator.iter_errors(manifest), key=lambda error: list(map(str, error.absolute_path)))
    findings = [
        Finding("crd", subject, json_path(error.absolute_path), f"{error.message} ({crd.source})")
        for error in errors
    ]
    metadata = manifest.get("metadata")
    if not crd.namespaced and isinstance(metadata, dict) and metadata.get("namespace"):
        findings.append(Finding("crd", subject, "metadata.namespace", f"{kind} is cluster-scoped"))
    return findings
