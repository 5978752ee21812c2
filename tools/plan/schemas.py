"""Built-in Kubernetes objects against the OpenAPI schemas of one Kubernetes minor version.

The schemas are the strict ones shipped by ``kubernetes-validate`` (unknown fields are errors, as with
``kubectl apply --validate=strict``). ``kubernetes_validate.validate`` reloads the 1.5 MB definitions file for
every object; here each version's definitions and each kind's validator are loaded once per process.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import jsonschema
import kubernetes_validate
from kubernetes_validate import utils as kv
from referencing import Registry, Resource

from tools.plan.findings import Finding, json_path

_GROUP_DOMAIN = re.compile(r"^([^./]*)(?:\.[^/]*)?/")


class UnsupportedVersion(ValueError):
    """kubernetes-validate ships no schemas for this Kubernetes minor version."""


class UnknownKind(LookupError):
    """No built-in schema for this apiVersion and kind."""


def supported_versions() -> list[str]:
    return [kv.major_minor(version) for version in kv.all_versions()]


def minor_version(version: str) -> str:
    """``1.34.2`` / ``v1.34`` → ``1.34``, if kubernetes-validate ships its schemas."""
    minor = kv.major_minor(version.removeprefix("v"))
    if minor not in supported_versions():
        raise UnsupportedVersion(
            f"kubernetes-validate {kubernetes_validate.__version__} ships schemas for Kubernetes "
            f"{', '.join(supported_versions())}, not {minor}"
        )
    return str(minor)


@cache
def _registry(minor: str) -> Registry[Any]:
    definitions = kv.schema_contents(
        f"kubernetes-json-schema/v{minor}.0-local-strict/_definitions.json", minor
    )
    return Resource.from_contents(definitions) @ Registry()


@cache
def validator(minor: str, api_version: str, kind: str) -> jsonschema.protocols.Validator:
    """The strict schema of a built-in kind (UnknownKind if Kubernetes ``minor`` has none)."""
    file_api = _GROUP_DOMAIN.sub(r"\1-", api_version)
    try:
        schema = kv.schema_contents(
            f"kubernetes-json-schema/v{minor}.0-local-strict/{kind.lower()}-{file_api}.json", minor
        )
    except FileNotFoundError:
        raise UnknownKind(f"no built-in kind {kind} in {api_version} for Kubernetes {minor}") from None
    registry = Resource.from_contents(schema) @ _registry(minor)
    validator_class = jsonschema.validators.Draft202012Validator
    return validator_class(schema, registry=registry)


def is_built_in(minor: str, api_version: str, kind: str) -> bool:
    try:
        validator(minor, api_version, kind)
    except UnknownKind:
        return False
    return True


def validate(manifest: dict[str, Any], minor: str, subject: str) -> list[Finding]:
    """Every schema error of one built-in object (raises UnknownKind for kinds the schemas do not have)."""
    schema = validator(minor, str(manifest.get("apiVersion")), str(manifest.get("kind")))
    errors = sorted(schema.iter_errors(manifest), key=lambda error: list(map(str, error.absolute_path)))
    return [
        Finding("schema", subject, json_path(error.absolute_path), f"{_message(error)} (Kubernetes {minor})")
        for error in errors
    ]


def _message(error: jsonschema.ValidationError) -> str:
    """The most specific reason: a ``oneOf``/``anyOf`` failure reports its best-matching branch."""
    if error.context:
        best = jsonschema.exceptions.best_match(error.context)
        if best is not None:
            return str(best.message)
    return str(error.message)
