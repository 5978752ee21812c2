"""Validate a custom resource against its CRD in platform/crds, with the plan's closed schemas
(tools/plan/crds.py: unknown fields refused unless preserved, ``x-kubernetes-*`` dropped, Go patterns)."""

from __future__ import annotations

from typing import Any

from tools.plan.crds import validator_for


def validate_custom_resource(manifest: dict[str, Any]) -> None:
    """Raise ``jsonschema.ValidationError`` if ``manifest`` breaks its CRD; ``LookupError`` without a CRD."""
    validator_for(str(manifest.get("apiVersion", "")), str(manifest.get("kind", ""))).validate(manifest)
